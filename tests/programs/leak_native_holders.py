#!/usr/bin/env python3
"""Three leaks held through the fields of C objects, which no Python-level decoder
names, for leakd's holder search (--holders):

  Cached   values of a functools.lru_cache(maxsize=None), called with a new
           argument every time: the cache dict is a field of the C wrapper
  Pending  arguments of coroutines run as asyncio tasks that wait forever, the
           tasks kept in a module-level set (the "keep a reference to background
           tasks" idiom without the done-callback that discards them): each
           task holds its coroutine in a C field
  Awaited  arguments of coroutines awaited by such tasks' coroutines: the awaited
           coroutine is held only by the awaiting frame's value stack

With --truth FILE the program writes its own truth as JSON once it runs: for each
type, the holder path leakd must print (as a regular expression over its "text"),
built from the program's own names. Usage:
leak_native_holders.py [--seconds N] [--truth FILE]. Works with Python 3.8 and later.
"""
import asyncio
import functools
import json
import re
import sys

import paced

PER_TICK = 5   # of each type: 100 per second


class Cached:
    pass


class Pending:
    pass


class Awaited:
    pass


@functools.lru_cache(maxsize=None)
def lookup(n):
    return Cached()


async def wait_forever(pending):
    await asyncio.sleep(3600)


async def serve():
    await wait_forever(Awaited())


TASKS = set()
LOOP = asyncio.new_event_loop()
# the tasks are still pending when the program ends: say nothing about it
LOOP.set_exception_handler(lambda loop, context: None)


def c_type(t):
    """How leakd names a C type: its tp_name, module and name."""
    return re.escape(t.__module__ + "." + t.__qualname__)


def truth():
    me = "__main__"
    # a C field is named by its offset (neither type names these fields as members)
    field = r"\.<C field \+\d+>"
    # before 3.11 the coroutine's frame is an object of its own
    in_frame = "" if sys.version_info >= (3, 11) else r"\.gi_frame \(frame\) "
    frame = in_frame + "local"
    task = r"module %s \. TASKS \(set\) \{\*\} \(%s\) %s \(coroutine\)" % (me, c_type(asyncio.Task), field)
    return {
        me + ".Cached": r"module %s \. lookup \(%s\) %s \(dict\) \[<n>\] -> %s\.Cached"
                        % (me, c_type(type(lookup)), field, me),
        me + ".Pending": r"%s %s pending -> %s\.Pending" % (task, frame, me),
        me + ".Awaited": r"%s %s<value stack> \(coroutine\) %s pending -> %s\.Awaited"
                         % (task, in_frame, frame, me),
    }


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--truth", default=None)
    args = ap.parse_args()

    def step(tick):
        if tick == 0 and args.truth:
            with open(args.truth, "w") as f:
                json.dump({"holders": truth()}, f)
        for k in range(PER_TICK):
            n = tick * PER_TICK + k
            lookup(n)
            TASKS.add(LOOP.create_task(wait_forever(Pending())))
            TASKS.add(LOOP.create_task(serve()))
        # each new task runs up to its sleep, and waits there
        LOOP.run_until_complete(asyncio.sleep(0))

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
