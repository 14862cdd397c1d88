#!/usr/bin/python3
"""Fan-out liveness: 200 display connections all receive a ticket.called (and the same seq for it)
within a generous bound. No speed is asserted beyond that bound."""
import asyncio
import time

import hk
from hk import check

N = 200


async def open_displays(d, n):
    conns = []
    for i in range(0, n, 25):
        conns += await asyncio.gather(*(hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", timeout=20) for _ in range(25)))
    return conns


async def test_200_displays_get_ticket_called():
    d = await hk.daemon()
    displays = await open_displays(d, N)
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    code = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
    t0 = time.monotonic()
    await staff.ok("call.next")
    results = await asyncio.gather(*(c.wait_event("ticket.called", lambda e: e.get("code") == code, timeout=10)
                                     for c in displays), return_exceptions=True)
    missing = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    check(not missing, "%d of %d displays did not get ticket.called within 10 s (first: %r)"
          % (len(missing), N, results[missing[0]] if missing else None))
    seqs = {r["seq"] for r in results}
    check(len(seqs) == 1, "the same ticket.called carried different seqs: %r" % sorted(seqs))
    for r in results:
        check(r.get("window") == 1 and r.get("recall") is False, "event %r" % r)
    print("  (all %d displays had the call %.2f s after call.next)" % (N, time.monotonic() - t0))
    # every display still works, and a recall reaches them all too
    await staff.ok("call.recall")
    results = await asyncio.gather(*(c.wait_event("ticket.called", lambda e: e.get("recall") is True, timeout=10)
                                     for c in displays), return_exceptions=True)
    missing = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    check(not missing, "%d displays missed the recall" % len(missing))
    r = await displays[-1].ok("state.get")
    check(r["state"]["recent_calls"][0]["code"] == code, "recent_calls %r" % r["state"]["recent_calls"][:1])
    await asyncio.gather(*(c.close() for c in displays))
    await kiosk.close()
    await staff.close()


async def test_fanout_while_displays_come_and_go():
    d = await hk.daemon()
    stable = await open_displays(d, 50)
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    staff = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
    await staff.ok("window.open", window=2)
    codes = []

    async def churn():
        for _ in range(5):
            cs = await open_displays(d, 25)
            for c in cs:
                c.ws.transport.abort()
            await asyncio.sleep(0.05)

    async def work():
        for _ in range(20):
            codes.append((await kiosk.ok("ticket.issue", category="C"))["ticket"]["code"])
            await staff.ok("call.next")
            await staff.ok("ticket.noshow")

    await asyncio.gather(churn(), work())
    for c in stable:
        ok = await c.wait_for(lambda cl: sum(1 for e in cl.events if e.get("ev") == "ticket.called") >= 20, 10)
        check(ok, "a stable display got only %d of 20 calls"
              % sum(1 for e in c.events if e.get("ev") == "ticket.called"))
        seqs = [e["seq"] for e in c.events]
        check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a stable display saw a gap in seq")
    await asyncio.gather(*(c.close() for c in stable))


hk.run([test_200_displays_get_ticket_called, test_fanout_while_displays_come_and_go])
