#!/usr/bin/env python3
"""The process tests/fuzz/make_census_seeds.sh images for the census fuzz seeds: what the
interpreter made at start-up goes to the permanent generation (gc.freeze()), then a few
objects of each kind the census and the reach decode are made and kept: 5 Seed instances
(a dict or managed dict holding a str, an int and a tuple of a float and a str), 3
Slotted (__slots__: a str and bytes), a dict of str to float, a set of ints, a list
holding a bytearray and a frozenset, a deque of str. Prints {"Seed": 5, "Slotted": 3},
then "ready", then sleeps until killed. Runs on Python 3.8 and later.
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
sys.stdout.write(json.dumps({"Seed": 5, "Slotted": 3}) + "\nready\n")
sys.stdout.flush()
while True:
    time.sleep(1)
