#!/usr/bin/python3
"""Outputs are verified, as a panel would (docs/wiring.md "Verified outputs"): an output with a
feedback input (a lock sensor, a relay's auxiliary contact) is shown as done only when the
feedback follows; a feedback that does not follow within feedback_ms, or a set that fails, is a
`fault` (kind output:LINE) and the step is failed, never done; both mend when the line works again.
The sim backend drives the feedback wrong (gpio.sim.set) and breaks the driver (fail: true)."""
import hk
from hk import check

LINES = """gpio:
  backend: sim
  lines:
    - { name: fire_panel, chip: gpiochip0, offset: 17, dir: in,  active_low: true, debounce_ms: 50 }
    - { name: door_lock,  chip: gpiochip0, offset: 18, dir: in,  debounce_ms: 10 }
    - { name: door_main,  chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1, feedback: door_lock, feedback_ms: 400 }
    - { name: siren,      chip: gpiochip0, offset: 25, dir: out, normal: 0, safe: 0 }
"""


def config():
    text = hk.demo_config()
    head, _, tail = text.partition("gpio:\n")
    return hk.write_config(head + LINES + "audio:" + tail.partition("audio:")[2])


def step_of(ev, line):
    for s in ev.get("steps", []):
        if s.get("do") == "gpio" and s.get("line") == line:
            return s
    check(False, "no gpio step for %s in %r" % (line, ev.get("steps")))


async def sim_set(admin, line, value):
    await admin.ok("gpio.sim.set", line=line, value=value)


async def test_feedback_confirms_or_fails():
    async with hk.fresh(config=config()) as d:
        admin = await hk.connect_role(d, "admin")
        sec = await hk.connect_role(d, "security")
        # at start the door is locked (0) and its sensor agrees (0): no fault
        await sec.ok("emergency.trigger", playbook="fire", drill=True)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active"))
        check(step_of(ev, "door_main").get("done_at") is None, "door shown done before its feedback: %r" % ev)
        check(step_of(ev, "siren").get("done_at"), "siren (no feedback) not done: %r" % ev)
        # nobody moves the sensor: after feedback_ms the step fails and a fault is raised
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "output:door_main" and e.get("active"), timeout=10)
        check("door_lock" in f.get("detail", ""), "fault detail %r" % f)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and step_of(e, "door_main").get("failed_at"))
        st = step_of(ev, "door_main")
        check(st.get("done_at") is None and "feedback door_lock reads 0, expected 1" in st.get("failed", ""), "step %r" % st)
        s = (await admin.ok("state.get"))["state"]
        check(any(x.get("kind") == "output:door_main" for x in s.get("faults", [])), "faults %r" % s.get("faults"))
        # the lock opens late: done then, the fault ends, the failure stays on record
        await sim_set(admin, "door_lock", 1)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and step_of(e, "door_main").get("done_at"))
        check(step_of(ev, "door_main").get("failed_at"), "the failure is kept: %r" % step_of(ev, "door_main"))
        await admin.wait_event("fault", lambda e: e.get("kind") == "output:door_main" and e.get("active") is False)
        # a lock that closes again while the doors should be released is a fault once its time is up
        await sim_set(admin, "door_lock", 0)
        await admin.wait_event("fault", lambda e: e.get("kind") == "output:door_main" and e.get("active"), timeout=10)
        await sim_set(admin, "door_lock", 1)
        await admin.wait_event("fault", lambda e: e.get("kind") == "output:door_main" and e.get("active") is False)
        await sec.ok("emergency.clear", reason="演练结束")


async def test_failed_set_is_failed_never_done():
    async with hk.fresh(config=config()) as d:
        admin = await hk.connect_role(d, "admin")
        sec = await hk.connect_role(d, "security")
        await admin.ok("gpio.sim.set", line="siren", fail=True)     # the relay driver stops answering
        await admin.err("gpio.sim.set", "bad_request", line="siren", fail="yes")
        await sec.ok("emergency.trigger", playbook="fire", drill=True)
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "output:siren" and e.get("active"))
        check("cannot set" in f.get("detail", ""), "fault %r" % f)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and step_of(e, "siren").get("failed_at"))
        check(step_of(ev, "siren").get("done_at") is None, "a failed siren shown as done: %r" % step_of(ev, "siren"))
        lines = {l["name"]: l["value"] for l in (await admin.ok("gpio.list"))["lines"]}
        check(lines["siren"] == 0, "the siren reads %r after a failed set" % lines["siren"])
        # the driver answers again: the retry drives it, the step is done, the fault ends
        await admin.ok("gpio.sim.set", line="siren", fail=False)
        await admin.wait_event("fault", lambda e: e.get("kind") == "output:siren" and e.get("active") is False, timeout=10)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and step_of(e, "siren").get("done_at"))
        lines = {l["name"]: l["value"] for l in (await admin.ok("gpio.list"))["lines"]}
        check(lines["siren"] == 1, "the siren reads %r once the driver works" % lines["siren"])
        await sec.ok("emergency.clear", reason="演练结束")


hk.run([test_feedback_confirms_or_fails, test_failed_set_is_failed_never_done])
