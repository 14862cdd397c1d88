#!/usr/bin/python3
"""Emergencies on the sim GPIO backend with a real Redis (contract.md "Emergencies: the rules no
option may weaken"): fire contact -> outputs and emergency.changed; latched; clear refused while
the input is active; drill marked, then taken over by a real trigger; kill -9 during an evacuation
and restart -> still active, doors released before ready; Redis stopped -> the fire path works
unchanged; epidemic cap at the kiosk; silent incidents never reach public screens; the Redis fault
is graded as it lasts."""
import asyncio
import os
import signal

import hk
from hk import check

FIRE_OUTPUTS = {"door_main": 1, "power_nonfire": 0, "siren": 1}
NORMAL_OUTPUTS = {"door_main": 0, "power_nonfire": 1, "siren": 0}


async def lines(admin):
    r = await admin.ok("gpio.list")
    return {l["name"]: l["value"] for l in r["lines"]}


async def expect_outputs(admin, want, what):
    got = {}
    for _ in range(40):
        got = await lines(admin)
        if all(got.get(k) == v for k, v in want.items()):
            return got
        await asyncio.sleep(0.05)
    check(False, "%s: outputs %r, expected %r" % (what, got, want))


async def fire_input(admin, value):
    await admin.ok("gpio.sim.set", line="fire_panel", value=value)


async def test_fire_contact_latched_and_clear():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await expect_outputs(admin, NORMAL_OUTPUTS, "at start")
        await fire_input(admin, 1)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 1)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active"), timeout=5)
        check(ev.get("playbook") == "fire" and ev.get("drill") is False, "emergency.changed %r" % ev)
        check(any(s.get("do") == "checklist" for s in ev.get("steps", [])), "fire steps %r" % ev.get("steps"))
        await expect_outputs(admin, FIRE_OUTPUTS, "fire contact")
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "door_main" and e.get("value") == 1)
        # the queue is frozen
        await kiosk.err("ticket.issue", "frozen", category="A")
        # latched: the contact drops back, the emergency stays
        await fire_input(admin, 0)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
        st = (await disp.ok("state.get"))["state"]
        check(st["emergency"].get("active") is True, "not latched: %r" % st["emergency"])
        await expect_outputs(admin, FIRE_OUTPUTS, "after the contact dropped")
        # clear needs a reason and a free input
        await fire_input(admin, 1)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 1)
        r = await sec.err("emergency.clear", "conflict", reason="误报")
        check("fire_panel" in r["msg"], "clear refusal should name the input: %r" % r)
        await fire_input(admin, 0)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
        await sec.err("emergency.clear", "bad_request", reason="")
        await (await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")).err("emergency.clear", "forbidden", reason="x")
        r = await sec.ok("emergency.clear", reason="消防确认误报")
        check(r["emergency"].get("active") is False, "clear reply %r" % r)
        await disp.wait_event("emergency.changed", lambda e: e.get("active") is False)
        await expect_outputs(admin, NORMAL_OUTPUTS, "after clear")
        await kiosk.ok("ticket.issue", category="A")


async def test_drill_then_real():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        r = await sec.ok("emergency.trigger", playbook="fire", drill=True)
        check(r["emergency"].get("drill") is True, "drill reply %r" % r)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active"))
        check(ev.get("drill") is True, "drill not marked on the display's event: %r" % ev)
        await expect_outputs(admin, FIRE_OUTPUTS, "drill")
        # ack the checklist step
        steps = r["emergency"]["steps"]
        idx = next(i for i, s in enumerate(steps) if s.get("do") == "checklist")
        r = await sec.ok("emergency.ack", step=idx)
        check(r["emergency"]["steps"][idx].get("ack_by"), "ack not recorded: %r" % r["emergency"]["steps"][idx])
        await sec.err("emergency.ack", "conflict", step=idx)
        # a real trigger takes over at once
        await fire_input(admin, 1)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active") and e.get("drill") is False)
        check(ev.get("playbook") == "fire", "takeover %r" % ev)
        await sec.err("emergency.trigger", "conflict", playbook="fire", drill=True)
        await fire_input(admin, 0)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
        await sec.ok("emergency.clear", reason="演练结束")


async def test_kill9_during_evacuation():
    d = hk.Daemon()
    await d.start()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    await admin.ok("emergency.trigger", playbook="fire")
    await expect_outputs(admin, FIRE_OUTPUTS, "before the kill")
    await d.kill()
    await d.start()
    text = d.stderr_text()
    # the outputs were re-applied before the daemon said it was ready
    ready_at = text.index("ready on port")
    check("re-applied" in text[:ready_at], "no re-apply before ready in the log:\n%s" % text[-1500:])
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    st = (await admin.ok("state.get"))["state"]
    check(st["emergency"].get("active") is True and st["emergency"].get("playbook") == "fire",
          "emergency after restart %r" % st["emergency"])
    await expect_outputs(admin, FIRE_OUTPUTS, "after restart")
    await (await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")).err("ticket.issue", "frozen", category="B")
    await admin.ok("emergency.clear", reason="restart test")
    await d.stop()


async def test_fire_path_with_redis_stopped():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        rpid = d.redis_pid()
        check(rpid, "embedded redis pid not found")
        os.kill(rpid, signal.SIGSTOP)
        try:
            await fire_input(admin, 1)
            # outputs do not wait for Redis; the display hears of it from the local journal (gpio.changed
            # is for the hall's people: admin)
            await expect_outputs(admin, FIRE_OUTPUTS, "fire with Redis stopped")
            await disp.wait_event("emergency.changed", lambda e: e.get("active"), timeout=5)
            await fire_input(admin, 0)
            await admin.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
        finally:
            os.kill(rpid, signal.SIGCONT)
        await admin.ok("emergency.clear", reason="test")
        stats = await admin.ok("stats.get")
        check(stats["edge_to_outputs"]["n"] >= 2, "edge stats %r" % stats)


async def test_epidemic_cap():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        pbs = (await admin.ok("emergency.playbooks"))["playbooks"]
        ep = next(p for p in pbs if p["id"] == "epidemic")
        occ = [s for s in ep["steps"] if s.get("do") == "occupancy"]
        check(occ, "epidemic has no occupancy step: %r" % ep["steps"])
        await admin.ok("emergency.trigger", playbook="epidemic")
        cap = occ[0].get("cap")
        if occ[0].get("mode") == "appointments_only":
            await kiosk.err("ticket.issue", "unavailable", category="A")
            await kiosk.ok("ticket.issue", category="A", appointment="YY-001")
        else:
            check(isinstance(cap, int) and cap > 0, "epidemic cap %r" % occ[0])
            issued = 0
            for _ in range(cap):
                r = await kiosk.request("ticket.issue", category="A")
                if r["t"] == "ok":
                    issued += 1
            check(issued == cap, "issued %d of cap %d" % (issued, cap))
            await kiosk.err("ticket.issue", "unavailable", category="A")
        await admin.ok("emergency.clear", reason="疫情结束")
        await kiosk.ok("ticket.issue", category="B")


async def test_silent_incident_not_public():
    async with hk.fresh() as d:
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await sec.ok("emergency.trigger", playbook="mass_incident")
        ev = await staff.wait_event("emergency.changed", lambda e: e.get("active"))
        check(ev.get("playbook") == "mass_incident", "staff should see the silent incident: %r" % ev)
        for c, who in ((disp, "display"), (kiosk, "kiosk")):
            await c.settle()
            for e in c.events:
                if e.get("ev") == "emergency.changed":
                    check(not e.get("active") and "mass_incident" not in repr(e), "%s saw %r" % (who, e))
            st = (await c.ok("state.get"))["state"]
            check(st["emergency"].get("active") is not True and "mass_incident" not in repr(st["emergency"]),
                  "%s state shows the silent incident: %r" % (who, st["emergency"]))
        await kiosk.ok("ticket.issue", category="A")       # a silent incident does not freeze
        # a drill evacuation during the real silent incident still reaches the public screens
        # (the real incident ranks first, so the event's own fields are the silent one's)
        await sec.ok("emergency.trigger", playbook="fire", drill=True)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active"))
        check(ev.get("playbook") == "fire" and ev.get("drill") is True and "mass_incident" not in repr(ev),
              "display's view of the drill during a silent incident: %r" % ev)
        await sec.ok("emergency.clear", reason="演练结束", playbook="fire")
        await sec.ok("emergency.clear", reason="已处置")


async def test_redis_fault_graded():
    async with hk.fresh(args=["--test-clock"]) as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        rpid = d.redis_pid()
        os.kill(rpid, signal.SIGSTOP)
        try:
            kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
            await kiosk.ok("ticket.issue", category="A")       # the hall goes on
            ev = await admin.wait_event("fault", lambda e: e.get("active") and e.get("kind") == "redis", timeout=15)
            check(ev.get("grade") == "III", "first grade %r" % ev)
            p = await asyncio.create_subprocess_exec(hk.CTL, "--url", d.url, "--token", "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", "health",
                                                     stdout=asyncio.subprocess.PIPE)
            out, _ = await asyncio.wait_for(p.communicate(), 20)
            check(p.returncode == 1 and b"degraded" in out and b"redis DOWN" in out,
                  "hallctl health with Redis stopped: rc %s, %r" % (p.returncode, out))
            await admin.ok("clock.advance", ms=25 * 60 * 1000)
            ev = await admin.wait_event("fault", lambda e: e.get("grade") == "II", timeout=5)
            await admin.ok("clock.advance", ms=40 * 60 * 1000)
            ev = await admin.wait_event("fault", lambda e: e.get("grade") == "I", timeout=5)
            st = (await admin.ok("state.get"))["state"]
            check(any(f.get("kind") == "redis" and f.get("grade") == "I" for f in st["faults"]), "faults %r" % st["faults"])
        finally:
            os.kill(rpid, signal.SIGCONT)
        ev = await admin.wait_event("fault", lambda e: e.get("active") is False, timeout=20)
        check(ev.get("duration_ms", 0) >= 60 * 60 * 1000, "fault end %r" % ev)
        await admin.err("clock.advance", "bad_request", ms=-5)


async def test_clock_needs_flag():
    async with hk.fresh() as d:
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        await admin.err("clock.advance", "forbidden", ms=1000)


hk.run([test_fire_contact_latched_and_clear, test_drill_then_real, test_kill9_during_evacuation,
        test_fire_path_with_redis_stopped, test_epidemic_cap, test_silent_incident_not_public,
        test_redis_fault_graded, test_clock_needs_flag])
