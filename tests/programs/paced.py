"""What the workload programs share: the --seconds flag, a steady rate without
busy-waiting, and a quiet exit on Ctrl-C (it reaches the whole process group).
Imported from the programs' own directory; works with Python 3.6 and later.
"""
import argparse
import sys
import time

TICK = 0.05  # seconds; small ticks keep the rate steady without bursts


def parser(doc):
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=None, help="run this long (default: forever)")
    return ap


def run(step, seconds, tick=TICK):
    """Calls step(n) once per tick, n counting ticks from 0, until `seconds`
    have passed (forever if None). Falling behind does not cause a catch-up burst."""
    start = time.monotonic()
    deadline = None if seconds is None else start + seconds
    next_tick = start
    n = 0
    while deadline is None or time.monotonic() < deadline:
        step(n)
        n += 1
        next_tick += tick
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()


def main_quietly(main):
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
