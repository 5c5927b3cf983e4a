#!/usr/bin/env python3
"""A session cache keyed by secret tokens that nothing ever evicts: every request stores
a Session in a module-level dict under a key "SECRET-<token>-<n>", ~300/s (--rate). The
keys stand for the private data a real cache is keyed by (request ids, user names,
tokens): what holds the leak is that dict, and a holder search must name it without
showing the keys unless told to.

Usage: leak_secret_keys.py [--seconds N] [--rate SESSIONS_PER_S]   (default: forever)
Prints one JSON line first, its truth: {"global": name of the dict, "type": the leaking
class as leakd names it, "token": the random letters every key holds}. The keys are
letters only (the counter in base 26), so leakd's collapsing of digit runs leaves them
whole when keys are shown. Works with Python 3.6 and later.
"""
import json
import random
import string
import sys

import paced

TOKEN = "".join(random.SystemRandom().choice(string.ascii_lowercase) for _ in range(16))


class Session(object):
    def __init__(self, user, n):
        self.user = user
        self.hits = n
        self.data = {"n": n}


SESSIONS = {}


def letters(n):
    out = ""
    while True:
        out = string.ascii_lowercase[n % 26] + out
        n //= 26
        if not n:
            return out


def handle_request(n):
    key = "SECRET-%s-%s" % (TOKEN, letters(n))
    SESSIONS[key] = Session("user-%s" % letters(n), n)
    # request work: temporaries that die at the end of the call
    body = {"path": "/s/%d" % n, "args": [n, n + 1]}
    return len(body["path"]) + sum(body["args"])


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=int, default=300, help="Sessions leaked per second")
    args = ap.parse_args()
    per_tick = max(1, int(args.rate * paced.TICK))
    print(json.dumps({"global": "SESSIONS", "type": "%s.%s" % (Session.__module__, Session.__name__),
                      "token": TOKEN}))
    sys.stdout.flush()

    def step(t):
        for n in range(t * per_tick, (t + 1) * per_tick):
            handle_request(n)

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
