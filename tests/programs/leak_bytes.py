"""Keeps bytes objects made on one line and churns bytes on another, for
trace mode's byte samples (leakd --mode trace --sample-bytes): the kept
ones must be attributed to their line with about their real size, the churn
line must not come first. It keeps --kept objects of --size bytes at the
start, then only churns (2,000 a second), so what it keeps is exact.

With --truth FILE it writes JSON once the kept set is complete:
{"type": "bytes", "kept_bytes": n (sys.getsizeof of each), "kept": count,
 "line": the keeping line, "churn_line": the churning line, "file": path,
 "function": the keeping function's name}.
Usage: leak_bytes.py [--seconds N] [--kept N] [--size N] [--truth FILE]
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


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--kept", type=int, default=12000)
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--truth", default=None)
    args = ap.parse_args()
    # all kept at once, before the churn: the truth then holds to the end
    keep(args.kept, args.size)
    if args.truth:
        code = keep.__code__
        with open(code.co_filename) as src:
            lines = src.readlines()
        line = next(i for i, l in enumerate(lines, 1) if "# the line that keeps" in l)
        churn_line = next(i for i, l in enumerate(lines, 1) if "# the line that churns" in l)
        with open(args.truth, "w") as f:
            json.dump({"type": type(KEPT[0]).__name__, "kept": len(KEPT),
                       "kept_bytes": sum(sys.getsizeof(b) for b in KEPT),
                       "line": line, "churn_line": churn_line, "file": code.co_filename,
                       "function": code.co_name}, f)
    paced.run(lambda tick: churn(100, args.size), args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
