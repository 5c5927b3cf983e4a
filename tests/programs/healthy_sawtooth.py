#!/usr/bin/env python3
"""Not a leak: a batch buffer. Items arrive at ~2,000/s and are appended to a batch
list; when the batch holds 3,000 items it is "flushed" (summarised) and cleared, so
live objects trace a sawtooth with a period of ~1.5 s and a flat floor.

Usage: healthy_sawtooth.py [--seconds N] [--batch N] [--rate ITEMS_PER_S]
Works with Python 3.6 and later; prints nothing.
"""
import paced


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
    ap = paced.parser(__doc__)
    ap.add_argument("--batch", type=int, default=3000, help="items per batch before it is cleared")
    ap.add_argument("--rate", type=int, default=2000, help="items per second")
    args = ap.parse_args()
    batch = []
    per_tick = max(1, int(args.rate * paced.TICK))

    def step(n):
        for seq in range(n * per_tick, (n + 1) * per_tick):
            batch.append(Item(seq, "item-%d" % seq, [seq, seq * 2]))
            if len(batch) >= args.batch:
                flush(batch)
                del batch[:]

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
