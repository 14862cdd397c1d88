#!/usr/bin/python3
"""Built-in playbooks as DB43/T 2422.4 writes them (docs/emergency.md): an output step whose line
this hall does not wire is a checklist item a person acknowledges, never dropped in silence; the
silent public_security playbook (§6.1.1) alerts the team and leaves the queue running; flood
(§6.1.6.2.2) evacuates with the rescue services; power failure (§6.5.2) announces no evacuation
by itself."""
import hk
from hk import check


def by_id(playbooks):
    return {p["id"]: p for p in playbooks}


async def test_builtins_follow_the_standard():
    async with hk.fresh() as d:
        sec = await hk.connect_role(d, "security")
        pbs = by_id((await sec.ok("emergency.playbooks"))["playbooks"])
        check(pbs["public_security"]["silent"] is True, "public_security %r" % pbs["public_security"])
        check(any(s.get("do") == "checklist" and "110" in s.get("text", "") for s in pbs["public_security"]["steps"]),
              "public_security asks for the police: %r" % pbs["public_security"]["steps"])
        flood = pbs["flood"]["steps"]
        check(any(s.get("do") == "display" and s.get("mode") == "evacuation" for s in flood), "flood %r" % flood)
        check(not any("留在室内" in s.get("text", "") for s in flood), "flood keeps people inside: %r" % flood)
        power = pbs["power_failure"]["steps"]
        check(not any(s.get("do") == "announce" and "疏散" in s.get("text", "") for s in power),
              "power failure announces an evacuation by itself: %r" % power)
        check(any(s.get("do") == "checklist" and "电梯" in s.get("text", "") for s in power), "lifts: %r" % power)
        # the demo hall wires no window actuator: explosion_gas keeps the step, for a person
        steps = pbs["explosion_gas"]["steps"]
        check(not any(s.get("do") == "gpio" and s.get("line") == "windows_open" for s in steps), "steps %r" % steps)
        check([s.get("text") for s in steps].count("手动开启窗户通风") == 1, "no manual window step: %r" % steps)


async def test_manual_step_is_acknowledged():
    async with hk.fresh() as d:
        sec = await hk.connect_role(d, "security")
        steps = by_id((await sec.ok("emergency.playbooks"))["playbooks"])["explosion_gas"]["steps"]
        k = [s.get("text") for s in steps].index("手动开启窗户通风")
        await sec.ok("emergency.trigger", playbook="explosion_gas", drill=True)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "explosion_gas")
        check(ev["steps"][k].get("done_at") is None, "a manual step is pending until a person acts: %r" % ev["steps"][k])
        await sec.ok("emergency.ack", step=k)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("steps") and len(e["steps"]) > k
                                  and e["steps"][k].get("ack_at"))
        check(ev["steps"][k].get("ack_by"), "ack without a name: %r" % ev["steps"][k])
        await sec.ok("emergency.clear", reason="演练结束")


async def test_public_security_is_silent_for_the_public():
    async with hk.fresh() as d:
        sec = await hk.connect_role(d, "security")
        staff = await hk.connect_role(d, "staff")
        kiosk = await hk.connect_role(d, "kiosk")
        await sec.ok("emergency.trigger", playbook="public_security")
        ev = await staff.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "public_security")
        await kiosk.ok("ticket.issue", category="A")   # not frozen
        st = (await kiosk.ok("state.get"))["state"]
        check(not st["emergency"].get("active"), "the kiosk sees the silent incident: %r" % st["emergency"])
        await sec.ok("emergency.clear", reason="已处置")


hk.run([test_builtins_follow_the_standard, test_manual_step_is_acknowledged,
        test_public_security_is_silent_for_the_public])
