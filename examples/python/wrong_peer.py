#!/usr/bin/env python3
"""peer.py with one deliberate bug, for showing that `coordkit harness` catches it: a vote is
granted to any up-to-date candidate of the current term, even after this node already voted for
another candidate in that term (it forgets to check `votedFor`). Two leaders can then be elected
in one term. Same arguments as peer.py.
"""
import sys

import peer


class WrongNode(peer.Node):
    def may_vote(self, candidate, msg):
        return msg["term"] == self.term and msg["version"] >= self.data["version"]


if __name__ == "__main__":
    peer.main(sys.argv[1:], WrongNode)
