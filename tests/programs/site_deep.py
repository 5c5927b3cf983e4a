"""Allocates instances of a class from one known line, three calls deep, for
leakd's stack-walker test (tests/integration/pystack.sh).

With --depth D the calls happen under D more nested Python frames (the
walker keeps the innermost 32 and says the stack was cut). With --threads K the allocating calls run in the last of K threads while
the others wait (the walker must find the allocating thread's state). With --asyncio the objects are made from a coroutine awaited by another
by a task of an asyncio event loop; with --generator inside a generator drained through a
second one (the frames of a suspended-and-resumed chain). With --churn each iteration also makes a Subscriber (or dict) on another line that
dies at once (its line is printed as "CHURN file:line"); the program then
stays until stdin closes, so survivors can be checked. With --dict it allocates dicts from that line instead: LTO builds of 3.13+
inline tp_alloc for class instances, but dicts go through _PyObject_GC_New
on every build.

Protocol on stdout: "TYPE <address of Subscriber or dict>", then it waits for a
line on stdin, allocates N objects (argv[1], default 2000) and keeps them, then prints
"EXPECT file:line function" for each frame of the allocating stack, innermost
first, as the interpreter itself reports them (f_lineno of each frame while
the first instance was being created), and "DONE".
"""
import argparse
import sys
import threading

expected = []


def record(caller):
    """The allocating stack as the interpreter reports it, once."""
    if not expected:
        f = caller
        while f is not None:
            co = f.f_code
            expected.append((co.co_filename, f.f_lineno, getattr(co, "co_qualname", co.co_name)))
            f = f.f_back
    return 1


class Subscriber:
    def __init__(self, marker):
        self.marker = marker


registry = []
loop = None
ap = argparse.ArgumentParser()
ap.add_argument("n", type=int, nargs="?", default=2000)
ap.add_argument("--dict", action="store_true")
ap.add_argument("--depth", type=int, default=0)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--churn", action="store_true")
ap.add_argument("--asyncio", action="store_true")
ap.add_argument("--generator", action="store_true")
opts = ap.parse_args()
as_dict = opts.dict


def make():
    if as_dict:
        return {"subscriber": record(sys._getframe())}
    return Subscriber(record(sys._getframe()))


churn_at = []


def churn_line(caller):
    if not churn_at:
        churn_at.append("%s:%d" % (caller.f_code.co_filename, caller.f_lineno))
    return 0


def churn():
    if as_dict:
        temp = {"marker": churn_line(sys._getframe())}
        return temp["marker"]
    temp = Subscriber(churn_line(sys._getframe()))
    return temp.marker


def subscribe(n):
    for _ in range(n):
        if opts.churn:
            churn()
        registry.append(make())


def serve(n):
    if opts.asyncio:
        loop.run_until_complete(serve_async(n))
    elif opts.generator:
        for obj in relay(produce(n)):
            registry.append(obj)
    else:
        subscribe(n)


async def handle():
    registry.append(make())


async def serve_async(n):
    for _ in range(n):
        await handle()


def produce(n):
    for _ in range(n):
        yield make()


def relay(source):
    for obj in source:
        yield obj


def nest(depth, n):
    if depth:
        return nest(depth - 1, n)
    return serve(n)


def main():
    n, depth = opts.n, opts.depth
    global loop
    if opts.asyncio:
        # Set up before the go, so that its own dicts are not sampled.
        import asyncio
        loop = asyncio.new_event_loop()
    sys.stdout.write("TYPE %d\n" % id(dict if as_dict else Subscriber))
    sys.stdout.flush()
    sys.stdin.readline()
    if opts.threads:
        stop = threading.Event()
        idle = [threading.Thread(target=stop.wait) for _ in range(opts.threads - 1)]
        worker = threading.Thread(target=nest, args=(depth, n))
        for t in idle + [worker]:
            t.start()
        worker.join()
        stop.set()
        for t in idle:
            t.join()
    else:
        nest(depth, n)
    for filename, line, func in expected:
        sys.stdout.write("EXPECT %s:%d %s\n" % (filename, line, func))
    for where in churn_at:
        sys.stdout.write("CHURN %s\n" % where)
    sys.stdout.write("DONE %d\n" % len(registry))
    sys.stdout.flush()
    if opts.churn:
        sys.stdin.readline()


main()
