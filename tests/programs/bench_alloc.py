#!/usr/bin/env python3
"""Allocation-heavy benchmark for leakd's overhead: a fixed number of iterations, each
making and dropping dicts, lists, strs, tuples and small instances (some kept for a
while in a ring so objects live across collections), then prints its own elapsed wall
time of the loop (excluding interpreter start-up and any attach) as JSON {"seconds": x}.

Usage: bench_alloc.py [--iterations N] [--warmup S] [--workload alloc|server]
  (default 3,000,000 iterations: ~3 s untraced on Debian 3.11, ~5 s on pyenv 3.11)
--workload server: each iteration is instead one request of a small service, over a
socketpair: the client sends a JSON body, the server reads it, parses it, looks the
user up in a bounded cache, builds a few instances and a response, serialises it and
sends it back, and the client reads it (~20x slower per iteration than alloc: use
about a twentieth of the iterations). A server spends much of its time outside
allocation, in parsing, syscalls and C code; alloc is the worst case.
--warmup S: before the timed loop, keep a Point every iteration for S seconds, a
growing class for leakd --sites to open a site window on (it then stays open
through the loop with a long --site-window), to time a loop under an open window.
Works with Python 3.6 and later.
"""
import argparse
import json
import socket
import sys
import time


class Point(object):
    def __init__(self, x, y):
        self.x = x
        self.y = y


def work(iterations):
    ring = [None] * 1024  # survivors: each slot lives ~1,024 iterations
    acc = 0
    for i in range(iterations):
        d = {"i": i, "name": "n%d" % i, "pt": Point(i, i + 1)}
        lst = [i, i + 1, d["name"], (i, d["name"])]
        s = "-".join((d["name"], str(i % 97)))
        t = tuple(lst)
        ring[i & 1023] = (d, lst)
        acc += len(s) + len(t) + d["pt"].y
    return acc


class User(object):
    def __init__(self, uid, name):
        self.uid = uid
        self.name = name
        self.visits = 0


class Item(object):
    __slots__ = ("sku", "qty", "price")

    def __init__(self, sku, qty):
        self.sku = sku
        self.qty = qty
        self.price = (len(sku) * 7 + qty) % 100 / 10.0

    def as_dict(self):
        return {"sku": self.sku, "qty": self.qty, "price": self.price}


def handle(raw, cache):
    req = json.loads(raw)
    user = cache.get(req["user"])
    if user is None:
        user = cache[req["user"]] = User(req["user"], req["name"])
        if len(cache) > 2000:
            del cache[next(iter(cache))]
    user.visits += 1
    items = [Item(sku, req["qty"]) for sku in req["items"]]
    resp = {"user": user.name, "visits": user.visits, "items": [i.as_dict() for i in items],
            "total": round(sum(i.price * i.qty for i in items), 2)}
    return json.dumps(resp).encode()


def serve(requests):
    client, server = socket.socketpair()
    cache = {}
    acc = 0
    try:
        for i in range(requests):
            body = json.dumps({"user": "u%d" % (i % 5000), "name": "user %d" % (i % 5000),
                               "qty": i % 7 + 1, "items": ["sku-%d" % ((i + k) % 300) for k in range(5)]})
            client.sendall(body.encode())
            resp = handle(server.recv(65536), cache)
            server.sendall(resp)
            acc += len(client.recv(65536))
    finally:
        client.close()
        server.close()
    return acc


KEPT = []


def warmup(seconds):
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        for _ in range(200):
            i += 1
            KEPT.append(Point(i, i))
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=3000000)
    ap.add_argument("--warmup", type=float, default=0)
    ap.add_argument("--workload", choices=("alloc", "server"), default="alloc")
    args = ap.parse_args()
    if args.warmup:
        warmup(args.warmup)
    t0 = time.perf_counter()
    (serve if args.workload == "server" else work)(args.iterations)
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": round(elapsed, 4), "iterations": args.iterations, "workload": args.workload}))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: exit quietly
        sys.exit(130)
