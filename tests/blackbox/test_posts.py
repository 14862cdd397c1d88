#!/usr/bin/python3
"""Staff posts and work alerts through the real daemon, over a simulated morning (--test-clock,
clock.advance): check-in on time and late, the late_checkin alert clearing itself, an empty
window, A away with the B post alerted and acknowledging, a load alert suggesting a closed
window, the duty board; alerts and staff events reach staff, security and admin connections,
never display or kiosk ones."""
import time

import hk
from hk import check

CONFIG = """
hall: { id: posts, name: 岗位测试中心 }
hours:
  - { days: [mon, tue, wed, thu, fri, sat, sun], open: ["09:00-12:00"] }
tokens:
  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }
  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",   role: display }
  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }
  - { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",   role: staff, staff: "0002" }
  - { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD",   role: staff, staff: "0003" }
  - { token: "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u",  role: security }
  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }
staff:
  - { id: "0001", name: 张三, title: 综合受理员, photo: /photos/0001.jpg }
  - { id: "0002", name: 李四, title: 综合受理员 }
  - { id: "0003", name: 王五 }
categories:
  - { id: A, name: 社保医保, alert_length: 3 }
  - { id: B, name: 不动产登记 }
windows:
  - { id: 1, name: 1号窗口, categories: [A, B], posts: { a: "0001", b: "0002" } }
  - { id: 2, name: 2号窗口, categories: [A], posts: { a: "0002", b: "0001" } }
  - { id: 3, name: 3号窗口, categories: [B], posts: { a: "0003" } }
  - { id: 4, name: 4号窗口, categories: [A] }
work: { checkin_before_min: 10, away_alert_min: 10, empty_alert_min: 5 }
"""

MIN = 60 * 1000


def alert_ev(kind, **want):
    return lambda e: e.get("kind") == kind and all(e.get(k) == v for k, v in want.items())


async def advance(admin, ms):
    return (await admin.ok("clock.advance", ms=ms))["now"]


async def to_local(admin, hh, mm):
    """Moves the daemon's clock to the next local HH:MM:01 (the daemon and this script share TZ)."""
    now = await advance(admin, 0)
    t = time.localtime(now / 1000)
    target = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, hh, mm, 1, 0, 0, -1)) * 1000
    if target <= now:
        target = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + 1, hh, mm, 1, 0, 0, -1)) * 1000
    await advance(admin, int(target - now))


async def active(admin, kind, **want):
    alerts = (await admin.ok("alerts.list"))["alerts"]
    return [a for a in alerts if alert_ev(kind, **want)(a)]


async def test_simulated_morning():
    async with hk.fresh(config=hk.write_config(CONFIG), args=["--test-clock"]) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        s2 = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
        s3 = await hk.connect(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")

        # 08:00: 0001 and 0003 check in on time; a staff member without a post there is refused
        await to_local(admin, 8, 0)
        r = await s1.ok("staff.checkin", window=1)
        check(r["post"] == "a" and r["late"] is False, "0001 at 08:00: %r" % r)
        ev = await admin.wait_event("staff.checked_in", lambda e: e.get("staff") == "0001")
        check(ev["window"] == 1 and ev["post"] == "a" and ev["late"] is False, "checked_in %r" % ev)
        await s3.ok("staff.checkin", window=3)
        await s3.err("staff.checkin", "forbidden", window=1)
        await s3.err("staff.checkin", "conflict", window=3)
        await disp.err("staff.checkin", "forbidden", window=1)

        # 08:51: post a of window 2 is missing (due 08:50): late_checkin to staff, security, admin
        await advance(admin, 51 * MIN)
        late = await admin.wait_event("alert.raised", alert_ev("late_checkin", window=2, staff="0002"))
        await sec.wait_event("alert.raised", alert_ev("late_checkin", window=2))
        await s2.wait_event("alert.raised", alert_ev("late_checkin", window=2))
        check(late.get("msg") and isinstance(late.get("id"), int), "late_checkin %r" % late)
        check(not await active(admin, "late_checkin", window=1), "0001 checked in on time yet alerted")
        # 0002 arrives: flagged late, and the alert clears itself
        r = await s2.ok("staff.checkin", window=2)
        check(r["late"] is True, "0002 at 08:51 not late: %r" % r)
        await admin.wait_event("alert.cleared", lambda e: e.get("id") == late["id"] and e.get("reason") == "resolved")

        # 09:00: windows 1 and 2 open; 3 stays closed although 0003 is here: empty after 5 min
        await advance(admin, 9 * MIN)
        await s1.ok("window.open", window=1)
        await s2.ok("window.open", window=2)
        await advance(admin, 4 * MIN)                   # the hall ticks before it replies
        check(not await active(admin, "window_empty"), "window_empty before 5 minutes")
        await advance(admin, 1 * MIN + 1000)
        await admin.wait_event("alert.raised", alert_ev("window_empty", window=3))
        empty = await active(admin, "window_empty")
        check([a["window"] for a in empty] == [3], "window_empty alerts %r (4 has no posts)" % empty)

        # A pauses window 1: after 10 minutes the B post (0002) is asked to take over
        await s1.ok("window.pause", reason="离开")
        await advance(admin, 10 * MIN + 1000)           # its first tick, before the move, sees the pause
        away = await s2.wait_event("alert.raised", alert_ev("ab_away", window=1, staff="0001", notify="0002"))
        await admin.wait_event("alert.raised", alert_ev("ab_away", window=1))
        await s3.err("alert.ack", "forbidden", alert=away["id"])      # not addressed to 0003
        r = await s2.ok("alert.ack", alert=away["id"])
        check(r["alert"]["kind"] == "ab_away", "ack reply %r" % r)
        ev = await admin.wait_event("alert.cleared", lambda e: e.get("id") == away["id"])
        check(ev["reason"] == "ack" and ev["by"] == "0002", "cleared %r" % ev)
        await advance(admin, 0)                         # the ticks that would raise it again
        check(not await active(admin, "ab_away"), "acknowledged ab_away raised again")

        # load: 3 A tickets waiting reach alert_length; window 4 is the closed one serving A
        for _ in range(3):
            await kiosk.ok("ticket.issue", category="A")
        load = await admin.wait_event("alert.raised", alert_ev("load", category="A"))
        check(load["suggest_window"] == 4 and "4号窗口" in load["msg"], "load alert %r" % load)
        await s2.ok("call.next")
        await s2.ok("ticket.noshow")
        await s2.ok("call.next")                        # 1 waits: under 80 % of 3
        await admin.wait_event("alert.cleared", lambda e: e.get("id") == load["id"])

        # the duty board is public; alerts are in the snapshot of people, not of screens
        duty = (await disp.ok("duty.get"))["windows"]
        w1 = [w for w in duty if w["id"] == 1][0]
        check(w1["posts"]["a"]["name"] == "张三" and w1["posts"]["a"]["checked_in"] is True
              and w1["posts"]["a"]["photo"] == "/photos/0001.jpg", "duty window 1 %r" % w1)
        check(w1["posts"]["b"]["checked_in"] is False, "0002 is at window 2, not 1: %r" % w1)
        w4 = [w for w in duty if w["id"] == 4][0]
        check(w4["posts"]["a"] is None and w4["posts"]["b"] is None, "window 4 has no posts: %r" % w4)
        st = (await disp.ok("state.get"))["state"]
        check("alerts" not in st, "a display's state carries alerts")
        st = (await admin.ok("state.get"))["state"]
        check(any(a["kind"] == "window_empty" for a in st["alerts"]), "admin state alerts %r" % st.get("alerts"))
        await kiosk.err("alerts.list", "forbidden")
        await disp.err("alert.ack", "forbidden", alert=1)
        await sec.ok("alerts.list")
        await sec.err("alert.ack", "forbidden", alert=1)

        # 0001 checks out: the duty board says so
        await s1.ok("window.resume")
        await s1.ok("window.close")
        await s1.ok("staff.checkout")
        await admin.wait_event("staff.checked_out", lambda e: e.get("staff") == "0001" and e.get("reason") == "checkout")
        duty = (await kiosk.ok("duty.get"))["windows"]
        check([w for w in duty if w["id"] == 1][0]["posts"]["a"]["checked_in"] is False, "0001 still on the board")

        # display and kiosk never saw a staff or alert event; people did
        for c, who in ((disp, "display"), (kiosk, "kiosk")):
            leaked = [e["ev"] for e in c.events if e["ev"].startswith(("alert.", "staff."))]
            check(not leaked, "%s received %r" % (who, leaked))
        for c, who in ((admin, "admin"), (sec, "security"), (s3, "staff 0003")):
            check(any(e["ev"] == "alert.raised" for e in c.events), "%s received no alert" % who)


async def test_restart_keeps_posts_and_alerts():
    """kill -9: check-ins and standing alerts come back from the event stream, ids and all."""
    cfg = CONFIG.replace('open: ["09:00-12:00"]', 'open: ["00:00-24:00"]')
    async with hk.fresh(config=hk.write_config(cfg)) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await s1.ok("staff.checkin", window=1)
        for _ in range(3):
            await kiosk.ok("ticket.issue", category="A")
        load = await admin.wait_event("alert.raised", alert_ev("load", category="A"))
        await d.kill()
        for c in (admin, s1, kiosk):
            await c.close()
        await d.start()
        admin = await hk.connect(d)
        h = await admin.hello("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        ids = [(a["id"], a["kind"]) for a in h["state"]["alerts"]]
        check(ids == [(load["id"], "load")], "alerts after restart %r, before %r" % (ids, load))
        duty = (await admin.ok("duty.get"))["windows"]
        check([w for w in duty if w["id"] == 1][0]["posts"]["a"]["checked_in"] is True, "0001 lost its check-in")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await s1.err("staff.checkin", "conflict", window=1)
        r = await kiosk_issue_next(d)
        check(r["ticket"]["code"] == "A004", "codes after restart %r" % r)
        # the tick that tells of A004 (queue.changed) has looked at the restored alert: the same
        # alert, not a new one
        await admin.wait_event("queue.changed")
        check(not any(e["ev"] == "alert.raised" for e in admin.events), "re-raised: %r" % admin.events)


async def kiosk_issue_next(d):
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    return await kiosk.ok("ticket.issue", category="A")


async def test_bad_posts_config():
    bad = CONFIG.replace('posts: { a: "0003" }', 'posts: { a: "0009" }')
    d = hk.Daemon(config=hk.write_config(bad))
    rc, err = await d.start_expect_exit(20)
    check(rc == 2 and "unknown staff id '0009'" in err and "hall.yaml:" in err, "rc %s: %s" % (rc, err))
    bad = CONFIG.replace("work: { checkin_before_min: 10,", 'work: { rollover: "7pm", checkin_before_min: 10,')
    d = hk.Daemon(config=hk.write_config(bad))
    rc, err = await d.start_expect_exit(20)
    check(rc == 2 and "'rollover' in work" in err, "rc %s: %s" % (rc, err))


hk.run([test_simulated_morning, test_restart_keeps_posts_and_alerts, test_bad_posts_config])
