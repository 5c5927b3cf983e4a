#!/usr/bin/env python3
"""A heap of a given size for the census benchmark: --objects N reachable objects
in the shape of a service's state, a module-level list of records, each a tracked
instance (__slots__) holding an untracked str, int and float (N/4 records, so N
objects plus the interpreter's own). Builds it, collects, prints one JSON line
{"objects": N, "records": N/4, "tracked": len(gc.get_objects())}, then "ready",
then sleeps (--seconds, default forever) so leakd can attach.

Usage: bench_heap.py --objects N [--seconds S]
"""
import gc
import json
import sys
import time

import paced

STATE = []


class Record(object):
    __slots__ = ("name", "n", "score")

    def __init__(self, i):
        self.name = "record-%09d" % i
        self.n = 10 ** 6 + i
        self.score = i * 0.5


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--objects", type=int, required=True)
    args = ap.parse_args()
    records = args.objects // 4
    gc.disable()  # building is faster without collections; the census does not care
    STATE.extend(Record(i) for i in range(records))
    gc.enable()
    gc.collect()
    sys.stdout.write(json.dumps({"objects": args.objects, "records": records,
                                 "tracked": len(gc.get_objects())}) + "\n")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.monotonic()
    while args.seconds is None or time.monotonic() - start < args.seconds:
        time.sleep(0.2)


if __name__ == "__main__":
    paced.main_quietly(main)
