"""A process whose collector is running much of the time: a thread calls
gc.collect() over a large, constant heap, about half of every cycle. A
census that stops it mid-collection must not count the objects the
collector has moved off its lists for the moment (before leakd waited for an
idle collector, such censuses counted a fraction of the heap, down to zero,
and that false dip hid leaks). Nothing here grows.

With --truth FILE it writes {"leak": false, "types": ["list"], "kept": n}: n
lists are held for its whole life, so every census must count at least that
many objects.
Usage: gc_busy.py [--seconds N] [--truth FILE]. Works with Python 3.6 and later.
"""
import gc
import json
import threading
import time

import paced

KEEP = [[i] for i in range(200000)]


def collect_forever():
    while True:
        t = time.monotonic()
        gc.collect()
        # idle about as long as the collection took: half the stops land in one
        time.sleep(max(time.monotonic() - t, 0.002))


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--truth", default=None)
    args = ap.parse_args()
    gc.collect()
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump({"leak": False, "types": [type(KEEP[0]).__name__], "kept": len(KEEP)}, f)
    threading.Thread(target=collect_forever, daemon=True).start()
    paced.run(lambda n: None, args.seconds, tick=0.5)


if __name__ == "__main__":
    paced.main_quietly(main)
