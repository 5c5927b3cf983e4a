#!/usr/bin/env python3
"""Writes the fuzz_heapwalk seed: a 3.11 memory image (mapped at 0x10000000 by the
harness) whose object at +64 is a tracked list of 8 untracked tuples, each holding a
float, a shared str and its own str, plus a self-referencing tuple; types are laid out
as CPython's are (ob_type at +8, tp_name at +24, sizes at +32/+40, flags at +168,
tp_base at +256), with `type` its own type. Usage: make_heap_seed.py OUTFILE"""
import struct
import sys

BASE = 0x10000000
mem = bytearray(16384)
brk = [256]


def alloc(n):
    a = brk[0]
    brk[0] += (n + 15) & ~15
    return a


def w64(off, v):
    struct.pack_into("<Q", mem, off, v)


def cstr(s):
    a = alloc(len(s) + 1)
    mem[a:a + len(s)] = s.encode()
    return BASE + a


READY, HAVE_GC = 1 << 12, 1 << 14
type_type = alloc(400)


def new_type(name, flags, basic, item):
    t = alloc(400) if name != "type" else type_type
    w64(t, 1)
    w64(t + 8, BASE + type_type)
    w64(t + 24, cstr(name))
    w64(t + 32, basic)
    w64(t + 40, item)
    w64(t + 168, flags | READY)
    return BASE + t


new_type("type", HAVE_GC, 920, 40)
t_list = new_type("list", HAVE_GC, 40, 0)
t_tuple = new_type("tuple", HAVE_GC, 24, 8)
t_str = new_type("str", 1 << 28, 48, 1)
t_float = new_type("float", 0, 24, 0)


def obj(t, size, ob_size=0, tracked=False):
    a = alloc(16 + size) + 16
    w64(a - 16, BASE + a if tracked else 0)  # GC head: next link, 0 = untracked
    w64(a, 1)
    w64(a + 8, t)
    w64(a + 16, ob_size)
    return BASE + a


def ascii_str(s):
    a = obj(t_str, 48 + len(s) + 1)
    w64(a - BASE + 16, len(s))
    struct.pack_into("<I", mem, a - BASE + 32, (1 << 5) | (1 << 6) | (1 << 2))
    mem[a - BASE + 48:a - BASE + 48 + len(s)] = s.encode()
    return a


shared = ascii_str("shared")
items = []
for i in range(8):
    t = obj(t_tuple, 24 + 24, 3)
    for k, v in enumerate((obj(t_float, 24), shared, ascii_str("value-%d" % i))):
        w64(t - BASE + 24 + 8 * k, v)
    items.append(t)
cyc = obj(t_tuple, 24 + 8, 1)
w64(cyc - BASE + 24, cyc)
items.append(cyc)
arr = alloc(8 * 16)
for i, v in enumerate(items):
    w64(arr + 8 * i, v)
# the list goes at +64 (the harness's entry), its GC head at +48
w64(48, BASE + 48)
w64(64, 1)
w64(72, t_list)
w64(80, len(items))
w64(88, BASE + arr)
w64(96, 16)
mem[0] = 1  # layout: 3.11
open(sys.argv[1], "wb").write(bytes(mem[:brk[0]]))
