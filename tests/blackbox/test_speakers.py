#!/usr/bin/python3
"""The speakers wired into the daemon (issue "Broadcast speakers"), with the file sink of the
demo hall: a call is announced when it is shown (announce.started/finished, a WAV in
DATA/announcements with its index); an emergency takes the speakers at once, after the doors
are released; no call is announced while it lasts and no stale call plays after the clear;
free-text notices from security/admin; a broken sink is a fault, and calling goes on."""
import asyncio
import json
import os

import hk
from hk import check


def index(d):
    path = os.path.join(d.data, "announcements", "index.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


async def wait_index(d, pred, timeout=30):
    for _ in range(int(timeout * 10)):
        rows = [r for r in index(d) if pred(r)]
        if rows:
            return rows
        await asyncio.sleep(0.1)
    check(False, "no announcement matching in %r" % index(d)[-5:])


async def test_call_spoken_and_shown():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        staff = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
        await staff.ok("window.open", window=2)
        code = (await kiosk.ok("ticket.issue", category="C"))["ticket"]["code"]
        await staff.ok("call.next")
        called = await disp.wait_event("ticket.called", lambda e: e.get("code") == code)
        ev = await disp.wait_event("announce.started", lambda e: e.get("priority") == "call", timeout=30)
        check(code in ev.get("text", "") and "2号窗口" in ev["text"] and ev.get("zone") == "hall",
              "announce.started %r" % ev)
        check(ev["at"] >= called["at"], "spoken before it was shown: %r vs %r" % (ev, called))
        fin = await disp.wait_event("announce.finished", lambda e: e.get("priority") == "call", timeout=40)
        check(fin.get("truncated") is False, "finished %r" % fin)
        row = (await wait_index(d, lambda r: r["priority"] == "call"))[0]
        wav = os.path.join(d.data, "announcements", row["file"])
        check(os.path.getsize(wav) > 44 + 22050 * 2, "the call's WAV is shorter than a second: %s" % wav)
        await staff.ok("call.recall")
        await disp.wait_event("announce.started", lambda e: e.get("priority") == "call", timeout=30)


async def test_emergency_preempts_doors_first():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await staff.ok("window.open", window=1)
        for _ in range(3):
            await kiosk.ok("ticket.issue", category="A")
        await staff.ok("call.next")
        await disp.wait_event("announce.started", lambda e: e.get("priority") == "call", timeout=30)
        await admin.ok("gpio.sim.set", line="fire_panel", value=1)
        door = await admin.wait_event("gpio.changed", lambda e: e.get("line") == "door_main" and e.get("value") == 1)
        ev = await disp.wait_event("announce.started", lambda e: e.get("priority") == "emergency", timeout=10)
        check("火警" in ev.get("text", ""), "evacuation message %r" % ev)
        cut = await disp.wait_event("announce.finished", lambda e: e.get("priority") == "call", timeout=10)
        check(cut.get("truncated") is True, "the call in progress was not cut: %r" % cut)
        await admin.ok("gpio.sim.set", line="fire_panel", value=0)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
        await (await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")).err("announce", "frozen", text="测试广播")
        await admin.ok("emergency.clear", reason="test")
        cleared = await disp.wait_event("emergency.changed", lambda e: e.get("active") is False)
        # the evacuation's index entry is written when it ends
        row = (await wait_index(d, lambda r: r["priority"] == "emergency"))[0]
        check(door["at"] <= row["first_sample_at_ms"],
              "doors released at %d, after the first evacuation sample at %d" % (door["at"], row["first_sample_at_ms"]))
        await staff.ok("ticket.noshow")
        noshow = await disp.wait_event("ticket.noshow")
        await staff.ok("call.next")        # a new call after the clear is spoken again
        await disp.wait_event("announce.started",
                              lambda e: e.get("priority") == "call" and e["at"] > cleared["at"], timeout=30)
        # the speakers play in order: a stale call asked for between the clear and the new call
        # would have ended (and been indexed) before the new one started
        stale = [r for r in index(d) if r["priority"] == "call" and cleared["at"] < r["started_at_ms"] < noshow["at"]]
        check(not stale, "a stale call was played after the clear: %r" % stale)


async def test_notice():
    async with hk.fresh() as d:
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        r = await sec.ok("announce", text="各位请注意，大厅将于十分钟后闭馆。")
        check(r["announce"]["text"].startswith("各位"), "reply %r" % r)
        ev = await disp.wait_event("announce.started", lambda e: e.get("priority") == "notice", timeout=30)
        check("闭馆" in ev["text"], "notice %r" % ev)
        await sec.err("announce", "bad_request", text="")
        await sec.err("announce", "not_found", text="x", zones=["nowhere"])
        await (await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")).err("announce", "forbidden", text="x")


async def test_broken_sink_is_a_fault():
    text = hk.demo_config().replace("audio:\n  sink: none", "audio:\n  sink: file\n  path: /proc/nonexistent/x.wav")
    async with hk.fresh(config=hk.write_config(text)) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await staff.ok("window.open", window=1)
        code = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
        r = await staff.ok("call.next")
        check(r["ticket"]["code"] == code, "calling goes on: %r" % r)
        ev = await admin.wait_event("fault", lambda e: e.get("kind") == "audio", timeout=30)
        check(ev.get("active") is True and ev.get("detail"), "audio fault %r" % ev)


async def test_times_on_the_hall_clock():
    """The index's times are the hall's clock: under --test-clock they move with clock.advance."""
    async with hk.fresh(args=["--test-clock"]) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        now = (await admin.ok("clock.advance", ms=2 * 86400000))["now"]
        await admin.ok("announce", text="各位请注意，测试时钟。")
        row = (await wait_index(d, lambda r: r["priority"] == "notice"))[0]
        for k in ("started_at_ms", "first_sample_at_ms", "ended_at_ms"):
            check(now <= row[k] < now + 120000, "%s %r is not on the hall's clock (now %r): %r" % (k, row[k], now, row))


hk.run([test_call_spoken_and_shown, test_emergency_preempts_doors_first, test_notice, test_broken_sink_is_a_fault,
        test_times_on_the_hall_clock],
       timeout=240)
