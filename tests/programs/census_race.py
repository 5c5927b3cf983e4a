#!/usr/bin/env python3
"""A target that changes under leakd in the middle of a census: it builds a heap of
--objects reachable objects (tracked records holding untracked str, int and float, so
that the walk of what the GC lists reach lasts a while after the thaw), prints "ready",
then sleeps; on SIGUSR1 (sent by tests/integration/census_trigger.py while leakd holds
it frozen, so that the handler runs as soon as leakd resumes it, during the walk of the
untracked objects) it does --on-signal:
  exit        os._exit(0)
  exec-other  exec /bin/sleep (a program that is not Python)
  exec-self   exec this interpreter again on this script with a small heap of AfterExec
  fork        fork; the child grows ForkChild instances (a leak the parent does not
              have) for --seconds and exits; the parent prints {"child": PID} and goes on
With --after-exec it is the program exec-self runs. Without SIGUSR1 it just sleeps
(--seconds, default forever), for the cases where the target is stopped from outside.

Usage: census_race.py --objects N --on-signal exit|exec-other|exec-self|fork [--seconds S]
"""
import gc
import json
import os
import signal
import sys
import time

import paced
from bench_heap import Record  # the benchmark's records: a tracked instance holding a str, an int, a float

STATE = []
GROWN = []


class ForkChild(object):
    pass


class AfterExec(object):
    pass


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def grow(cls, seconds):
    """cls instances kept for ever, 200 a second: a leak leakd flags in a few seconds."""
    paced.run(lambda n: GROWN.extend(cls() for _ in range(10)), seconds)


def on_signal(action, seconds):
    def handler(signum, frame):
        if action == "exit":
            os._exit(0)
        if action == "exec-other":
            os.execv("/bin/sleep", ["sleep", str(int(seconds or 60))])
        if action == "exec-self":
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "--after-exec",
                                      "--objects", "0", "--seconds", str(seconds or 60)])
        if action == "fork":
            child = os.fork()
            if child == 0:
                signal.signal(signal.SIGUSR1, signal.SIG_IGN)
                grow(ForkChild, seconds)
                os._exit(0)
            say({"child": child})
    return handler


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--objects", type=int, required=True)
    ap.add_argument("--on-signal", choices=("exit", "exec-other", "exec-self", "fork", "none"),
                    default="none")
    ap.add_argument("--after-exec", action="store_true")
    args = ap.parse_args()
    if args.after_exec:
        say({"after_exec": os.getpid()})
        grow(AfterExec, args.seconds)
        return
    gc.disable()  # building is faster without collections; the census does not care
    STATE.extend(Record(i) for i in range(args.objects // 4))
    gc.enable()
    gc.collect()
    if args.on_signal != "none":
        signal.signal(signal.SIGUSR1, on_signal(args.on_signal, args.seconds))
    say({"pid": os.getpid(), "records": len(STATE)})
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.monotonic()
    while args.seconds is None or time.monotonic() - start < args.seconds:
        time.sleep(0.2)


if __name__ == "__main__":
    paced.main_quietly(main)
