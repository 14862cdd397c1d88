#!/usr/bin/python3
"""systemd integration (scripts/systemd/hallkeeper.service, Type=notify): READY=1 only once the
daemon accepts clients, WATCHDOG=1 pings while the loop runs, STOPPING=1 on SIGTERM. A fake
NOTIFY_SOCKET stands in for systemd."""
import asyncio
import os
import socket
import time

import hk
from hk import check


async def test_notify_ready_watchdog_stopping():
    path = os.path.join(hk.tmpdir("notify"), "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.setblocking(False)
    d = hk.Daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    msgs = []

    def drain():
        while True:
            try:
                msgs.append((time.monotonic(), s.recv(4096).decode()))
            except BlockingIOError:
                return
    await d.start()
    ready_seen = time.monotonic()
    await asyncio.sleep(1.2)
    drain()
    ready = [m for t, m in msgs if "READY=1" in m]
    check(ready, "no READY=1 in %r" % msgs)
    check("ready on port" in d.stderr_text(), "READY before the daemon was ready")
    pings = [m for t, m in msgs if "WATCHDOG=1" in m]
    check(len(pings) >= 3, "only %d watchdog pings in 1.2 s with WatchdogSec=0.4 s: %r" % (len(pings), msgs))
    await d.stop()
    drain()
    check(any("STOPPING=1" in m for t, m in msgs), "no STOPPING=1 in %r" % msgs)
    s.close()


hk.run([test_notify_ready_watchdog_stopping])
