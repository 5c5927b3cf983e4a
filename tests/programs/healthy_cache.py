#!/usr/bin/env python3
"""Not a leak: a bounded LRU cache (at most 5,000 entries) in front of a slow lookup.
New keys arrive at ~1,000/s, so the cache fills in about 5 s, then plateaus: every
insert evicts the least recently used entry while lookups keep hitting recent keys.
Live objects rise during warm-up and then stay flat under constant churn.

Usage: healthy_cache.py [--seconds N] [--capacity N] [--rate NEW_KEYS_PER_S]
Works with Python 3.6 and later; prints nothing.
"""
import collections

import paced


class Entry(object):
    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.hits = 0


class LRUCache(object):
    def __init__(self, capacity):
        self.capacity = capacity
        self.data = collections.OrderedDict()

    def get(self, key):
        entry = self.data.get(key)
        if entry is not None:
            self.data.move_to_end(key)
            entry.hits += 1
        return entry

    def put(self, key, value):
        self.data[key] = Entry(key, value)
        self.data.move_to_end(key)
        while len(self.data) > self.capacity:
            self.data.popitem(last=False)


def slow_lookup(key):
    return ["row-%d" % key, key * 3, [key % 5, key % 7]]


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--capacity", type=int, default=5000, help="maximum cache entries")
    ap.add_argument("--rate", type=int, default=1000, help="new keys per second")
    args = ap.parse_args()
    cache = LRUCache(args.capacity)
    per_tick = max(1, int(args.rate * paced.TICK))

    def step(n):
        for key in range(n * per_tick, (n + 1) * per_tick):
            if cache.get(key) is None:
                cache.put(key, slow_lookup(key))
            # Re-read a few recent keys: cache hits, no growth.
            for back in (1, 7, 50):
                cache.get(key - back)

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
