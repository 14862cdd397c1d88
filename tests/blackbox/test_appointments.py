#!/usr/bin/python3
"""Appointments (预约) through the real daemon (--test-clock, TZ Asia/Shanghai) and hallctl: a day's
CSV is imported with `hallctl appointments import` (a bad file names every bad line and imports
nothing), listed with `hallctl appointments list`; a kiosk checks in with ticket.issue
{appointment}: too early is refused, in time gives a priority ticket of the booked category that
is called before an older normal ticket; the visitor's name never reaches display or kiosk
connections (events, replies, state); a missed slot is released by the hall's tick once the clock
passes its end + 15 min; and the book survives a restart."""
import asyncio
import datetime
import os

import hk
from hk import check

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NAMES = ("测试甲", "测试乙", "测试丙")


def daemon_kw():
    return dict(args=["--test-clock"], env={"TZ": "Asia/Shanghai"})


async def ctl(d, token, *args, timeout=20):
    env = {k: v for k, v in os.environ.items() if k not in ("HALL_URL", "HALL_TOKEN")}
    rc, out, err = await hk.run_cmd([hk.CTL, "--url", d.url, "--token", token] + list(args), timeout=timeout, env=env)
    check(rc is not None, "hallctl %s did not finish" % " ".join(args))
    return rc, out, err


def local(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, SHANGHAI)


async def clock_to(admin, when):
    """Moves the test clock forward to the local datetime `when`; returns the new now (ms)."""
    now = (await admin.ok("clock.advance", ms=0))["now"]
    delta = int(when.timestamp() * 1000) - now
    check(delta >= 0, "the clock only moves forward (%d ms)" % delta)
    return (await admin.ok("clock.advance", ms=delta))["now"]


def leaked_names(obj):
    text = repr(obj)
    return [n for n in NAMES if n in text]


async def test_appointment_day():
    async with hk.fresh(**daemon_kw()) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        # start the simulated day at 08:00 tomorrow (local), so every slot is ahead of the clock
        now = (await admin.ok("clock.advance", ms=0))["now"]
        day = (local(now) + datetime.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        await clock_to(admin, day)
        date = day.strftime("%Y-%m-%d")

        tmp = hk.tmpdir("csv")
        bad = os.path.join(tmp, "bad.csv")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("number,name,category,date,start,end,matter\n"
                    "YY-1,%s,A,%s,09:00,09:30,社保\n"
                    "YY-2,%s,Q,%s,09:00,09:30,\n"
                    "YY-3,%s,B,%s,10:30,10:00,\n" % (NAMES[0], date, NAMES[1], date, NAMES[2], date))
        rc, out, err = await ctl(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "appointments", "import", bad)
        check(rc == 1, "a bad CSV: exit %s, stdout %r stderr %r" % (rc, out, err))
        check("line 3: no category 'Q'" in err and "line 4: the slot must start before it ends" in err
              and "nothing imported" in err, "every bad line is named: %r" % err)
        check((await admin.ok("appointments.list", date="all"))["total"] == 0, "all or nothing")

        good = os.path.join(tmp, "day.csv")
        with open(good, "w", encoding="utf-8") as f:
            f.write("number,name,category,date,start,end,matter\n"
                    "YY-1,%s,A,%s,09:00,09:30,社保\n"
                    "YY-2,%s,B,%s,09:00,09:30,\n"
                    "YY-3,\"%s\",A,%s,10:00,10:30,\"医保, 异地\"\n" % (NAMES[0], date, NAMES[1], date, NAMES[2], date))
        rc, out, err = await ctl(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "appointments", "import", good)
        check(rc == 0 and "imported 3 appointments" in out, "import: exit %s %r %r" % (rc, out, err))
        await staff.wait_event("appointment.added", lambda e: e.get("number") == "YY-3")

        rc, out, err = await ctl(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "appointments", "list", date)
        check(rc == 0 and all(n in out for n in NAMES) and "3 appointments" in out, "list (staff): %r %r" % (out, err))
        rc, out, err = await ctl(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", "appointments", "list")
        check(rc == 1 and "forbidden" in err, "a kiosk may not list: %s %r" % (rc, err))
        rc, out, err = await ctl(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "--json", "appointments", "list", "all")
        check(rc == 0 and out.count("\n") == 3 and '"state":"booked"' in out, "list --json: %r" % out)

        # 08:00: too early for a 09:00 slot (check-in opens at 08:30)
        r = await kiosk.err("ticket.issue", "conflict", appointment="YY-1")
        check("too early" in r["msg"] and "08:30" in r["msg"], "too early: %r" % r)
        await kiosk.err("ticket.issue", "not_found", appointment="YY-404")

        await clock_to(admin, day.replace(hour=8, minute=31))
        normal = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
        t = (await kiosk.ok("ticket.issue", appointment="YY-1"))["ticket"]
        check(t["category"] == "A" and t["priority"] == "priority", "the check-in ticket %r" % t)
        checked = await staff.wait_event("appointment.checked_in", lambda e: e.get("number") == "YY-1")
        check(checked.get("code") == t["code"], "appointment.checked_in %r" % checked)
        await kiosk.err("ticket.issue", "conflict", appointment="YY-1")

        # called before the older normal ticket
        await staff.ok("window.open", window=1)
        called = (await staff.ok("call.next"))["ticket"]["code"]
        check(called == t["code"], "the appointment's %s is called first, got %s (normal %s)" % (t["code"], called, normal))

        # YY-2 never comes: released once the clock passes 09:30 + 15 min
        await clock_to(admin, day.replace(hour=9, minute=44))   # ticks before it replies
        check(not [e for e in admin.events if e.get("ev") == "appointment.released"], "not released before 09:45")
        await clock_to(admin, day.replace(hour=9, minute=45))
        rel = await admin.wait_event("appointment.released", lambda e: e.get("number") == "YY-2", timeout=5)
        check(rel.get("category") == "B", "appointment.released %r" % rel)
        r = await kiosk.err("ticket.issue", "conflict", appointment="YY-2")
        check("released" in r["msg"], "a released appointment: %r" % r)

        # names and appointment events stay with staff and admin
        for c, who in ((disp, "display"), (kiosk, "kiosk")):
            await c.settle()
            evs = [e.get("ev") for e in c.events if str(e.get("ev", "")).startswith("appointment.")]
            check(not evs, "%s got appointment events %r" % (who, evs))
            check(not leaked_names(c.events), "%s saw a name in %r" % (who, leaked_names(c.events)))
            st = await c.ok("state.get")
            check(not leaked_names(st), "%s state carries a name" % who)
            check(st["state"]["appointments"]["checked_in"] == 1, "%s state counts %r" % (who, st["state"]["appointments"]))
            await c.err("appointments.list", "forbidden")
            await c.err("appointment.add", "forbidden", number="X", name="x", category="A",
                        slot_start="10:00", slot_end="10:30")
        issued = [e for e in disp.events if e.get("ev") == "ticket.issued" and e.get("appointment") is True]
        check(issued and not leaked_names(issued) and "YY-1" not in repr(issued),
              "the public ticket.issued says it was booked, without number or name: %r" % issued)

        # admin commands: add, cancel
        await admin.ok("appointment.add", number="YY-4", name="加号", category="B",
                       slot_start="%s 11:00" % date, slot_end="11:20")
        rc, out, err = await ctl(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "appointments", "cancel", "YY-4")
        check(rc == 0 and "cancelled" in out, "hallctl cancel: %r %r" % (out, err))
        await admin.err("appointment.cancel", "conflict", number="YY-4")

        before = (await admin.ok("appointments.list", date="all"))["appointments"]
        states = {a["number"]: a["state"] for a in before}
        check(states == {"YY-1": "checked_in", "YY-2": "released", "YY-3": "booked", "YY-4": "cancelled"},
              "states %r" % states)
        await d.stop()
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        after = (await admin.ok("appointments.list", date="all"))["appointments"]
        check(after == before, "the book after a restart\n%r\n!=\n%r" % (after, before))


async def test_hallctl_usage():
    """Usage errors and unreadable files are found before any connection (a refused port as URL)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HALL_URL", "HALL_TOKEN")}
    url = "ws://127.0.0.1:%d/ws" % hk.free_port()
    big = os.path.join(hk.tmpdir("csv"), "big.csv")
    with open(big, "w") as f:
        f.write("number,name,category,date,start,end,matter\n" + "x" * 70000)
    for args, needle in [(("appointments",), "appointments needs a command"),
                         (("appointments", "import"), "appointments import FILE.csv"),
                         (("appointments", "import", "/nonexistent/day.csv"), "cannot open"),
                         (("appointments", "import", big), "split it"),
                         (("appointments", "list", "a", "b"), "list [YYYY-MM-DD|all]"),
                         (("appointments", "frobnicate"), "unknown appointments command")]:
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", url, "--token", "x"] + list(args), timeout=20, env=env)
        check(rc == 2 and needle in err and out == "", "hallctl %s: exit %s, stderr %r" % (" ".join(args), rc, err))


if __name__ == "__main__":
    hk.run([test_hallctl_usage, test_appointment_day])
