#!/usr/bin/env python3
"""A reachable-heap census target with known answers: holds exactly 54,321 distinct
str objects of 40 characters in a module-level list and 4,321 bytes(1000) objects as
the values of a module-level dict (keyed by small ints), none of which the GC tracks.
Prints one JSON line with its own truth (counts and sys.getsizeof sums of exactly
those objects), then "ready", then sleeps, so a test can attach and compare leakd's
str and bytes rows. With --empty it runs the same code but holds none of them: the
baseline of what the interpreter itself holds, to subtract.

Usage: exact_reachable.py [--seconds N] [--empty]
"""
import gc
import json
import sys
import time

N_STR = 54321
N_BYTES = 4321
STRS = []
BLOBS = {}


def main():
    seconds = None
    empty = False
    args = sys.argv[1:]
    while args:
        if args[0] == "--seconds" and len(args) > 1:
            seconds = float(args[1])
            args = args[2:]
        elif args[0] == "--empty":
            empty = True
            args = args[1:]
        else:
            sys.stderr.write("usage: exact_reachable.py [--seconds N] [--empty]\n")
            sys.exit(2)
    n_str, n_bytes = (0, 0) if empty else (N_STR, N_BYTES)
    # "%040d" makes 40 ASCII characters, distinct and never interned.
    STRS.extend("%040d" % i for i in range(n_str))
    BLOBS.update((i, bytes(1000)) for i in range(n_bytes))
    strs, blobs = STRS, BLOBS
    gc.collect()
    truth = {
        "str_objects": len(set(map(id, strs))),
        "str_bytes": sum(sys.getsizeof(s) for s in strs),
        "bytes_objects": len(set(map(id, blobs.values()))),
        "bytes_bytes": sum(sys.getsizeof(b) for b in blobs.values()),
        "str_tracked": bool(strs) and gc.is_tracked(strs[0]),
    }
    sys.stdout.write(json.dumps(truth) + "\n")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.monotonic()
    while seconds is None or time.monotonic() - start < seconds:
        time.sleep(0.2)
    return len(STRS) + len(BLOBS)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
