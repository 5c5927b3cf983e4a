#!/usr/bin/env python3
"""Creates pairs of Node objects that reference each other and drops them at once
(~1,000 pairs/s). Reference counting cannot free a cycle, so they wait for the cyclic
GC, which reclaims them: live objects stay flat and gc "collected" keeps rising. This
is healthy. With --disable-gc the collector never runs and the cycles pile up: a leak.

Usage: cycles_collected.py [--seconds N] [--rate PAIRS_PER_S] [--disable-gc]
Works with Python 3.6 and later; prints nothing.
"""
import gc

import paced


class Node(object):
    def __init__(self, name):
        self.name = name
        self.peer = None
        self.items = []


def make_cycles(n):
    for i in range(n):
        a = Node("a%d" % i)
        b = Node("b%d" % i)
        a.peer = b
        b.peer = a
        a.items.append(b)
        # a and b go out of scope here; only the cycle keeps them alive.


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=int, default=1000, help="cycles (pairs) created per second")
    ap.add_argument("--disable-gc", action="store_true", help="call gc.disable() first: cycles then leak")
    args = ap.parse_args()
    if args.disable_gc:
        gc.disable()
    per_tick = max(1, int(args.rate * paced.TICK))
    paced.run(lambda n: make_cycles(per_tick), args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
