#!/usr/bin/env python3
# The daemon's side of systemd's notify protocol (Type=notify, WatchdogSec=), with
# NOTIFY_SOCKET pointing at our own datagram socket: READY=1 (with a STATUS=) once the
# first scan's probes are attached, WATCHDOG=1 often enough for WatchdogSec while its
# event loop turns, STOPPING=1 and exit 0 on SIGTERM.
# Usage: daemon_notify.py NAME LEAKD DIR; prints "PASS NAME (...)" or "FAIL NAME: why".
import os
import socket
import subprocess
import sys
import time

name, leakd, d = sys.argv[1:4]
WATCHDOG_S = 2.0  # as WatchdogSec=2: systemd kills a service silent for that long
RUN_S = 6.0
sock_path = os.path.join(d, "notify.sock")
conf = os.path.join(d, "leakd.conf")
with open(conf, "w") as f:
    # a port of its own, and no process to watch: only the protocol is under test
    f.write("listen_address = 127.0.0.1:0\ninclude_comm = leakd-nothing\n")
try:
    os.unlink(sock_path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(0.1)
env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC=str(int(WATCHDOG_S * 1e6)))
# WATCHDOG_PID must be leakd's own pid: exec from a shell that sets it to $$.
p = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" --daemon --config "$1"', leakd, conf],
                     env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "leakd.err"), "w"))
msgs = []


def drain(until):
    while time.monotonic() < until:
        try:
            msgs.append((time.monotonic() - t0, s.recv(4096).decode(errors="replace")))
        except socket.timeout:
            pass


t0 = time.monotonic()
drain(t0 + RUN_S)
p.terminate()
drain(time.monotonic() + 2.0)
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hung"
with open(os.path.join(d, "notify.log"), "w") as f:
    for t, m in msgs:
        f.write("%.3f %r\n" % (t, m))

fail = None
ready = [t for t, m in msgs if "READY=1" in m.split("\n")]
dogs = [t for t, m in msgs if "WATCHDOG=1" in m.split("\n")]
if rc != 0:
    fail = "exit status %s after SIGTERM (want 0)" % rc
elif not ready:
    fail = "no READY=1 in %d messages" % len(msgs)
elif not any(m.startswith("READY=1") and "STATUS=watching 0 Python processes" in m for _, m in msgs):
    fail = "READY=1 came without 'STATUS=watching 0 Python processes'"
elif not msgs or "STOPPING=1" not in msgs[-1][1].split("\n"):
    fail = "the last message is %r, not STOPPING=1" % (msgs[-1][1] if msgs else None)
else:
    # from the start to the SIGTERM, no gap as long as the watchdog's timeout
    marks = [0.0] + [t for t in dogs if t <= RUN_S] + [RUN_S]
    gap = max(b - a for a, b in zip(marks, marks[1:]))
    if gap >= WATCHDOG_S:
        fail = "a %.2f s gap between watchdog pings (WatchdogSec=%g)" % (gap, WATCHDOG_S)
if fail:
    print("FAIL %s: %s" % (name, fail))
else:
    print("PASS %s (READY=1 after %.2f s, %d watchdog pings in %g s, longest gap %.2f s, STOPPING=1, exit 0)"
          % (name, ready[0], len([t for t in dogs if t <= RUN_S]), RUN_S, gap))
