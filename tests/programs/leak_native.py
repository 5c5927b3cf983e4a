#!/usr/bin/env python3
"""Leaks native memory that no Python object accounts for: 100 times a second (--rate)
it calls libc malloc(4096) through ctypes, fills the block (as a real C extension
would) and drops the pointer, so ~400 KiB/s of heap grows while the Python objects
stay flat. With --free it frees every block: not a leak.

Usage: leak_native.py [--seconds N] [--rate N] [--free]
Works with Python 3.6 and later on glibc; prints nothing.
"""
import ctypes
import ctypes.util

import paced

BLOCK = 4096


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=int, default=100, help="blocks per second")
    ap.add_argument("--free", action="store_true", help="free each block: not a leak")
    args = ap.parse_args()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    per_tick = max(1, int(args.rate * paced.TICK))

    def step(n):
        for _ in range(per_tick):
            p = libc.malloc(BLOCK)
            libc.memset(p, 0x5a, BLOCK)
            if args.free:
                libc.free(p)

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
