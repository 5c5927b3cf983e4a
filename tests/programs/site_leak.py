"""A long-running program that leaks instances of a class from one known
line while it churns instances of the same class on another line, for
leakd's site-window tests (tests/integration/sites.sh).

Scenarios (--scenario):
  observer     a bus keeps every Subscriber registered per request
  module_list  a Record appended to a module-level list from a helper
               three calls deep
  threads      four threads churn Payloads; one of them also keeps them
  asyncio      an event loop runs a task per request; each task's Payload
               is kept in a module dict
  deep         the leak happens under 200 nested frames (leakd keeps the
               innermost 32 and says the stack was cut)
  generator    Records made in a generator drained through a second one

--truth FILE receives, once the first leaking instance is made, one line
"EXPECT file:line function" per frame of its allocating stack, innermost
first, as the interpreter reports it (f_lineno of each frame), then
"CHURN file:line" for the churn line and "TYPE name" (the class's name as
leakd prints it). The program runs until --seconds pass or it is killed.
"""
import argparse
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--scenario", required=True,
                choices=["observer", "module_list", "threads", "asyncio", "deep", "generator"])
ap.add_argument("--truth", required=True)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--rate", type=int, default=400, help="leaked instances per second")
opts = ap.parse_args()

truth = []
churn_at = []


def record(frame):
    """The allocating stack, once, as the interpreter reports it."""
    if not truth:
        f = frame
        while f is not None:
            co = f.f_code
            truth.append("EXPECT %s:%d %s" % (co.co_filename, f.f_lineno, getattr(co, "co_qualname", co.co_name)))
            f = f.f_back
    return 0


def churned(frame):
    if not churn_at:
        churn_at.append("CHURN %s:%d" % (frame.f_code.co_filename, frame.f_lineno))
    return 0


def write_truth(type_name):
    if truth and churn_at and not getattr(write_truth, "done", False):
        write_truth.done = True
        with open(opts.truth + ".tmp", "w") as f:
            f.write("\n".join(truth + churn_at + ["TYPE __main__." + type_name]) + "\n")
        import os
        os.rename(opts.truth + ".tmp", opts.truth)


class Subscriber:
    def __init__(self, tag):
        self.tag = tag
        self.events = None


class Record:
    def __init__(self, tag):
        self.tag = tag


class Payload:
    def __init__(self, tag):
        self.tag = tag


# ---- observer ----
class Bus:
    def __init__(self):
        self.observers = []

    def subscribe(self, request):
        sub = Subscriber(record(sys._getframe()))
        self.observers.append(sub)
        return sub


def handle_request(bus, request):
    bus.subscribe(request)
    probe = Subscriber(churned(sys._getframe()))
    return probe.tag


BUS = Bus()


def observer_tick():
    handle_request(BUS, 1)


# ---- module list / deep / generator ----
REGISTRY = []


def remember(tag):
    REGISTRY.append(Record(record(sys._getframe())))


def step(tag):
    remember(tag)
    scratch = Record(churned(sys._getframe()))
    return scratch.tag


def process(tag):
    step(tag)


def module_list_tick():
    process(1)


def nest(depth, fn):
    if depth:
        return nest(depth - 1, fn)
    return fn()


def deep_tick():
    nest(200, module_list_tick)


def produce(n):
    for i in range(n):
        Record(churned(sys._getframe()))
        yield Record(record(sys._getframe()))


def relay(source):
    for obj in source:
        yield obj


def generator_tick():
    for obj in relay(produce(1)):
        REGISTRY.append(obj)


# ---- threads ----
KEPT = []


def worker(keep, stop):
    while not stop.is_set():
        for _ in range(opts.rate // 50):
            if keep:
                KEPT.append(Payload(record(sys._getframe())))
            Payload(churned(sys._getframe()))
        time.sleep(0.02)


# ---- asyncio ----
PAYLOADS = {}


async def handle(i):
    PAYLOADS[i] = Payload(record(sys._getframe()))


async def drop(i):
    Payload(churned(sys._getframe()))


async def serve(deadline):
    import asyncio
    i = 0
    while time.monotonic() < deadline:
        tasks = []
        for _ in range(opts.rate // 50):
            i += 1
            tasks.append(asyncio.ensure_future(handle(i)))
            tasks.append(asyncio.ensure_future(drop(i)))
        await asyncio.gather(*tasks)
        write_truth("Payload")
        await asyncio.sleep(0.02)


TICKS = {"observer": (observer_tick, "Subscriber"), "module_list": (module_list_tick, "Record"),
         "deep": (deep_tick, "Record"), "generator": (generator_tick, "Record")}


def main():
    deadline = time.monotonic() + opts.seconds
    if opts.scenario == "asyncio":
        import asyncio
        asyncio.run(serve(deadline))
        return
    if opts.scenario == "threads":
        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(i == 2, stop)) for i in range(4)]
        for t in threads:
            t.start()
        while time.monotonic() < deadline:
            write_truth("Payload")
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        return
    tick, name = TICKS[opts.scenario]
    while time.monotonic() < deadline:
        for _ in range(opts.rate // 50):
            tick()
        write_truth(name)
        time.sleep(0.02)


main()
