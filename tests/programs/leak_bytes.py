"""Keeps bytes objects made on one line and churns bytes on another, for
trace mode's byte samples (leakd --mode trace --sample-bytes): the kept
ones must be attributed to their line with about their real size, the churn
line must not come first. It keeps --kept objects of --size bytes at the
start, then only churns (2,000 a second), so what it keeps is exact.

With --grow STEPS the kept and the churned objects are instead bytearrays grown
by STEPS appends of 64 bytes each, so their buffers are reallocated, mostly in
place: each such buffer must count once, at its final size.

With --truth FILE it writes JSON once the kept set is complete:
{"type": "bytes", "kept_bytes": n (sys.getsizeof of each), "kept": count,
 "line": the keeping line, "churn_line": the churning line, "file": path,
 "function": the keeping function's name}.
Usage: leak_bytes.py [--seconds N] [--kept N] [--size N] [--grow STEPS] [--truth FILE]
Works with Python 3.6 and later.
"""
import json
import sys

import paced

KEPT = []


def keep(n, size):
    for i in range(n):
        KEPT.append(b"k" * size + str(i).encode())          # the line that keeps


def churn(n, size):
    total = 0
    for i in range(n):
        total += len(b"c" * size + str(i).encode())        # the line that churns
    return total


CHUNK = b"g" * 64


def keep_grown(n, steps):
    for i in range(n):
        b = bytearray()
        for _ in range(steps):
            b += CHUNK                                      # the line that grows what it keeps
        KEPT.append(b)


def churn_grown(n, steps):
    total = 0
    for i in range(n):
        b = bytearray()
        for _ in range(steps):
            b += CHUNK                                      # the line that grows what it churns
        total += len(b)
    return total


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--kept", type=int, default=12000)
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--grow", type=int, default=0)
    ap.add_argument("--truth", default=None)
    args = ap.parse_args()
    if args.grow:
        kept_fn, churn_fn, size = keep_grown, churn_grown, args.grow
        marks = ("# the line that grows what it keeps", "# the line that grows what it churns")
        # the buffer is a block of its own, which holds no object: leakd's "(buffer)"
        typ, sizeof = "(buffer)", lambda b: b.__alloc__()
    else:
        kept_fn, churn_fn, size = keep, churn, args.size
        marks = ("# the line that keeps", "# the line that churns")
        typ, sizeof = "bytes", sys.getsizeof
    # all kept at once, before the churn: the truth then holds to the end
    kept_fn(args.kept, size)
    if args.truth:
        code = kept_fn.__code__
        with open(code.co_filename) as src:
            lines = src.readlines()
        line = next(i for i, l in enumerate(lines, 1) if marks[0] in l)
        churn_line = next(i for i, l in enumerate(lines, 1) if marks[1] in l)
        with open(args.truth, "w") as f:
            json.dump({"type": typ, "kept": len(KEPT), "kept_bytes": sum(sizeof(b) for b in KEPT),
                       "line": line, "churn_line": churn_line, "file": code.co_filename,
                       "function": code.co_name}, f)
    # 2,000 bytes objects a second, or 240 grown bytearrays (~15,000 reallocations)
    paced.run(lambda tick: churn_fn(12 if args.grow else 100, size), args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
