#!/usr/bin/env python3
"""A coordkit client in Python, written from schemas/README.md and the schemas alone.

Standard library only; when the `jsonschema` module is importable, every frame received is
validated against the schemas. Give it the nodes of one or more running clusters; it says hello
to each, learns which primitive each runs, and then:

  election   asks every node for its status and prints the leader and term;
  mutex      acquires the lock at one node, prints the fencing token, releases it;
  consensus  proposes two values, one after the other, at one node and prints the slot of the
             log and the value decided there for each;
  barrier    arrives at every barrier node and prints the releases.

A primitive no given node runs is reported and skipped. Exit 0 when every operation attempted
succeeded, 1 when one failed or timed out, 2 on bad arguments.

    python3 client.py --cluster demo 127.0.0.1:7001 127.0.0.1:7101

Nodes speak mutual TLS (schemas/README.md): give the folder holding ca.pem and this client's
client-<name>.pem / client-<name>.key (`coordkit cluster` makes client-user in <out>/tls,
`coordkit certs --clients NAME` makes others); plain TCP only reaches nodes started --insecure:

    python3 client.py --cluster demo --tls-dir tls --tls-name user 127.0.0.1:7001
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time

WIRE_VERSION = 1
MAX_FRAME_BYTES = 65536
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import jsonschema
except ImportError:
    jsonschema = None


class ProtocolError(Exception):
    pass


class Schemas:
    """The generated schemas, used to validate what nodes send (when jsonschema is present)."""

    def __init__(self, folder):
        self.folder = folder
        self.docs = {}
        self.validated = 0

    def load(self, name):
        if name not in self.docs:
            path = os.path.join(self.folder, name + ".schema.json")
            try:
                with open(path, encoding="utf-8") as f:
                    self.docs[name] = json.load(f)
            except OSError:
                self.docs[name] = None
        return self.docs[name]

    def types_of(self, primitive, definition):
        """The `type` constants of a union definition (Message, Client, Note) of a primitive."""
        doc = self.load(primitive)
        if doc is None:
            return []
        defs = doc["definitions"]
        node = defs[definition]
        while "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        out = []
        for member in node.get("oneOf", [node]):
            while "$ref" in member:
                member = defs[member["$ref"].split("/")[-1]]
            out.append(member["properties"]["type"]["const"])
        return out

    def check(self, doc_name, definition, instance):
        """Validates against one definition of a schema document, or the whole document when `definition` is None."""
        if jsonschema is None:
            return
        doc = self.load(doc_name)
        if doc is None:
            raise ProtocolError("no schema %s.schema.json to validate against" % doc_name)
        root = doc
        if definition is not None:
            # A copy of the document whose root refers to one definition: no cross-document refs needed.
            root = {"$schema": doc["$schema"], "$ref": "#/definitions/" + definition, "definitions": doc["definitions"]}
        try:
            jsonschema.Draft7Validator(root).validate(instance)
        except jsonschema.ValidationError as e:
            raise ProtocolError("frame fails %s%s: %s" % (doc_name, "" if definition is None else "#/definitions/" + definition, e.message))
        self.validated += 1


class Node:
    """One connection to one node: hello, requests by id, pushed notes."""

    def __init__(self, address, cluster, schemas, timeout_s, tls=None, tls_name=None):
        host, _, port = address.rpartition(":")
        self.address = address
        self.schemas = schemas
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock)
            subject = dict(x[0] for x in self.sock.getpeercert()["subject"])
            if not subject.get("commonName", "").startswith("node-"):
                raise ProtocolError("%s presents a certificate for %r, not a node" % (address, subject.get("commonName")))
        self.buffer = b""
        self.notes = []
        self.next_id = 1
        name = "python-example" if tls is None else tls_name
        self.send({"type": "hello", "cluster": cluster, "version": WIRE_VERSION, "client": name})
        hello = self.read()
        if hello.get("type") != "hello":
            raise ProtocolError("%s answered %s instead of hello" % (address, hello))
        self.id = hello["node"]
        self.primitive = hello["primitive"]

    def send(self, frame):
        self.sock.sendall(json.dumps(frame).encode("utf-8") + b"\n")

    def read(self, deadline=None):
        while b"\n" not in self.buffer:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError()
                self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("%s closed the connection" % self.address)
            self.buffer += chunk
            if len(self.buffer) > MAX_FRAME_BYTES + 1 and b"\n" not in self.buffer:
                raise ProtocolError("%s sent a frame over %d bytes" % (self.address, MAX_FRAME_BYTES))
        line, _, self.buffer = self.buffer.partition(b"\n")
        frame = json.loads(line)
        # Before the node's hello names its primitive, the envelope; after, the primitive's wire
        # schema, which settles a whole frame (the notes it carries included) in one validation.
        primitive = getattr(self, "primitive", None)
        if primitive:
            self.schemas.check(primitive + ".wire", None, frame)
        else:
            self.schemas.check("envelope", "ClientBoundFrame", frame)
        return frame

    def call(self, frame, timeout_s):
        """Sends a request or admin frame and returns the answer with its id; notes meanwhile are kept."""
        frame = dict(frame, id=self.next_id)
        self.next_id += 1
        self.send(frame)
        deadline = time.monotonic() + timeout_s
        while True:
            answer = self.read(deadline)
            if answer["type"] == "note":
                self.notes.append(answer["note"])
            elif answer.get("id") == frame["id"]:
                if answer["type"] == "error":
                    raise ProtocolError("%s refused %s: %s" % (self.address, frame["request"]["type"], answer["reason"]))
                return answer

    def request(self, request, timeout_s):
        answer = self.call({"type": "request", "request": request}, timeout_s)
        for note in answer.get("notes", []):
            self.notes.append(note)
        return answer

    def wait_note(self, note_type, timeout_s, since=0, match=lambda note: True):
        """The first note of that type (for which `match` holds) at or after index `since` of this connection's notes."""
        deadline = time.monotonic() + timeout_s
        while True:
            for note in self.notes[since:]:
                if note["type"] == note_type and match(note):
                    return note
            try:
                frame = self.read(deadline)
            except TimeoutError:
                raise ProtocolError("no %s note from node %d within %.1f s" % (note_type, self.id, timeout_s))
            if frame["type"] == "note":
                self.notes.append(frame["note"])


def find(types, word):
    return next((t for t in types if word in t), None)


def run_election(nodes, args):
    lines = []
    for n in nodes:
        s = n.call({"type": "request", "request": {"type": "client.status"}}, args.timeout)
        lines.append("node %d %s term %s leader %s" % (s["node"], s["state"], s["round"], s["leader"]))
    print("election: " + "; ".join(lines))


def run_mutex(nodes, args):
    n = nodes[0]
    mark = len(n.notes)
    n.request({"type": "client.acquire"}, args.timeout)
    enter = n.wait_note("enter", args.timeout, mark)
    mark = len(n.notes)
    n.request({"type": "client.release"}, args.timeout)
    n.wait_note("exit", args.timeout, mark)
    print("mutex: node %d granted the lock with fencing token %d (timestamp %d), released it" % (n.id, enter["token"], enter["ts"]))


def run_consensus(nodes, args):
    # The answer to a proposal is a `decision` note naming it: the slot it went to and the value
    # decided there (the proposal's own when it was placed, another's when it was not; value null:
    # the node was proposing another value and did not take this one).
    n = nodes[0]
    told = []
    for value in [args.value, args.value + "-2"]:
        mark = len(n.notes)
        n.request({"type": "client.propose", "value": value}, args.timeout)
        decision = n.wait_note("decision", args.timeout, mark, lambda note: note["proposal"] == value)
        told.append("proposed %s, slot %d decided %s" % (json.dumps(value), decision["slot"], json.dumps(decision["value"])))
    print("consensus: node %d %s" % (n.id, "; ".join(told)))


def run_barrier(nodes, schemas, args):
    arrive = find(schemas.types_of("barrier", "Client"), "arrive")
    notes = schemas.types_of("barrier", "Note")
    release = "released" if "released" in notes else find(notes, "release")
    if arrive is None or release is None:
        raise ProtocolError("the barrier schema has no arrive request or release note")
    marks = [len(n.notes) for n in nodes]
    for n in nodes:
        n.request({"type": arrive}, args.timeout)
    got = [n.wait_note(release, args.timeout, m) for n, m in zip(nodes, marks)]
    print("barrier: %d node(s) arrived, released: %s" % (len(nodes), ", ".join("node %d %s" % (n.id, json.dumps(r)) for n, r in zip(nodes, got))))


def main(argv):
    parser = argparse.ArgumentParser(description="coordkit client example (standard library only)")
    parser.add_argument("nodes", nargs="+", metavar="HOST:PORT")
    parser.add_argument("--cluster", default="coordkit")
    parser.add_argument("--schemas", default=os.path.join(HERE, "..", "..", "schemas"))
    parser.add_argument("--value", default="py-%d" % os.getpid(), help="value to propose")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")
    parser.add_argument("--tls-dir", help="folder with ca.pem and client-NAME.pem/.key: use mutual TLS")
    parser.add_argument("--tls-name", default="user", help="NAME of this client's certificate")
    args = parser.parse_args(argv)
    for a in args.nodes:
        host, sep, port = a.rpartition(":")
        if not sep or not host or not port.isdigit():
            parser.error("nodes are HOST:PORT, got %r" % a)

    schemas = Schemas(args.schemas)
    if schemas.load("envelope") is None:
        print("client.py: no envelope.schema.json in %s" % args.schemas, file=sys.stderr)
        return 2
    tls = None
    if args.tls_dir:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False  # the CA-signed common name is checked instead of the host name
        try:
            tls.load_verify_locations(os.path.join(args.tls_dir, "ca.pem"))
            base = os.path.join(args.tls_dir, "client-" + args.tls_name)
            tls.load_cert_chain(base + ".pem", base + ".key")
        except (OSError, ssl.SSLError) as e:
            print("client.py: cannot load TLS files from %s: %s" % (args.tls_dir, e), file=sys.stderr)
            return 2
    by_primitive = {}
    try:
        for a in args.nodes:
            n = Node(a, args.cluster, schemas, args.timeout, tls, args.tls_name)
            by_primitive.setdefault(n.primitive, []).append(n)
    except (OSError, ProtocolError, ValueError, ssl.SSLError) as e:
        print("client.py: cannot talk to the cluster: %s" % e, file=sys.stderr)
        return 1

    failed = False
    for name in ["election", "mutex", "consensus", "barrier"]:
        nodes = by_primitive.get(name)
        if not nodes:
            known = "" if schemas.load(name) is not None else " (this build has no %s.schema.json: the primitive is not registered)" % name
            print("%s: skipped, no node given runs it%s" % (name, known))
            continue
        try:
            if name == "election":
                run_election(nodes, args)
            elif name == "mutex":
                run_mutex(nodes, args)
            elif name == "consensus":
                run_consensus(nodes, args)
            else:
                run_barrier(nodes, schemas, args)
        except (OSError, ProtocolError, ValueError, KeyError) as e:
            print("%s: FAILED: %s" % (name, e))
            failed = True
    if jsonschema is None:
        print("frames not validated: the jsonschema module is not installed")
    else:
        print("validated %d frames against the schemas" % schemas.validated)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
