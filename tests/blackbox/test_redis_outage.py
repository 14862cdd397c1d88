#!/usr/bin/python3
"""Redis away, hall running (reliability issue, item 1): Redis is stopped (SIGSTOP) for 60 s
while kiosks and a window keep working; the hall goes on from its local journal; after SIGCONT
the journal reaches Redis in order: Redis's stream holds every event up to the last seq, and a
restart from Redis alone shows every acknowledged ticket."""
import asyncio
import os
import signal
import time

import hk
from hk import check

STOP_S = float(os.environ.get("HK_OUTAGE_S", "60"))


async def load(d, issued, stop):
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False)
    while not stop.is_set():
        r = await c.request("ticket.issue", category="AB"[len(issued) % 2], timeout=20)
        check(r.get("t") == "ok", "ticket.issue during the outage: %r" % r)
        issued.append(r["ticket"]["code"])
        await asyncio.sleep(0.05)


async def test_60s_outage_under_load():
    d = hk.Daemon()
    await d.start()
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    rpid = d.redis_pid()
    issued, called = [], []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(load(d, issued, stop)) for _ in range(3)]
    await hk.until("tickets before the outage", lambda: len(issued) >= 10, 20)
    os.kill(rpid, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < STOP_S:
            r = await staff.request("call.next", timeout=20)
            if r.get("t") == "ok":
                called.append(r["ticket"]["code"])
                await staff.ok("ticket.noshow", timeout=20)
            await asyncio.sleep(0.2)
        during = len(issued)
        st = await admin.ok("health")
        check(st["status"] == "degraded" and not st["redis_up"], "health during the outage %r" % st)
    finally:
        os.kill(rpid, signal.SIGCONT)
    stop.set()
    await asyncio.gather(*tasks)
    check(during > 100, "only %d tickets issued during a %d s outage" % (during, STOP_S))
    await admin.wait_event("fault", lambda e: e.get("kind") == "redis" and e.get("active") is False, timeout=30)
    await admin.queue_settled()      # the coalesced queue.changed of the last ticket is out too

    async def caught_up():           # a minute of the outage's events, sent on a busy machine
        h = await admin.ok("health")
        return h["pending"] == 0 and h
    seq = (await hk.until("Redis has every event of the outage", caught_up, 60))["seq"]
    # everything reached Redis: its stream ends at the hall's seq
    p = await asyncio.create_subprocess_exec("redis-cli", "-s", d.redis_sock(), "XREVRANGE", "hall:{demo}:events",
                                             "+", "-", "COUNT", "1", stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    top = out.split(b"\n")[0].strip()
    check(top == b"0-%d" % seq, "Redis stream ends at %r, the hall is at seq %d" % (top, seq))
    # a restart from Redis alone (journal removed) shows every acknowledged ticket
    await d.stop()
    os.remove(os.path.join(d.data, "events.journal"))
    await d.start()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    st = (await admin.ok("state.get"))["state"]
    waiting = sum(q["waiting"] for q in st["queues"].values())
    check(waiting == len(issued) - len(called), "after restart from Redis: %d waiting, %d issued - %d called"
          % (waiting, len(issued), len(called)))
    print("  outage %d s: %d tickets and %d calls acknowledged, all in Redis afterwards (seq %d)"
          % (STOP_S, len(issued), len(called), seq))
    await d.stop()


hk.run([test_60s_outage_under_load], timeout=240)
