#!/usr/bin/python3
"""Restart with a busy day: 20000 tickets issued (8 kiosks, pipelined), some called and finished,
then kill -9 and a restart on the same data dir. The restored hall must be the same: every queue's
waiting count, the windows' current tickets, seq; every event restored from Redis (none had to
come back from the local journal); codes continue after the highest issued; a call.next calls a
ticket that was waiting. Correctness only: the one time bound is a generous liveness bound on the
restart (scripts/bench/restart measures its speed)."""
import asyncio
import re

import hk
from hk import check

TICKETS = 20000
KIOSKS = 8            # 2500 each: inside one connection's burst (twice http.rate_per_connection)


def code_num(code):
    m = re.match(r"^[A-Z](\d+)$", code)
    check(m, "code %r is not LETTER+digits" % code)
    return int(m.group(1))


async def issue_many(d):
    """TICKETS tickets, categories A-D in turn, KIOSKS connections each with all its requests in
    flight at once; returns {code: category}."""
    kiosks = [await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False) for _ in range(KIOSKS)]
    per = TICKETS // KIOSKS

    async def one(k, base):
        rs = await asyncio.gather(*(k.request("ticket.issue", timeout=60, category="ABCD"[(base + i) % 4])
                                    for i in range(per)))
        return rs

    results = await asyncio.gather(*(one(k, j * per) for j, k in enumerate(kiosks)))
    issued = {}
    for rs in results:
        for r in rs:
            check(r.get("t") == "ok", "ticket.issue -> %r" % r)
            issued[r["ticket"]["code"]] = r["ticket"]["category"]
    check(len(issued) == TICKETS, "%d distinct codes for %d tickets" % (len(issued), TICKETS))
    for k in kiosks:
        await k.close()
    return issued


async def test_restart_with_20000_tickets():
    d = hk.Daemon()
    await d.start()
    issued = await issue_many(d)
    s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await s1.ok("window.open", window=1)
    called = set()
    for _ in range(3):
        r = await s1.ok("call.next")
        called.add(r["ticket"]["code"])
        await s1.ok("ticket.start")
        await s1.ok("ticket.finish", outcome="即办件")
    r = await s1.ok("call.next")
    current = r["ticket"]["code"]
    called.add(current)
    await s1.queue_settled()                     # the coalesced queue.changed of the last change
    disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    before = (await disp.ok("state.get"))["state"]
    probe = await hk.connect(d)                  # one hello per connection: a new one for the seq
    seq_before = (await probe.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"))["seq"]
    await probe.close()
    waiting = sum(before["queues"][c]["waiting"] for c in hk.DEMO_CATEGORIES)
    check(waiting == TICKETS - len(called), "%d waiting before the kill, want %d" % (waiting, TICKETS - len(called)))

    await d.kill()                               # kill -9, the daemon alone
    for c in (s1, disp):
        await c.close()
    await d.start(timeout=40)                    # liveness only

    log = d.stderr_text()
    m = re.search(r"ready on port \d+: (\d+) events restored, seq (\d+)", log)   # this start's log
    check(m, "no 'events restored' in the restarted daemon's log")
    check(int(m.group(2)) == seq_before, "restored seq %s, %s before the kill" % (m.group(2), seq_before))
    check("restored from the local" not in log, "events had to come back from the local journal: %s" % log[-800:])
    disp = await hk.connect(d)
    h = await disp.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    check(h.get("t") == "ok", "hello after restart %r" % h)
    check(h["seq"] >= seq_before, "seq %s after restart < %s before" % (h["seq"], seq_before))
    after = h["state"]
    for cat in hk.DEMO_CATEGORIES:
        check(after["queues"][cat]["waiting"] == before["queues"][cat]["waiting"],
              "queue %s: %s waiting after restart, %s before" % (cat, after["queues"][cat]["waiting"],
                                                              before["queues"][cat]["waiting"]))
    w1 = next(w for w in after["windows"] if w["id"] == 1)
    check(w1["current"] and w1["current"]["code"] == current, "window 1 current %r, want %s" % (w1["current"], current))

    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    new = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
    max_a = max(code_num(c) for c, cat in issued.items() if cat == "A")
    check(code_num(new) > max_a, "A code %s after restart does not continue after A%d" % (new, max_a))
    s2 = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
    await s2.ok("window.open", window=2)
    t = (await s2.ok("call.next"))["ticket"]
    check(t["code"] in issued and t["code"] not in called, "call.next after restart called %r" % t)
    for c in (disp, kiosk, s2):
        await c.close()
    await d.stop()


if __name__ == "__main__":
    hk.run([test_restart_with_20000_tickets], timeout=60)
