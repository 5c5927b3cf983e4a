#!/usr/bin/env python3
"""Leaks file descriptors: opens plain files under a private temporary directory
(~15/s) and keeps the file objects referenced in a list without ever closing them,
so /proc/PID/fd grows steadily (900 after 60 s, well below a 1,024 ulimit). If the
descriptor limit is reached anyway it stops opening and keeps running.

Usage: leak_open_files.py [--seconds N] [--rate FILES_PER_S]   (default: forever)
Works with Python 3.6 and later; prints nothing. The directory is removed on exit.
"""
import argparse
import errno
import os
import shutil
import signal
import tempfile
import sys
import time

TICK = 0.1

OPEN_FILES = []  # the leak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=None, help="run this long (default: forever)")
    ap.add_argument("--rate", type=float, default=15.0, help="files opened per second")
    args = ap.parse_args()

    # A tracer that ends the session with SIGTERM must not leave the directory behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    tmpdir = tempfile.mkdtemp(prefix="leakd-open-files-")
    try:
        start = time.monotonic()
        deadline = None if args.seconds is None else start + args.seconds
        opened = 0
        exhausted = False
        next_tick = start
        while deadline is None or time.monotonic() < deadline:
            due = int((time.monotonic() - start) * args.rate)
            while not exhausted and opened < due:
                path = os.path.join(tmpdir, "log-%06d.txt" % opened)
                try:
                    f = open(path, "w")
                except OSError as e:
                    if e.errno in (errno.EMFILE, errno.ENFILE):
                        exhausted = True
                        break
                    raise
                f.write("opened %d\n" % opened)
                f.flush()
                OPEN_FILES.append(f)
                opened += 1
            # A little ordinary churn so the process is not otherwise idle.
            lines = ["entry %d" % i for i in range(200)]
            "\n".join(lines)
            next_tick += TICK
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_tick = time.monotonic()
    finally:
        for f in OPEN_FILES:
            f.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: exit quietly
        sys.exit(130)
