#!/usr/bin/env python3
"""Leaks file descriptors: opens plain files under a private temporary directory
(~15/s) and keeps the file objects referenced in a list without ever closing them,
so /proc/PID/fd grows steadily (900 after 60 s, well below a 1,024 ulimit). If the
descriptor limit is reached anyway it stops opening and keeps running.

With --truth FILE it writes, once the first file is open, the holder path leakd must
find for the file objects (a regular expression over its text), from their own type.

Usage: leak_open_files.py [--seconds N] [--rate FILES_PER_S] [--truth FILE]
Works with Python 3.6 and later; prints nothing. The directory is removed on exit.
"""
import errno
import json
import re
import os
import shutil
import signal
import sys
import tempfile
import time

import paced

OPEN_FILES = []  # the leak


def open_due(tmpdir, due):
    """Opens files until `due` are open; stops for good at the descriptor limit."""
    while len(OPEN_FILES) < due:
        path = os.path.join(tmpdir, "log-%06d.txt" % len(OPEN_FILES))
        try:
            f = open(path, "w")
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                return False
            raise
        f.write("opened %d\n" % len(OPEN_FILES))
        f.flush()
        OPEN_FILES.append(f)
    return True


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=float, default=15.0, help="files opened per second")
    ap.add_argument("--truth", default=None, help="write the expected holder path here")
    args = ap.parse_args()

    # A tracer that ends the session with SIGTERM must not leave the directory behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    tmpdir = tempfile.mkdtemp(prefix="leakd-open-files-")
    start = time.monotonic()
    state = {"open": True}

    def step(n):
        if state["open"]:
            state["open"] = open_due(tmpdir, int((time.monotonic() - start) * args.rate))
        if args.truth and OPEN_FILES:
            t = type(OPEN_FILES[0])
            name = "%s.%s" % (t.__module__, t.__qualname__)
            with open(args.truth, "w") as f:
                json.dump({"holders": {name: r"module %s \. OPEN_FILES \(list\) \[\*\] -> %s" % (
                    re.escape(__name__), re.escape(name))}}, f)
            args.truth = None
        # A little ordinary churn so the process is not otherwise idle.
        "\n".join(["entry %d" % i for i in range(200)])

    try:
        paced.run(step, args.seconds, tick=0.1)
    finally:
        for f in OPEN_FILES:
            f.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    paced.main_quietly(main)
