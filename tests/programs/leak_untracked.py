#!/usr/bin/env python3
"""Leaks (and non-leaks) made of objects the cyclic GC does not track: the most common
leaks in real services, invisible to a census of the GC's lists alone.

  --kind tuples       a module-level list collects (float, str, str) tuples      leak
  --kind bytearrays   a module-level list collects bytearray(2048) buffers         leak
  --kind thread_dicts four worker threads churn; one appends {int: int} dicts and
                      tuples of ints to a module-level list                        leak
  --kind str_cache    a module-level dict[str, str] that is never evicted          leak
  --kind int_set      a module-level set of ints that only grows                   leak
  --kind lru          a dict[str, str] LRU capped at 5,000 entries                 healthy
  --kind deque        a collections.deque(maxlen=5000) of (int, str) tuples        healthy
  --kind cleared      a list of str that is cleared whenever it reaches 3,000      healthy
  --kind mixed        the five leaks at once, in four threads                      leak
  --kind healthy_mixed the three healthy ones at once, one thread each             healthy

Every kind also churns temporaries of the same types (they die at once), so only what
is kept makes the floor rise. With --truth FILE the program writes its own truth as
JSON, computed from the objects it keeps: {"leak": bool, "types": [type names it keeps
growing], "container": type name of what holds them}. Leaks grow ~1,000 items/s
(--rate). Usage: leak_untracked.py --kind K [--seconds N] [--rate N] [--truth FILE]
Works with Python 3.6 and later.
"""
import collections
import json
import random
import threading

import paced

KEPT = []          # tuples, bytearrays, thread_dicts, cleared
CACHE = {}         # str_cache
SEEN = set()       # int_set
LRU = collections.OrderedDict()
RECENT = collections.deque(maxlen=5000)
LRU_CAP = 5000
CLEAR_AT = 3000


def churn(n, seq):
    """Temporaries of the same types as the leaks, garbage at once."""
    tmp = [(random.random(), "t%d" % (seq + i), str(i)) for i in range(n)]
    tmp.append(bytearray(64))
    tmp.append({i: i for i in range(8)})
    return len(tmp)


def make_item(kind, seq):
    if kind == "tuples":
        return (random.random(), "name-%d" % seq, "value-%08d" % seq)
    if kind == "bytearrays":
        return bytearray(2048)
    if kind == "thread_dicts":
        return ({seq: seq * 3, seq + 1: seq * 5}, (seq, seq + 1, seq + 2))
    if kind in ("str_cache", "lru"):
        return ("key-%08d" % seq, "value-for-%08d" % seq)
    if kind == "int_set":
        return 10 ** 6 + seq
    if kind == "deque":
        return (seq, "entry-%d" % seq)
    if kind == "cleared":
        return "line-%08d" % seq
    raise SystemExit("unknown --kind %r" % kind)


def keep(kind, item):
    if kind in ("tuples", "bytearrays"):
        KEPT.append(item)
    elif kind == "thread_dicts":
        KEPT.append(item[0])
        KEPT.append(item[1])
    elif kind == "str_cache":
        CACHE[item[0]] = item[1]
    elif kind == "int_set":
        SEEN.add(item)
    elif kind == "lru":
        LRU[item[0]] = item[1]
        while len(LRU) > LRU_CAP:
            LRU.popitem(last=False)
    elif kind == "deque":
        RECENT.append(item)
    elif kind == "cleared":
        KEPT.append(item)
        if len(KEPT) >= CLEAR_AT:
            del KEPT[:]


LEAKS = ("tuples", "bytearrays", "thread_dicts", "str_cache", "int_set")
HEALTHY = ("lru", "deque", "cleared")
MIXED = {"mixed": LEAKS, "healthy_mixed": HEALTHY}


def truth(kind):
    """What this program keeps growing, from the objects themselves."""
    if kind in MIXED:
        parts = [truth(k) for k in MIXED[kind]]
        return {"leak": parts[0]["leak"], "types": sorted(set(t for p in parts for t in p["types"])),
                "container": "list"}
    leak = kind in LEAKS
    sample = make_item(kind, 1)
    if kind == "tuples":
        types = sorted(set([type(sample).__name__] + [type(x).__name__ for x in sample]))
        holder = KEPT
    elif kind == "thread_dicts":
        types = sorted(set([type(sample[0]).__name__, type(sample[1]).__name__]))
        holder = KEPT
    elif kind in ("str_cache", "lru"):
        types = sorted(set(type(x).__name__ for x in sample))
        holder = CACHE if kind == "str_cache" else LRU
    elif kind == "int_set":
        types = [type(sample).__name__]
        holder = SEEN
    elif kind == "deque":
        types = [type(sample).__name__]
        holder = RECENT
    else:
        types = [type(sample).__name__]
        holder = KEPT
    return {"leak": leak, "types": types, "container": type(holder).__name__}


def worker(stop, seconds, per_tick, kinds, leaking):
    seq = [0]

    def step(n):
        if stop.is_set():
            raise SystemExit
        churn(50, seq[0])
        if leaking:
            for _ in range(per_tick):
                for kind in kinds:
                    keep(kind, make_item(kind, seq[0]))
                seq[0] += 1
    try:
        paced.run(step, seconds)
    except SystemExit:
        pass


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--rate", type=int, default=1000, help="items kept per second")
    ap.add_argument("--truth", default=None, help="write the expected verdict here (JSON)")
    args = ap.parse_args()
    for k in MIXED.get(args.kind, (args.kind,)):
        make_item(k, 0)  # rejects an unknown kind before anything runs
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump(truth(args.kind), f)
    per_tick = max(1, int(args.rate * paced.TICK))
    stop = threading.Event()
    if args.kind in MIXED:
        # one kind a thread (the first shares with a fifth leak), each at the full rate, so
        # that the bounded ones fill (and plateau) as fast as when they run alone
        kinds = MIXED[args.kind]
        groups = [kinds[i::4] for i in range(4)]
        threads = [threading.Thread(target=worker, args=(stop, args.seconds, per_tick, groups[i], bool(groups[i])))
                   for i in range(4)]
    elif args.kind == "thread_dicts":
        # four threads churn; only the first one keeps what it makes
        threads = [threading.Thread(target=worker, args=(stop, args.seconds, per_tick, (args.kind,), i == 0))
                   for i in range(4)]
    else:
        threads = None
    if threads:
        for t in threads:
            t.daemon = True
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        finally:
            stop.set()
        return
    worker(stop, args.seconds, per_tick, (args.kind,), True)


if __name__ == "__main__":
    paced.main_quietly(main)
