#!/usr/bin/python3
"""Supervised inputs and two-input confirmation (docs/wiring.md "Supervised inputs"): a fire
panel's fault contact, an input that must hold a level and one that must pulse (a heartbeat) each
raise a `fault` (kind input:LINE) as EN 54-2 asks (within 100 s: here at the edge, or after the
heartbeat time), and end it when the line is normal again; a playbook with triggers_required: 2
starts only when two independent alarms agree (GB 50116), not on one."""
import hk
from hk import check

LINES = """gpio:
  backend: sim
  lines:
    - { name: fire_panel,  chip: gpiochip0, offset: 17, dir: in,  active_low: true, debounce_ms: 50 }
    - { name: smoke_a,     chip: gpiochip0, offset: 5,  dir: in,  debounce_ms: 10 }
    - { name: smoke_b,     chip: gpiochip0, offset: 6,  dir: in,  debounce_ms: 10 }
    - { name: panel_fault, chip: gpiochip0, offset: 7,  dir: in,  debounce_ms: 10, fault_contact: true }
    - { name: loop_ok,     chip: gpiochip0, offset: 8,  dir: in,  debounce_ms: 10, expect: 1 }
    - { name: panel_pulse, chip: gpiochip0, offset: 9,  dir: in,  debounce_ms: 10, heartbeat_ms: 1000 }
    - { name: door_main,   chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }
"""
PLAYBOOK = """emergency:
  playbooks:
    - id: smoke
      name: 烟感联动
      severity: 99
      triggers: [ { gpio: smoke_a, value: 1 }, { gpio: smoke_b, value: 1 } ]
      triggers_required: 2
      steps: [ { do: gpio, line: door_main, value: 1 }, { do: display, mode: evacuation } ]
"""


def config():
    text = hk.demo_config()
    head, _, tail = text.partition("gpio:\n")
    return hk.write_config(head + LINES + PLAYBOOK + "audio:" + tail.partition("audio:")[2])


def faults(state):
    return {f["kind"]: f for f in state.get("faults", [])}


async def sim(admin, line, value):
    await admin.ok("gpio.sim.set", line=line, value=value)


async def test_supervised_inputs():
    async with hk.fresh(config=config()) as d:
        admin = await hk.connect_role(d, "admin")
        # loop_ok reads 0 at start but must hold 1: a fault from the start
        st = (await admin.ok("state.get"))["state"]
        check("input:loop_ok" in faults(st), "no fault for a broken loop at start: %r" % st.get("faults"))
        await sim(admin, "loop_ok", 1)
        await admin.wait_event("fault", lambda e: e.get("kind") == "input:loop_ok" and e.get("active") is False)
        await sim(admin, "loop_ok", 0)        # the wire breaks
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "input:loop_ok" and e.get("active"))
        check("must read 1" in f.get("detail", ""), "detail %r" % f)
        # the panel reports a fault of its own
        await sim(admin, "panel_fault", 1)
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "input:panel_fault" and e.get("active"))
        check("panel" in f.get("detail", ""), "detail %r" % f)
        await sim(admin, "panel_fault", 0)
        await admin.wait_event("fault", lambda e: e.get("kind") == "input:panel_fault" and e.get("active") is False)
        # the heartbeat: none since the start -> a fault once heartbeat_ms passed
        await admin.wait_event("fault", lambda e: e.get("kind") == "input:panel_pulse" and e.get("active"), timeout=10)
        await sim(admin, "panel_pulse", 1)
        await admin.wait_event("fault", lambda e: e.get("kind") == "input:panel_pulse" and e.get("active") is False)
        # and it stops pulsing again
        await admin.wait_event("fault", lambda e: e.get("kind") == "input:panel_pulse" and e.get("active"), timeout=10)
        st = (await admin.ok("state.get"))["state"]
        check({"input:loop_ok", "input:panel_pulse"} <= set(faults(st)), "faults %r" % st.get("faults"))


async def test_two_input_confirmation():
    async with hk.fresh(config=config()) as d:
        admin = await hk.connect_role(d, "admin")
        pbs = {p["id"]: p for p in (await admin.ok("emergency.playbooks"))["playbooks"]}
        check(pbs["smoke"]["triggers_required"] == 2 and pbs["fire"]["triggers_required"] == 1, "playbooks %r" % pbs["smoke"])
        await sim(admin, "smoke_a", 1)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "smoke_a" and e.get("value") == 1)
        st = (await admin.ok("state.get"))["state"]
        check(not st["emergency"].get("active"), "one detector alone started it: %r" % st["emergency"])
        await sim(admin, "smoke_b", 1)
        ev = await admin.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "smoke")
        check(ev.get("triggered_by") == "gpio:smoke_b", "triggered_by %r" % ev.get("triggered_by"))
        lines = {l["name"]: l["value"] for l in (await admin.ok("gpio.list"))["lines"]}
        check(lines["door_main"] == 1, "doors %r" % lines)
        await sim(admin, "smoke_a", 0)
        await sim(admin, "smoke_b", 0)
        await admin.wait_event("gpio.changed", lambda e: e.get("line") == "smoke_b" and e.get("value") == 0)
        await admin.ok("emergency.clear", playbook="smoke", reason="复位")


hk.run([test_supervised_inputs, test_two_input_confirmation])
