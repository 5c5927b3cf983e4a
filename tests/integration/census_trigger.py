#!/usr/bin/env python3
"""Sends a signal to a process while leakd holds it frozen for a census: polls
/proc/PID/status until TracerPid names a tracer (leakd's freeze is a ptrace seize), sends
the signal, and reads TracerPid again to know whether the signal landed inside that
freeze. Prints one JSON line: {"signal", "tracer", "waited_s", "in_freeze"}; exits 1
(with the line's "error") when no freeze is seen within --timeout seconds or the process
is gone first. Part of the "target changes mid-census" cases of run.sh.

Usage: census_trigger.py PID SIGNAL_NAME [--timeout S] [--skip N] [--undo SIGNAL_NAME]
  --skip N lets N freezes pass before the one it signals (default 0).
  --undo SIG: when the signal landed after the freeze had ended (this process was not
  scheduled in time), send SIG (SIGCONT after a SIGSTOP) and try the next freeze, up to
  five times; "attempts" says how many it took.
"""
import argparse
import json
import os
import signal
import sys
import time


def tracer_of(pid):
    """The TracerPid of pid, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (IOError, OSError):
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pid", type=int)
    ap.add_argument("signal")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--undo", default=None)
    args = ap.parse_args()
    sig = getattr(signal, args.signal)
    start = time.monotonic()
    deadline = start + args.timeout
    skipped, was, attempts = 0, 0, 0
    out = {"signal": args.signal}
    while True:
        if time.monotonic() > deadline:
            out["error"] = "no freeze seen in %.0f s" % args.timeout
            break
        t = tracer_of(args.pid)
        if t is None:
            out["error"] = "the process is gone"
            break
        if t and not was:
            if skipped < args.skip:
                skipped += 1
            else:
                os.kill(args.pid, sig)
                attempts += 1
                out.update(tracer=t, waited_s=round(time.monotonic() - start, 3),
                           in_freeze=tracer_of(args.pid) == t, attempts=attempts)
                if out["in_freeze"] or not args.undo or attempts == 5:
                    break
                os.kill(args.pid, getattr(signal, args.undo))
        was = t
        time.sleep(0.0002)  # not a busy loop: a task that sleeps is scheduled first on waking
    sys.stdout.write(json.dumps(out) + "\n")
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
