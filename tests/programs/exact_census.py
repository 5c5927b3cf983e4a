#!/usr/bin/env python3
"""A census target with known answers: holds exactly 12,345 instances of Leaky and
2,345 of Slotted (a __slots__ class, still GC-tracked because it has slots), runs a
full collection so nothing else of either type is pending, prints "ready" (flushed)
and then sleeps, so a test can attach and compare leakd's per-type counts.

Usage: exact_census.py [--seconds N] [--self-check]
  --self-check  also print the counts seen by gc.get_objects() (before "ready").
Deliberately imports nothing beyond sys/gc/time and makes no other bulk containers,
so these two types are the two largest in the census on every version (3.6..3.14).
"""
import gc
import sys
import time

N_LEAKY = 12345
N_SLOTTED = 2345


class Leaky(object):
    def __init__(self, i):
        self.i = i


class Slotted(object):
    __slots__ = ("i", "tag")

    def __init__(self, i):
        self.i = i
        self.tag = None


def parse_args(argv):
    seconds = None
    self_check = False
    i = 0
    while i < len(argv):
        if argv[i] == "--seconds" and i + 1 < len(argv):
            seconds = float(argv[i + 1])
            i += 2
        elif argv[i].startswith("--seconds="):
            seconds = float(argv[i].split("=", 1)[1])
            i += 1
        elif argv[i] == "--self-check":
            self_check = True
            i += 1
        else:
            sys.stderr.write("usage: exact_census.py [--seconds N] [--self-check]\n")
            sys.exit(2)
    return seconds, self_check


def main():
    seconds, self_check = parse_args(sys.argv[1:])
    leaky = [Leaky(i) for i in range(N_LEAKY)]
    slotted = [Slotted(i) for i in range(N_SLOTTED)]
    gc.collect()
    if self_check:
        objs = gc.get_objects()
        n_leaky = sum(1 for o in objs if type(o) is Leaky)
        n_slotted = sum(1 for o in objs if type(o) is Slotted)
        del objs
        sys.stdout.write("self-check Leaky=%d Slotted=%d tracked=%s\n"
                         % (n_leaky, n_slotted, gc.is_tracked(slotted[0])))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.monotonic()
    while seconds is None or time.monotonic() - start < seconds:
        time.sleep(0.2 if seconds is None else min(0.2, max(0.0, seconds - (time.monotonic() - start))))
    # Keep both lists referenced until the very end.
    return len(leaky) + len(slotted)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: exit quietly
        sys.exit(130)
