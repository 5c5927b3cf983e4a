#!/usr/bin/env python3
"""Not a leak: a batch buffer. Items arrive at ~2,000/s and are appended to a batch
list; when the batch holds 3,000 items it is "flushed" (summarised) and cleared, so
live objects trace a sawtooth with a period of ~1.5 s and a flat floor.

Usage: healthy_sawtooth.py [--seconds N] [--batch N] [--rate ITEMS_PER_S]
Works with Python 3.6 and later; prints nothing.
"""
import argparse
import sys
import time

TICK = 0.05


class Item(object):
    def __init__(self, seq, label, values):
        self.seq = seq
        self.label = label
        self.values = values


def flush(batch):
    total = 0
    for item in batch:
        total += item.seq + len(item.values)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=None, help="run this long (default: forever)")
    ap.add_argument("--batch", type=int, default=3000, help="items per batch before it is cleared")
    ap.add_argument("--rate", type=int, default=2000, help="items per second")
    args = ap.parse_args()

    batch = []
    per_tick = max(1, int(args.rate * TICK))
    start = time.monotonic()
    deadline = None if args.seconds is None else start + args.seconds
    seq = 0
    next_tick = start
    while deadline is None or time.monotonic() < deadline:
        for _ in range(per_tick):
            batch.append(Item(seq, "item-%d" % seq, [seq, seq * 2]))
            seq += 1
            if len(batch) >= args.batch:
                flush(batch)
                del batch[:]
        next_tick += TICK
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: exit quietly
        sys.exit(130)
