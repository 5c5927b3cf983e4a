#!/usr/bin/env python3
"""The classic observer leak: every incoming request creates a Subscriber and registers
it in a global registry to receive events, and nothing ever unregisters it (~500/s).
Events go only to the newest subscribers, so the cost per tick stays constant while
the registry, and the count of live Subscriber instances, grows without bound.

Usage: observer_registry.py [--seconds N] [--rate SUBSCRIBERS_PER_S]   (default: forever)
Works with Python 3.6 and later; prints nothing.
"""
import paced


class Subscriber(object):
    def __init__(self, sid, topic):
        self.sid = sid
        self.topic = topic
        self.received = 0

    def notify(self, event):
        self.received += 1


class Registry(object):
    def __init__(self):
        self.subscribers = []

    def register(self, sub):
        self.subscribers.append(sub)

    def unregister(self, sub):  # exists, but the request handler forgets to call it
        self.subscribers.remove(sub)

    def publish(self, event, newest=50):
        for sub in self.subscribers[-newest:]:
            sub.notify(event)


REGISTRY = Registry()


def handle_request(rid):
    sub = Subscriber(rid, "topic-%d" % (rid % 16))
    REGISTRY.register(sub)
    # Request work: temporaries that die at the end of the call.
    body = {"rid": rid, "path": "/items/%d" % rid, "args": [rid, rid + 1]}
    return len(body["path"]) + sum(body["args"])


def main():
    ap = paced.parser(__doc__)
    ap.add_argument("--rate", type=int, default=500, help="Subscribers leaked per second")
    args = ap.parse_args()
    per_tick = max(1, int(args.rate * paced.TICK))

    def step(n):
        for rid in range(n * per_tick, (n + 1) * per_tick):
            handle_request(rid)
        REGISTRY.publish(("tick", (n + 1) * per_tick))

    paced.run(step, args.seconds)


if __name__ == "__main__":
    paced.main_quietly(main)
