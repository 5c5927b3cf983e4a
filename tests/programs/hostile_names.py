#!/usr/bin/env python3
"""A process whose names try to forge leakd's output: it renames itself (prctl
PR_SET_NAME) to a comm holding a newline and an escape sequence, and keeps ~500/s
instances of a class whose name holds a forged leakd line, OSC and CSI sequences (the
C1 CSI U+009B among them), quotes, backslashes and braces, and as many of a class named
with 10,000 characters (LONG) and of one whose qualified name holds a lone surrogate
(SURROGATE, which no UTF-8 encoder accepts). Prints "ready" once renamed.

Usage: hostile_names.py [--seconds N]
Linux only (prctl through ctypes); works with Python 3.6 and later.
"""
import ctypes
import sys

import paced

PR_SET_NAME = 15
COMM = b"py\nleakd: \x1b[2J"  # 15 bytes: the kernel keeps 15 plus the NUL
NAME = ('Evil\nleakd: pid 1 (systemd, unit init.scope) no longer leaks: "x"\\ {}'
        '\x1b]0;pwned\x07\u009b31m\x7f')

LONG = "Long" + "\x1b[1m" + "L" * 9991  # 10,000 characters
SURROGATE = "Half\udc80Pair"

KEPT = []


def main():
    args = paced.parser(__doc__).parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(COMM), 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_NAME) failed: errno %d" % ctypes.get_errno())
    evil = type(NAME, (object,), {})
    long_ = type(LONG, (object,), {})
    half = type("Half", (object,), {})
    half.__qualname__ = SURROGATE  # type() itself refuses to encode it
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    paced.run(lambda n: KEPT.extend(c() for c in (evil, long_, half) for _ in range(25)),
              args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
