#!/usr/bin/env python3
"""Ten leaks, each held a different way, for leakd's holder search (--holders):

  Subscriber  in a list attribute of an instance bound to a module global
  Entry       in a list that is a class attribute
  Record      in a local variable of main(), a running frame (a cell: a closure uses it)
  Logger      in a module dict under keys 'app.request.<n>'
  Handler     in a list captured by a closure
  Thing       in a list held by a __slots__ member
  Orphan      held by nothing but a leaked reference (Py_IncRef through ctypes)
  Chunk       in a list, a local of a suspended generator bound to a module global
  Buf         in a list, a local variable of worker(), running in a second thread
  Node        pairs in reference cycles, with the cyclic GC disabled (--no-gc)

With --truth FILE the program writes its own truth as JSON once it runs: for each
type, the holder path leakd must print (as a regular expression over its "text"),
built from the program's own names, thread id and line numbers. Usage:
leak_holders.py [--seconds N] [--truth FILE] [--no-gc]. Works with Python 3.8 and later.
"""
import ctypes
import gc
import json
import re
import sys
import threading
import time

import paced

PER_TICK = 5   # of each type: 100 per second


class Subscriber:
    pass


class Bus:
    def __init__(self):
        self.subs = []


class Entry:
    pass


class Registry:
    items = []


class Record:
    pass


class Logger:
    pass


class Handler:
    pass


class Thing:
    pass


class Holder:
    __slots__ = ("things",)


class Orphan:
    pass


class Node:
    pass


class Chunk:
    pass


class Buf:
    pass


def collector():
    chunks = []
    while True:
        chunks.append((yield))


BUS = Bus()
LOGGERS = {}
HOLDER = Holder()
HOLDER.things = []


def make_adder():
    handlers = []

    def add():
        handlers.append(Handler())
    return add


ADD = make_adder()
COLLECT = collector()
next(COLLECT)
WORKER = {}     # what worker() says about itself: its thread id and its lines


def thread_id():
    """How leakd names a thread: 3.11+ by its native id, older ones by get_ident()."""
    return threading.get_native_id() if sys.version_info >= (3, 11) else threading.get_ident()


def worker():
    buf = []
    here = sys._getframe().f_lineno
    WORKER.update(tid=thread_id(), lines=(here + 3, here + 4))
    while True:
        buf.extend(Buf() for _ in range(PER_TICK))      # here + 3
        time.sleep(paced.TICK)                          # here + 4: where it mostly is


def truth(tid, line, no_gc, worker):
    me = "__main__"
    paths = {
        "Subscriber": r"module %s \. BUS \(%s\.Bus\) \.subs \(list\) \[\*\] -> %s\.Subscriber",
        "Entry": r"module %s \. Registry \(class\) \. items \(list\) \[\*\] -> %s\.Entry",
        # a cell: the step function closes over it
        "Record": r"thread %d frame main \(leak_holders\.py:%d\) local cache \(cell\) \.cell_contents "
                  r"\(list\) \[\*\] -> %%s\.Record" % (tid, line),
        "Logger": r"module %s \. LOGGERS \(dict\) \['app\.request\.<n>'\] -> %s\.Logger",
        "Handler": r"module %s \. ADD \(function\) \.__closure__ \(tuple\) \[\*\] \(cell\) "
                   r"\.cell_contents \(list\) \[\*\] -> %s\.Handler",
        "Thing": r"module %s \. HOLDER \(%s\.Holder\) \.things \(list\) \[\*\] -> %s\.Thing",
        "Orphan": r"held from C \(refcount 1, 0 references found\) -> %s\.Orphan",
        # before 3.11 the generator's frame is an object of its own
        "Chunk": r"module %s \. COLLECT \(generator\) " +
                 (r"local" if sys.version_info >= (3, 11) else r"\.gi_frame \(frame\) local") +
                 r" chunks \(list\) \[\*\] -> %s\.Chunk",
        # the frame is read while the thread runs: either line of its loop
        "Buf": r"thread %d frame worker \(leak_holders\.py:(%d|%d)\) local buf \(list\) \[\*\] -> %%s\.Buf"
               % ((worker["tid"],) + worker["lines"]),
    }
    if no_gc:
        paths["Node"] = (r"unreachable reference cycle \(\d+ objects\): garbage in cycles; "
                         r"the cyclic GC is disabled in this process -> %s\.Node")
    out = {}
    for name, rx in paths.items():
        n = rx.count("%s")
        out[me + "." + name] = rx % ((re.escape(me),) * n) if n else rx
    return out


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--truth", default=None)
    ap.add_argument("--no-gc", action="store_true")
    args = ap.parse_args()
    if args.no_gc:
        gc.disable()
    cache = []
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]

    threading.Thread(target=worker, daemon=True).start()
    while not WORKER:
        time.sleep(0.01)

    def step(tick):
        if tick == 0 and args.truth:
            # main's line is the paced.run() call below
            with open(args.truth, "w") as f:
                json.dump({"holders": truth(thread_id(), sys._getframe(2).f_lineno, args.no_gc,
                                            WORKER)}, f)
        for k in range(PER_TICK):
            one(tick * PER_TICK + k)

    def one(n):
        BUS.subs.append(Subscriber())
        Registry.items.append(Entry())
        cache.append(Record())
        LOGGERS["app.request.%d" % n] = Logger()
        ADD()
        HOLDER.things.append(Thing())
        incref(Orphan())          # the only reference left is the leaked one
        COLLECT.send(Chunk())
        if args.no_gc:
            a, b = Node(), Node()
            a.peer, b.peer = b, a

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
