#!/usr/bin/env python3
"""The process tests/fuzz/make_census_seeds.sh images for the census fuzz seeds: what the
interpreter made at start-up goes to the permanent generation (gc.freeze()), then a few
objects of each kind the census and the reach decode are made and kept: 5 Seed instances
(a dict or managed dict holding a str, an int and a tuple of a float and a str), 3
Slotted (__slots__: a str and bytes), a dict of str to float, a set of ints, a list
holding a bytearray and a frozenset, a deque of str, all in the list KEEP. Prints
{"Seed": 5, "Slotted": 3, "keep": [...], "containers": [...]}, then "ready", then sleeps
until killed. "keep" names the types of KEEP's items in order; "containers" says, for
each of them and each container they hold, its type and the sorted types of what it
holds (an instance: its attributes' values; a dict: its keys and values), as leakd names
types: the per-decoder truth test_pyrefs_images checks. Runs on Python 3.8 and later.
"""
import collections
import gc
import json
import sys
import time

gc.collect()
gc.freeze()
gc.disable()


class Seed(object):
    def __init__(self, i):
        self.name = "seed-%d" % i
        self.n = 10 ** 6 + i
        self.pair = (i * 0.5, "pair-%d" % i)


class Slotted(object):
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = "slot-%d" % i
        self.b = b"x" * (i + 1)


KEEP = [Seed(i) for i in range(5)] + [Slotted(i) for i in range(3)]
KEEP.append(dict(("key-%d" % i, i * 1.5) for i in range(4)))
KEEP.append(set(range(10 ** 6, 10 ** 6 + 4)))
KEEP.append([bytearray(16), frozenset(["a", "b"])])
KEEP.append(collections.deque(["d1", "d2"]))


def leakd_name(t):
    """A type as leakd names it: builtins by their name, the rest with their module."""
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


def holds(x):
    if isinstance(x, dict):
        return list(x.keys()) + list(x.values())
    if isinstance(x, (Seed,)):
        return list(vars(x).values())
    if isinstance(x, Slotted):
        return [getattr(x, a) for a in Slotted.__slots__]
    return list(x)


def entry(x):
    return {"type": leakd_name(type(x)), "holds": sorted(leakd_name(type(v)) for v in holds(x))}


CONTAINERS = (Seed, Slotted, dict, set, frozenset, list, tuple, collections.deque)
containers = []
for item in KEEP:
    containers.append(entry(item))
    containers.extend(entry(v) for v in holds(item) if isinstance(v, CONTAINERS))
sys.stdout.write(json.dumps({"Seed": 5, "Slotted": 3, "keep": [leakd_name(type(x)) for x in KEEP],
                             "containers": containers}) + "\nready\n")
sys.stdout.flush()
while True:
    time.sleep(1)
