#!/usr/bin/python3
"""The daily checkpoint (docs/streams.md "day.checkpoint"), through the real daemon and a real
Redis: two simulated rollovers (--test-clock) with open cases, a follow-up, future appointments and
carried tickets; each rollover writes day.checkpoint and moves hall:{ID}:checkpoint; no client
receives it. kill -9 and restart: the daemon reads the stream from the checkpoint only (its log
says so, with few events) and answers every list exactly as before. Then the stream is trimmed to
MINID of the checkpoint (the documented way to bound it): kill -9, restart, still identical. A
stream trimmed past the checkpoint, or a malformed checkpoint, makes the daemon refuse to start
(exit 1) instead of starting half-empty. Also: a checkpoint in parts written while Redis is down
reaches Redis from the local journal, key included."""
import os
import re
import time

import msgpack

import hk
import resp
from hk import check

HALL = "cp"
CONFIG = """
hall: { id: cp, name: 检查点测试中心 }
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
  - { id: A, name: 社保医保 }
  - { id: B, name: 不动产登记 }
matters:
  - { id: BDC01, name: 不动产转移登记, category: B, promised_days: 5, legal_days: 30 }
windows:
  - { id: 1, name: 1号窗口, categories: [A, B], posts: { a: "0001" } }
  - { id: 2, name: 2号窗口, categories: [B, A], posts: { a: "0002" } }
redis: { url: "%s" }
"""
EVENTS = "hall:{%s}:events" % HALL
CHECKPOINT = "hall:{%s}:checkpoint" % HALL


async def to_local(admin, day_offset, hh, mm):
    """Moves the daemon's clock to local HH:MM:01 of today + day_offset (from the clock's day)."""
    now = (await admin.ok("clock.advance", ms=0))["now"]
    t = time.localtime(now / 1000)
    target = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + day_offset, hh, mm, 1, 0, 0, -1)) * 1000
    check(target > now, "clock would go back")
    await admin.ok("clock.advance", ms=int(target - now))
    return target


def day_str(ms, offset=0):
    t = time.localtime(ms / 1000)
    return time.strftime("%Y-%m-%d", time.localtime(time.mktime((t.tm_year, t.tm_mon, t.tm_mday + offset,
                                                                   12, 0, 0, 0, 0, -1))))


def strip(v):
    """Drops what depends on the moment asked, not on the state."""
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("est_wait_s", "open", "now", "id")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


async def snapshot(d):
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    s = {}
    s["state"] = strip((await admin.ok("state.get"))["state"])
    s["state"].pop("faults", None)          # the restart itself may see Redis late
    s["duty"] = (await admin.ok("duty.get"))["windows"]
    s["cases"] = (await admin.ok("cases.list", status="all"))["cases"]
    s["followups"] = strip(await admin.ok("followups.list", status="all"))
    s["appointments"] = (await admin.ok("appointments.list", date="all"))["appointments"]
    s["ratings"] = strip(await admin.ok("ratings.stats", by="staff"))
    await admin.close()
    return s


def compare(before, after, when):
    for k in before:
        check(before[k] == after[k], "%s differs %s:\n before %r\n after  %r" % (k, when, before[k], after[k]))


def restored_count(text):
    m = re.search(r"ready on port \d+: (\d+) events restored", text)
    check(m, "no ready line in: %s" % text[-1500:])
    return int(m.group(1))


async def test_checkpoint_restart_and_trim():
    r = hk.Redis()
    await r.start()
    d = hk.Daemon(config=hk.write_config(CONFIG % r.url), args=["--test-clock"])
    try:
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        display = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        s2 = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")

        # day 1: a case, a bad rating with its follow-up, appointments days ahead, tickets left over
        now = await to_local(admin, 1, 8, 50)
        await s1.ok("staff.checkin", window=1)
        await s1.ok("window.open", window=1)
        await s2.ok("window.open", window=2)
        await admin.ok("appointment.add", number="F1", name="王小明", category="B",
                       slot_start=day_str(now, 4) + " 10:00", slot_end=day_str(now, 4) + " 10:30")
        await admin.ok("appointment.add", number="F2", name="李小红", category="A",
                       slot_start=day_str(now, 5) + " 14:00", slot_end=day_str(now, 5) + " 14:30")
        for _ in range(5):
            await kiosk.ok("ticket.issue", category="A")
        await admin.ok("ticket.issue", category="B", priority="priority")
        t = (await s1.ok("call.next"))["ticket"]
        await s1.ok("ticket.finish", outcome="承诺件", matter="BDC01")
        await kiosk.ok("ticket.rate", code=t["code"], score=1, reason="等候时间过长", text="太慢")
        await s1.ok("call.next")
        await s1.ok("ticket.start")                     # served across the night
        await s2.ok("call.next")                        # called across the night
        await admin.ok("clock.advance", ms=60 * 1000)

        # rollover 1
        await to_local(admin, 1, 9, 0)
        await admin.wait_event("day.closed")
        await s1.ok("ticket.finish", outcome="承诺件", matter="BDC01")
        now = (await admin.ok("clock.advance", ms=0))["now"]
        await admin.ok("appointment.add", number="F3", name="赵小刚", category="A",
                       slot_start=day_str(now, 3) + " 09:00", slot_end=day_str(now, 3) + " 09:30")
        await kiosk.ok("ticket.issue", category="B")

        # rollover 2, then a few events after it
        await to_local(admin, 1, 9, 0)
        await admin.wait_event("day.closed")
        await s2.ok("ticket.finish", outcome="补正")   # the ticket called two days ago
        await kiosk.ok("ticket.issue", category="A")
        t = (await s2.ok("call.next"))["ticket"]
        await s2.ok("ticket.finish", outcome="联办件", matter="BDC01", partners=["税务局"])
        await admin.ok("clock.advance", ms=60 * 1000)   # the hall ticks before it replies

        for c in (admin, kiosk, display, s1, s2):
            await c.settle()
            names = [e.get("ev") for e in c.events]
            check(not any(n and n.startswith("day.checkpoint") for n in names),
                  "a client received a checkpoint: %r" % names)

        rows = await resp.hall_events(r.url, HALL)
        cps = [seq for (seq, ev, at, data) in rows if ev == "day.checkpoint"]
        check(len(cps) == 2, "two day.checkpoint entries, got %r" % cps)
        last = cps[-1]
        key = await resp.cmd(r.url, "GET", CHECKPOINT)
        check(key is not None and int(key) == last, "%s = %r, the last checkpoint is seq %d" % (CHECKPOINT, key, last))
        total = rows[-1][0]
        before = await snapshot(d)

        # kill -9, restart: read from the checkpoint on
        await d.kill()
        await d.start()
        text = d.stderr_text()
        check("restoring from the checkpoint at seq %d" % last in text, "log: %s" % text[-1500:])
        n = restored_count(text)
        check(n == total - last + 1, "events restored %d, want %d (from seq %d to %d)" % (n, total - last + 1, last, total))
        compare(before, await snapshot(d), "after kill -9")

        # trim everything before the checkpoint: the stream is bounded, the hall the same
        trimmed = await resp.cmd(r.url, "XTRIM", EVENTS, "MINID", "0-%d" % last)
        check(trimmed > 0, "XTRIM removed nothing")
        first = resp.stream_entries(await resp.cmd(r.url, "XRANGE", EVENTS, "-", "+", "COUNT", "1"))[0][0]
        check(first in (b"0-%d" % last, "0-%d" % last), "first entry after XTRIM: %r" % first)
        await d.kill()
        await d.start()
        check("restoring from the checkpoint at seq %d" % last in d.stderr_text(), "log: %s" % d.stderr_text()[-1500:])
        compare(before, await snapshot(d), "after XTRIM MINID and kill -9")

        # trimmed past the checkpoint: the daemon must not start from what is left
        await d.kill()
        await resp.cmd(r.url, "XTRIM", EVENTS, "MINID", "0-%d" % (last + 1))
        os.unlink(os.path.join(d.data, "events.journal"))
        rc, err = await d.start_expect_exit(timeout=20)
        check(rc != 0, "a daemon restoring without its checkpoint exited %r" % rc)
        check("refusing to start from a partial state" in err, "stderr: %s" % err[-1500:])

        # a checkpoint that makes no sense: refused too, not skipped
        top = int(await resp.cmd(r.url, "GET", "hall:{%s}:seq" % HALL))
        bad = {"t": "ev", "ev": "day.checkpoint", "seq": top + 1, "at": 1, "day": 20300101, "parts": 0,
               "state": {"queue": "not a map"}}
        await resp.cmd(r.url, "XADD", EVENTS, "0-%d" % (top + 1), "ev", "day.checkpoint", "seq", str(top + 1),
                       "at", "1", "data", msgpack.packb(bad))
        await resp.cmd(r.url, "MSET", "hall:{%s}:seq" % HALL, str(top + 1), CHECKPOINT, str(top + 1))
        rc, err = await d.start_expect_exit(timeout=20)
        check(rc == 1, "a daemon whose checkpoint is malformed exited %r" % rc)
        check("the checkpoint at seq %d is malformed" % (top + 1) in err, "stderr: %s" % err[-1500:])
    finally:
        if d.alive():
            await d.stop()
        await r.stop()


async def test_big_checkpoint_while_redis_is_down():
    """2000 appointments make a checkpoint of several day.checkpoint.part events. Redis is down at
    the rollover: the checkpoint goes to the local journal only; after kill -9 and a restart with
    Redis back, the journal gives it to Redis (key included), and the next restart reads from it."""
    r = hk.Redis()
    await r.start()
    d = hk.Daemon(config=hk.write_config(CONFIG % r.url), args=["--test-clock"])
    try:
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        now = await to_local(admin, 1, 9, 0)
        for batch in range(2):
            rows = ["number,name,category,date,start,end,matter"]
            for i in range(1000):
                rows.append("N%d%04d,预约人%d,%s,%s,%02d:00,%02d:30,事项%d" % (batch, i, i, "AB"[i % 2],
                            day_str(now, 3 + batch), 9 + i % 8, 9 + i % 8, i))
            rep = await admin.ok("appointment.import", csv="\n".join(rows) + "\n")
            check(rep.get("imported") == 1000, "import: %r" % {k: rep[k] for k in rep if k != "appointments"})
        for _ in range(3):
            await kiosk.ok("ticket.issue", category="A")
        await admin.ok("clock.advance", ms=60 * 1000)   # the hall ticks before it replies
        cp_before = await resp.cmd(r.url, "GET", CHECKPOINT)
        await r.stop()                                  # Redis goes away; the hall goes on
        await to_local(admin, 1, 9, 0)                  # the rollover writes the checkpoint
        await admin.wait_event("day.closed")
        await kiosk.ok("ticket.issue", category="B")
        await admin.ok("clock.advance", ms=60 * 1000)   # the hall ticks before it replies
        before = await snapshot(d)
        check(len(before["appointments"]) > 0, "appointments listed")
        await d.kill()
        await r.start()
        check(await resp.cmd(r.url, "GET", CHECKPOINT) == cp_before, "the key did not move while Redis was down")
        await d.start()                                 # Redis restore + the journal's events
        compare(before, await snapshot(d), "after the journal gave Redis the checkpoint")
        rows = await resp.hall_events(r.url, HALL)
        final = [(seq, data) for (seq, ev, at, data) in rows if ev == "day.checkpoint"]
        check(len(final) == 1, "one day.checkpoint in Redis: %r" % [s for s, _ in final])
        seq, data = final[0]
        parts = data["parts"]
        check(parts >= 3, "a checkpoint of 2000 appointments comes in parts: %r" % parts)
        names = {s: ev for (s, ev, at, _) in rows}
        check(all(names.get(seq - parts + k) == "day.checkpoint.part" for k in range(parts)),
              "the parts come right before their day.checkpoint")
        key = await resp.cmd(r.url, "GET", CHECKPOINT)
        check(key is not None and int(key) == seq - parts, "%s = %r, first part is %d" % (CHECKPOINT, key, seq - parts))
        await d.kill()
        await d.start()
        check("restoring from the checkpoint at seq %d" % (seq - parts) in d.stderr_text(), "log: %s" % d.stderr_text()[-1500:])
        compare(before, await snapshot(d), "restored from a checkpoint in parts")
    finally:
        if d.alive():
            await d.stop()
        await r.stop()


if __name__ == "__main__":
    hk.run([test_checkpoint_restart_and_trim, test_big_checkpoint_while_redis_is_down])
