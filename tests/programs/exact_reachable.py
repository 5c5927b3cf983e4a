#!/usr/bin/env python3
"""A reachable-heap census target with known answers: holds exactly 54,321 distinct
str objects of 40 characters in a list and 4,321 bytes(1000) objects as the values
of a dict (keyed by small ints), none of which the GC tracks. Prints one JSON line
with its own truth (counts and sys.getsizeof sums of exactly those objects), then
"ready", then sleeps, so a test can attach and compare leakd's str and bytes rows.

Usage: exact_reachable.py [--seconds N]
"""
import gc
import json
import sys
import time

N_STR = 54321
N_BYTES = 4321


def main():
    seconds = None
    if len(sys.argv) == 3 and sys.argv[1] == "--seconds":
        seconds = float(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.stderr.write("usage: exact_reachable.py [--seconds N]\n")
        sys.exit(2)
    # "%040d" makes 40 ASCII characters, distinct and never interned.
    strs = ["%040d" % i for i in range(N_STR)]
    blobs = {i: bytes(1000) for i in range(N_BYTES)}
    gc.collect()
    truth = {
        "str_objects": len(set(map(id, strs))),
        "str_bytes": sum(sys.getsizeof(s) for s in strs),
        "bytes_objects": len(set(map(id, blobs.values()))),
        "bytes_bytes": sum(sys.getsizeof(b) for b in blobs.values()),
        "str_tracked": gc.is_tracked(strs[0]),
    }
    sys.stdout.write(json.dumps(truth) + "\n")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.monotonic()
    while seconds is None or time.monotonic() - start < seconds:
        time.sleep(0.2)
    return len(strs) + len(blobs)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
