#!/usr/bin/python3
"""Replay == live across modules, through the real daemon (--test-clock, clock.advance): two
simulated business days with a 03:00 rollover (a ticket carried over, appointments, a case, a bad
rating and its follow-up, an acknowledged load alert that comes back), then kill -9 and a
restart: the hall rebuilt from its events answers every list exactly as before. Also: no two
tickets in the hall share a code, and public roles see no visitor names or rating text."""
import time

import hk
from hk import check

CONFIG = """
hall: { id: review, name: 复核测试中心 }
tokens:
  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }
  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",   role: display }
  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }
  - { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",   role: staff, staff: "0002" }
  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }
staff:
  - { id: "0001", name: 张三 }
  - { id: "0002", name: 李四 }
categories:
  - { id: A, name: 社保医保, alert_length: 2 }
  - { id: B, name: 不动产登记 }
matters:
  - { id: BDC01, name: 不动产转移登记, category: B, promised_days: 5, legal_days: 30 }
windows:
  - { id: 1, name: 1号窗口, categories: [A, B], posts: { a: "0001", b: "0002" } }
  - { id: 2, name: 2号窗口, categories: [B, A], posts: { a: "0002" } }
work: { rollover: "03:00" }
"""

MIN = 60 * 1000


async def to_local(admin, day_offset, hh, mm):
    """Moves the daemon's clock to local HH:MM:01 of today + day_offset (from the clock's day)."""
    now = (await admin.ok("clock.advance", ms=0))["now"]
    t = time.localtime(now / 1000)
    target = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + day_offset, hh, mm, 1, 0, 0, -1)) * 1000
    check(target > now, "clock would go back")
    await admin.ok("clock.advance", ms=int(target - now))
    return target


def strip(v):
    """Drops what depends on the moment asked, not on the state (estimates, open)."""
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("est_wait_s", "open", "now")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


async def snapshot(d):
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    s = {}
    s["state"] = strip((await admin.ok("state.get"))["state"])
    s["faults"] = s["state"].pop("faults", None) and None
    s["alerts"] = (await admin.ok("alerts.list"))["alerts"]
    s["duty"] = (await admin.ok("duty.get"))["windows"]
    s["cases"] = (await admin.ok("cases.list", status="all"))["cases"]
    s["followups"] = strip(await admin.ok("followups.list"))
    s["appointments"] = (await admin.ok("appointments.list", date="all"))["appointments"]
    s["ratings"] = strip(await admin.ok("ratings.stats"))
    for k in ("followups", "ratings"):
        s[k].pop("id", None)
    await admin.close()
    return s


async def test_two_days_then_kill():
    async with hk.fresh(config=hk.write_config(CONFIG), args=["--test-clock"]) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        display = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await to_local(admin, 1, 8, 40)
        await s1.ok("staff.checkin", window=1)
        await s1.ok("window.open", window=1)
        day1 = time.strftime("%Y-%m-%d", time.localtime((await admin.ok("clock.advance", ms=0))["now"] / 1000))
        await admin.ok("appointment.add", number="Y1", name="王小明", category="B",
                       slot_start=day1 + " 10:00", slot_end=day1 + " 10:30")
        codes = [(await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"] for _ in range(2)]
        load = await admin.wait_event("alert.raised", lambda e: e.get("kind") == "load")
        await admin.ok("alert.ack", alert=load["id"])
        t = (await s1.ok("call.next"))["ticket"]
        await s1.ok("ticket.finish", outcome="即办件")
        await kiosk.ok("ticket.rate", code=t["code"], score=1, reason="等候时间过长", text="王小明说太慢了")
        await admin.ok("clock.advance", ms=2 * MIN)
        await to_local(admin, 0, 10, 0)
        appt = (await kiosk.ok("ticket.issue", appointment="Y1"))["ticket"]["code"]
        t = (await s1.ok("call.next"))["ticket"]
        if t["code"] != appt:                       # the fairness cap may call a long wait first
            await s1.ok("ticket.finish", outcome="即办件")
            t = (await s1.ok("call.next"))["ticket"]
        check(t["code"] == appt, "the appointment's ticket is called: %r" % t)
        await s1.ok("ticket.finish", outcome="承诺件", matter="BDC01")
        # the load alert's cause ended (no A waiting), then comes back: a new alert
        await admin.ok("clock.advance", ms=2 * MIN)     # the ticks see the cause end before it replies
        for _ in range(2):
            codes.append((await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"])
        again = await admin.wait_event("alert.raised", lambda e: e.get("kind") == "load")
        check(again["id"] != load["id"], "a new load alert %r" % again)
        # the business day ends at 03:00 with two A tickets waiting: they carry over
        await to_local(admin, 1, 3, 1)
        await admin.wait_event("day.closed")
        waiting = codes[2:]                             # A003, A004
        for _ in range(3):                              # numbering starts again at 001
            new = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
            check(new not in waiting, "a new day's ticket %s has the code of one still waiting %r" % (new, waiting))
        await admin.ok("clock.advance", ms=MIN)
        # public roles: no names, no rating text
        for ev in display.events:
            blob = repr(ev)
            check("王小明" not in blob and "太慢" not in blob, "display got %r" % ev)
        st = (await display.ok("state.get"))["state"]
        check("王小明" not in repr(st), "display state %r" % st)
        before = await snapshot(d)
        for c in (admin, kiosk, display, s1):
            await c.close()
        await d.kill()
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        # the restarted daemon's clock is the real one again: the hall state must not depend on it
        after = await snapshot(d)
        for k in before:
            check(before[k] == after[k], "%s differs after kill -9:\n before %r\n after  %r" % (k, before[k], after[k]))
        await admin.close()


if __name__ == "__main__":
    hk.run([test_two_days_then_kill])
