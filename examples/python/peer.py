#!/usr/bin/env python3
"""A coordkit election node in Python, written from the contract alone: schemas/README.md (wire,
hello, mutual TLS, durability), schemas/election.md (what each state does with each event) and
schemas/election.wire.schema.json (the frames). Standard library only.

    python3 peer.py --id 1 --listen 127.0.0.1:7001 --peers 2=127.0.0.1:7002,3=127.0.0.1:7003 \
        --data ./n1 --cluster demo --tls-dir tls

`--tls-dir` holds ca.pem, node-<id>.pem and node-<id>.key (`coordkit certs` makes them).
One lock serializes every event (peer message, timer, client request), as the machine handles
one event at a time; the durable state is on disk before any message of the step leaves.
"""
import argparse, json, os, random, socket, ssl, sys, threading, time

WIRE_VERSION = 1
ELECTION_MS, HEARTBEAT_MS = (150, 300), 50


class Node:
    def __init__(self, a):
        self.id, self.cluster, self.data_dir = a.id, a.cluster, a.data
        self.peers = {int(k): v for k, v in (p.split("=") for p in a.peers.split(","))}
        self.n = len(self.peers) + 1
        self.lock = threading.RLock()
        self.clients = []  # sockets of connected clients, which get every note
        self.timers = {}  # timer id -> generation; a fired timer of an older generation is void
        tls = a.tls_dir
        me = os.path.join(tls, "node-%d" % self.id)
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client_ctx.check_hostname = False  # the CA-signed common name is checked instead
        for ctx in (self.server_ctx, self.client_ctx):
            ctx.load_cert_chain(me + ".pem", me + ".key")
            ctx.load_verify_locations(os.path.join(tls, "ca.pem"))
            ctx.verify_mode = ssl.CERT_REQUIRED
        s = self.load()
        self.term, self.voted_for, self.data = s["currentTerm"], s.get("votedFor"), s["data"]
        self.state, self.leader, self.votes = "follower", None, set()
        self.links = {p: Link(self, p, addr) for p, addr in self.peers.items()}

    # ---- durable state (schemas/README.md, "Durability duties") ----
    def path(self):
        return os.path.join(self.data_dir, "state.json")

    def load(self):
        try:
            with open(self.path(), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {"currentTerm": 0, "votedFor": None, "data": {"version": 0, "value": None}}

    def durable(self):
        return {"currentTerm": self.term, "votedFor": self.voted_for, "data": self.data}

    def persist(self):
        os.makedirs(self.data_dir, exist_ok=True)
        tmp = self.path() + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.durable(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path())
        fd = os.open(self.data_dir, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    # ---- one step: handle an event, persist, then send and tell the clients ----
    def step(self, handler, *args):
        with self.lock:
            before = self.durable()
            self.out, self.notes = [], []
            result = handler(*args)
            if self.durable() != before:
                self.persist()
            for to, msg in self.out:
                self.links[to].send({"type": "peer", "from": self.id, "to": to, "msg": msg})
            for note in self.notes:
                for c in list(self.clients):
                    c.send({"type": "note", "node": self.id, "note": note})
            return result

    def send(self, to, msg):
        for p in (self.peers if to == "others" else [to]):
            self.out.append((p, msg))

    def note(self, **fields):
        self.notes.append(fields)

    def arm(self, timer, ms, event):
        gen = self.timers.get(timer, 0) + 1
        self.timers[timer] = gen
        def fire():
            with self.lock:
                if self.timers.get(timer) == gen:
                    del self.timers[timer]
                    self.step(event)
        t = threading.Timer(ms / 1000, fire)
        t.daemon = True
        t.start()

    def cancel(self, timer):
        self.timers.pop(timer, None)

    def arm_election(self):
        self.arm("election", random.uniform(*ELECTION_MS), self.election_timeout)

    # ---- states (entry actions) ----
    def enter(self, state):
        if self.state == "leader":
            self.cancel("heartbeat")
        self.state = state
        if state == "follower":
            self.arm_election()
            self.votes = set()
        elif state == "precandidate":
            self.arm_election()
            self.votes, self.leader = {self.id}, None
            self.send("others", {"type": "pre_vote_request", "term": self.term + 1, "version": self.data["version"]})
        elif state == "candidate":
            self.arm_election()
            self.term, self.voted_for, self.votes, self.leader = self.term + 1, self.id, {self.id}, None
            self.note(type="term", term=self.term)
            self.note(type="voted", term=self.term, **{"for": self.id})
            self.send("others", {"type": "vote_request", "term": self.term, "version": self.data["version"]})
        elif state == "leader":
            self.cancel("election")
            self.leader = self.id
            self.note(type="elected", term=self.term, votes=sorted(self.votes))
            self.announce()
            self.arm("heartbeat", HEARTBEAT_MS, self.heartbeat)

    # ---- actions ----
    def adopt_term(self, term):
        self.term, self.voted_for, self.leader, self.votes = term, None, None, set()
        self.note(type="term", term=term)

    def may_vote(self, candidate, msg):
        return msg["term"] == self.term and self.voted_for in (None, candidate) and msg["version"] >= self.data["version"]

    def answer_vote(self, frm, msg):
        granted = self.may_vote(frm, msg)
        if granted:
            self.voted_for = frm
            self.note(type="voted", term=self.term, **{"for": frm})
            self.arm_election()
        self.send(frm, {"type": "vote", "term": self.term, "granted": granted})

    def announce(self):
        self.send("others", {"type": "leader_announce", "term": self.term, "version": self.data["version"]})

    def follow_and_ack(self, frm):
        if self.leader != frm:
            self.leader = frm
            self.note(type="accept_leader", term=self.term, leader=frm)
        self.send(frm, {"type": "leader_ack", "term": self.term, "version": self.data["version"]})

    # ---- events ----
    def election_timeout(self):
        self.enter("precandidate")

    def heartbeat(self):
        self.announce()
        self.arm("heartbeat", HEARTBEAT_MS, self.heartbeat)

    def peer_message(self, frm, m):
        t = m["type"]
        # A refused pre-vote carries the refuser's term; a granted one the term asked for.
        carries_term = t in ("vote_request", "vote", "leader_ack", "leader_announce") or (t == "pre_vote" and not m["granted"])
        higher = carries_term and m["term"] > self.term
        if t == "pre_vote_request":
            granted = m["term"] > self.term and m["version"] >= self.data["version"] and self.leader is None
            self.send(frm, {"type": "pre_vote", "term": m["term"] if granted else self.term, "granted": granted})
        elif t == "vote_request":
            if higher:
                self.adopt_term(m["term"])
            self.answer_vote(frm, m)
            if higher:
                self.enter("follower")
        elif t in ("vote", "leader_ack", "pre_vote") and higher:
            self.adopt_term(m["term"])
            self.enter("follower")
        elif t == "vote" and self.state == "candidate" and m["granted"] and m["term"] == self.term:
            self.votes.add(frm)
            if len(self.votes) > self.n // 2:
                self.enter("leader")
        elif t == "pre_vote" and self.state == "precandidate" and m["granted"] and m["term"] == self.term + 1:
            self.votes.add(frm)
            if len(self.votes) > self.n // 2:
                self.enter("candidate")
        elif t == "leader_ack" and self.state == "leader" and m["term"] == self.term and m["version"] < self.data["version"]:
            self.send(frm, {"type": "state_sync", "term": self.term, "data": self.data})
        elif t == "leader_announce":
            if higher:
                self.adopt_term(m["term"])
            if higher or m["term"] == self.term:
                self.follow_and_ack(frm)
                self.enter("follower")
            else:
                self.send(frm, {"type": "leader_ack", "term": self.term, "version": self.data["version"]})
        elif t == "state_sync" and m["term"] >= self.term and m["data"]["version"] > self.data["version"]:
            self.data = m["data"]
            self.note(type="synced", term=self.term, version=self.data["version"])

    def client_request(self, r):
        if r["type"] == "client.set" and self.state == "leader":
            self.data = {"version": self.data["version"] + 1, "value": r["value"]}
            self.note(type="written", term=self.term, version=self.data["version"])
            self.announce()
        elif r["type"] == "client.set":
            self.note(type="not_leader", term=self.term, leader=self.leader)
        elif r["type"] == "client.get":
            self.note(type="value", term=self.term, version=self.data["version"], value=self.data["value"], leader=self.leader)
        return self.state, list(self.notes)

    # ---- connections ----
    def serve(self, listen):
        host, _, port = listen.rpartition(":")
        server = socket.create_server((host, int(port)))
        with self.lock:
            self.enter("follower")
        while True:
            sock, _ = server.accept()
            threading.Thread(target=self.connection, args=(sock,), daemon=True).start()

    def connection(self, raw):
        conn = None
        try:
            raw.settimeout(5)  # the TLS handshake and the hello
            conn = Conn(self.server_ctx.wrap_socket(raw, server_side=True))
            cn = conn.peer_name()
            hello = conn.read()
            conn.sock.settimeout(None)
            claimed = "node-%s" % hello.get("node") if "node" in hello else "client-%s" % hello.get("client")
            ok = hello.get("type") == "hello" and hello.get("cluster") == self.cluster and hello.get("version") == WIRE_VERSION
            if not ok or (claimed != cn and cn != "admin-%s" % hello.get("client")) or ("node" in hello and hello["node"] not in self.peers):
                return conn.send({"type": "error", "reason": "hello refused: %s with a certificate for %s" % (json.dumps(hello), cn)})
            conn.send({"type": "hello", "cluster": self.cluster, "version": WIRE_VERSION, "node": self.id, "primitive": "election"})
            if "node" in hello:
                self.from_peer(conn, hello["node"])
            else:
                self.from_client(conn)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        finally:
            (conn.sock if conn else raw).close()

    def from_peer(self, conn, peer):
        while True:
            f = conn.read()
            if f.get("type") != "peer" or f.get("from") != peer or f.get("to") != self.id or not isinstance(f.get("msg"), dict):
                conn.send({"type": "error", "reason": "not a peer frame of node %d to node %d" % (peer, self.id)})
                continue
            self.step(self.peer_message, peer, f["msg"])

    def from_client(self, conn):
        with self.lock:
            self.clients.append(conn)
        try:
            while True:
                f = conn.read()
                rid, r = f.get("id"), f.get("request") or {}
                if f.get("type") != "request" or not isinstance(rid, int):
                    conn.send({"type": "error", "reason": "expected a request frame"})
                elif r.get("type") == "client.status":
                    with self.lock:
                        conn.send({"type": "status", "id": rid, "node": self.id, "primitive": "election", "state": self.state, "round": self.term,
                                   "leader": self.leader, "connected": sorted(p for p, l in self.links.items() if l.up), "authenticated": True})
                elif r.get("type") in ("client.set", "client.get"):
                    state, notes = self.step(self.client_request, r)
                    refused = [x for x in notes if x["type"] == "not_leader"]
                    if refused:
                        conn.send({"type": "error", "id": rid, "reason": "client.set refused: not_leader", "note": refused[0]})
                    else:
                        conn.send({"type": "reply", "id": rid, "node": self.id, "state": state, "notes": notes})
                else:
                    conn.send({"type": "error", "id": rid, "reason": "unknown client request"})
        finally:
            with self.lock:
                self.clients.remove(conn)


class Conn:
    """One TLS connection carrying NDJSON frames."""

    def __init__(self, sock):
        self.sock, self.buffer, self.wlock = sock, b"", threading.Lock()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def peer_name(self):
        return dict(x[0] for x in self.sock.getpeercert()["subject"]).get("commonName")

    def send(self, frame):
        with self.wlock:
            try:
                self.sock.sendall(json.dumps(frame).encode() + b"\n")
            except OSError:
                pass

    def read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk or len(self.buffer) > 65536:
                raise OSError("connection closed")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        frame = json.loads(line)
        if not isinstance(frame, dict):
            raise ValueError("not an object")
        return frame


class Link:
    """The outbound connection to one peer: reconnects with backoff; frames sent while it is down are lost."""

    def __init__(self, node, peer, address):
        self.node, self.peer, self.address, self.conn, self.up = node, peer, address, None, False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        backoff = 0.025
        host, _, port = self.address.rpartition(":")
        while True:
            conn = None
            try:
                conn = Conn(self.node.client_ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=2)))
                if conn.peer_name() != "node-%d" % self.peer:
                    raise OSError("certificate of %s is not node-%d" % (self.address, self.peer))
                conn.send({"type": "hello", "cluster": self.node.cluster, "version": WIRE_VERSION, "node": self.node.id})
                conn.sock.settimeout(None)
                self.conn, self.up, backoff = conn, True, 0.025
                while True:
                    conn.read()  # the peer's hello, or errors: informational
            except (OSError, ValueError):
                self.up, self.conn = False, None
                if conn:
                    conn.sock.close()
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.4)

    def send(self, frame):
        if self.up and self.conn:
            self.conn.send(frame)


def main(argv, node_class=Node):
    p = argparse.ArgumentParser(description="a coordkit election node")
    for flag in ("--listen", "--peers", "--data", "--cluster", "--tls-dir"):
        p.add_argument(flag, required=True)
    p.add_argument("--id", type=int, required=True)
    a = p.parse_args(argv)
    node = node_class(a)
    node.serve(a.listen)


if __name__ == "__main__":
    main(sys.argv[1:])
