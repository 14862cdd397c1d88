#!/usr/bin/python3
"""Crash safety (reliability issue, item 2): under continuous load from several clients the
daemon is killed with SIGKILL at random moments, HK_CHAOS_ROUNDS times (50 in the test suite,
200+ in scripts/soak), and restarted on the same data. Then every acknowledged change is compared
with what the restarted daemon reports: no acknowledged ticket lost, none called twice, codes
never reused, seq strictly increasing across restarts."""
import asyncio
import os
import random

import hk
from hk import check

ROUNDS = int(os.environ.get("HK_CHAOS_ROUNDS", "50"))
STAFF = {1: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 2: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", 3: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"}


async def kiosk_load(d, issued, stop):
    try:
        c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        while not stop.is_set():
            r = await c.request("ticket.issue", category=random.choice("ABCD"), timeout=5)
            if r.get("t") == "ok":
                issued.append(r["ticket"]["code"])
    except Exception:
        pass     # the daemon was killed under us: expected


async def staff_load(d, wid, called, left_behind, stop):
    try:
        c = await hk.connect(d, STAFF[wid])
        await c.request("window.open", window=wid)
        while not stop.is_set():
            r = await c.request("call.next", timeout=5)
            if r.get("t") == "ok":
                called.append(r["ticket"]["code"])
                await c.request("ticket.noshow", timeout=5)
            elif r.get("code") == "conflict":
                # a ticket left at the window by a kill: called before, maybe without our knowing
                n = await c.request("ticket.noshow", timeout=5)
                if n.get("t") == "ok":
                    left_behind.append(n["ticket"]["code"])
            else:
                await asyncio.sleep(0.02)
    except Exception:
        pass


async def drain(d):
    """Calls out everything still waiting; returns (codes left at windows, codes called now)."""
    out, left = [], []
    for wid, tok in STAFF.items():
        c = await hk.connect(d, tok)
        r = await c.ok("window.open", window=wid)
        cur = r["window"].get("current")
        if cur:
            left.append(cur["code"])       # called before (acknowledged or not), never called again
            await c.ok("ticket.noshow")
        while True:
            r = await c.request("call.next")
            if r.get("code") == "queue_empty":
                break
            check(r.get("t") == "ok", "drain call.next %r" % r)
            out.append(r["ticket"]["code"])
            await c.ok("ticket.noshow")
        await c.close()
    return left, out


async def test_kill9_under_load():
    d = hk.Daemon()
    issued, called, left_behind, seqs = [], [], [], []
    await d.start()
    for rnd in range(ROUNDS):
        probe = await hk.connect(d)
        h = await probe.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        seqs.append(h["seq"])
        await probe.close()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(kiosk_load(d, issued, stop)) for _ in range(3)]
        tasks += [asyncio.create_task(staff_load(d, w, called, left_behind, stop)) for w in (1, 2)]
        await asyncio.sleep(random.uniform(0.1, 0.6))
        await d.kill()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await d.start(timeout=60)
    probe = await hk.connect(d)
    seqs.append((await probe.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"))["seq"])
    left, rest = await drain(d)
    await d.stop()
    check(issued, "no ticket was acknowledged in %d rounds" % ROUNDS)
    check(all(b >= a for a, b in zip(seqs, seqs[1:])), "seq went backwards across restarts: %r" % seqs)
    check(len(set(issued)) == len(issued), "a code was issued twice: %r"
          % sorted(c for c in set(issued) if issued.count(c) > 1)[:10])
    seen = called + rest
    dup = sorted(c for c in set(seen) if seen.count(c) > 1)
    check(not dup, "tickets called twice: %r" % dup[:10])
    lost = set(issued) - set(seen) - set(left) - set(left_behind)
    check(not lost, "%d acknowledged tickets lost: %r" % (len(lost), sorted(lost)[:10]))
    print("chaos: %d kills, %d tickets acknowledged, %d calls acknowledged, final seq %d"
          % (ROUNDS, len(issued), len(called), seqs[-1]))


hk.run([test_kill9_under_load], timeout=1800)
