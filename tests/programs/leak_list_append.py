#!/usr/bin/env python3
"""Leaks Record objects: every tick appends copies of incoming items to a module-level
list that is never trimmed (~2,000 Records/s), amid ordinary churn of temporaries that
die young, so the floor of live objects rises steadily while the GC keeps running.

With --truth FILE it writes, as JSON, the holder path leakd must find for the Records
(a regular expression over its text), from the program's own names.

Usage: leak_list_append.py [--seconds N] [--rate OBJECTS_PER_S] [--truth FILE]
Works with Python 3.6 and later; prints nothing.
"""
import json
import re

import paced

HISTORY = []  # the leak: grows forever, nobody reads it back


class Record(object):
    def __init__(self, seq, name, tags, payload):
        self.seq = seq
        self.name = name
        self.tags = tags
        self.payload = payload


def handle_batch(seq0, n):
    """Processes n incoming items; keeps a copy of each 'for auditing'."""
    total = 0
    for i in range(n):
        seq = seq0 + i
        # Churn: temporaries that are garbage by the end of the iteration.
        raw = {"id": seq, "user": "user%d" % (seq % 997), "score": seq * 0.5}
        fields = [str(raw["id"]), raw["user"], str(raw["score"])]
        key = tuple(fields)
        total += len(key[1]) + len(",".join(fields))
        HISTORY.append(Record(seq, raw["user"], [seq % 7, seq % 11], dict(raw)))
    return total


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=int, default=2000, help="leaked Records per second")
    ap.add_argument("--truth", default=None, help="write the expected holder path here")
    args = ap.parse_args()
    if args.truth:
        name = "%s.%s" % (Record.__module__, Record.__qualname__)
        with open(args.truth, "w") as f:
            json.dump({"holders": {name: r"module %s \. HISTORY \(list\) \[\*\] -> %s" % (
                re.escape(__name__), re.escape(name))}}, f)
    per_tick = max(1, int(args.rate * paced.TICK))
    paced.run(lambda n: handle_batch(n * per_tick, per_tick), args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
