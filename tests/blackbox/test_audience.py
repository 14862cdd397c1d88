#!/usr/bin/python3
"""Who receives what (docs/protocol.md "Audience", docs/security.md): a silent incident, from
trigger to clear, sends not one frame to a display, kiosk or phone and leaves their view unchanged,
while a public incident reaches them at once; events without a public row (gpio.changed) and the
private fields of public ones (a finish's outcome and missing materials, a priority reason) stay
with staff; every connection without a subscription can see a lost event by `prev`, and never
sees a hole for an event that was not meant for it."""
import re

import hk
from hk import check

CONFIG = hk.demo_config().replace(
    "    - { name: door_main,",
    "    - { name: panic_guide,   chip: gpiochip0, offset: 5,  dir: in, debounce_ms: 10 }\n"
    "    - { name: spare_in,      chip: gpiochip0, offset: 6,  dir: in, debounce_ms: 10 }\n"
    "    - { name: panic_light,   chip: gpiochip0, offset: 7,  dir: out, normal: 0, safe: 0 }\n"
    "    - { name: door_main,") + """emergency:
  playbooks:
    - id: guide_panic
      name: 咨询台求助
      silent: true
      severity: 25
      triggers: [ { gpio: panic_guide, value: 1 } ]
      steps:
        - { do: gpio, line: panic_light, value: 1 }
        - { do: alert, text: 咨询台求助，请安保人员立即到场, roles: [security, admin] }
        - { do: checklist, text: 安保人员到场 }
"""

SILENT_MARKS = ("guide_panic", "mass_incident", "上访人员已带离", "panic_", "咨询台")


async def public_clients(d):
    """A display, a kiosk and a phone (visitor) following a fresh ticket, each with its hello seq."""
    kiosk = await hk.connect(d)
    hk_k = await kiosk.hello("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    disp = await hk.connect(d)
    hk_d = await disp.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    t = (await kiosk.ok("ticket.issue", category="A"))["ticket"]
    m = re.fullmatch(r"/t/([A-Z0-9]+)\?k=([0-9a-f]{16})", t.get("path") or "")
    check(m, "phone link %r" % t.get("path"))
    phone = await hk.connect(d)
    hk_p = await phone.hello("ticket:%s:%s" % (m.group(1), m.group(2)))
    check(hk_p.get("role") == "visitor", "visitor hello %r" % hk_p)
    phone.token = "ticket:%s:%s" % (m.group(1), m.group(2))
    return [(disp, "display", hk_d), (kiosk, "kiosk", hk_k), (phone, "visitor", hk_p)]


async def emergency_view(d, c, who):
    """The emergency as this connection's role sees it: state.get, or a phone's hello state."""
    if who != "visitor":
        return (await c.ok("state.get"))["state"]["emergency"]
    again = await hk.connect(d)
    r = await again.hello(c.token)
    check(r.get("t") == "ok", "phone hello again: %r" % r)
    return r["state"].get("emergency")


async def flush_marker(kiosk, clients):
    """A ticket from the kiosk: its queue.changed reaches every connection after all that came
    before it (one delivery order), so what has not arrived by then was never sent."""
    n = {id(c): len([e for e in c.events if e.get("ev") == "queue.changed"]) for c, _ in clients}
    await kiosk.ok("ticket.issue", category="B")
    for c, who in clients:
        ok = await c.wait_for(lambda cc: len([e for e in cc.events if e.get("ev") == "queue.changed"]) > n[id(c)],
                              timeout=10)
        check(ok, "%s: no queue.changed after the marker ticket" % who)


async def test_silent_incident_reaches_no_public_connection():
    async with hk.fresh(config=hk.write_config(CONFIG)) as d:
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        pub = await public_clients(d)
        kiosk = pub[1][0]
        await flush_marker(kiosk, [(c, w) for c, w, _ in pub])
        before = {w: await emergency_view(d, c, w) for c, w, _ in pub}
        start = {w: len(c.events) for c, w, _ in pub}
        # a silent playbook by its input (gpio step, alert), then mass_incident by command
        await admin.ok("gpio.sim.set", line="panic_guide", value=1)
        await sec.wait_event("emergency.changed", lambda e: e.get("active") and "guide_panic" in repr(e))
        await sec.wait_event("gpio.changed", lambda e: e.get("line") == "panic_light" and e.get("value") == 1)
        await sec.ok("emergency.trigger", playbook="mass_incident")
        await sec.ok("emergency.ack", playbook="mass_incident", step=1)
        await sec.ok("emergency.clear", playbook="mass_incident", reason="上访人员已带离")
        await admin.ok("gpio.sim.set", line="panic_guide", value=0)
        await sec.wait_event("gpio.changed", lambda e: e.get("line") == "panic_guide" and e.get("value") == 0)
        await sec.ok("emergency.clear", reason="安保已到场，上访人员已带离")
        await sec.wait_event("emergency.changed", lambda e: not e.get("active"))
        await flush_marker(kiosk, [(c, w) for c, w, _ in pub])
        for c, who, _ in pub:
            for e in c.events[start[who]:]:
                check(e.get("ev") not in ("emergency.changed", "gpio.changed", "alert.raised", "alert.cleared"),
                      "%s got %s during a silent incident: %r" % (who, e.get("ev"), e))
                check(not any(s in repr(e) for s in SILENT_MARKS), "%s got %r" % (who, e))
            after = await emergency_view(d, c, who)
            check(after == before[who], "%s's view changed: %r -> %r" % (who, before[who], after))
        # staff and security saw all of it, the clear's reason included
        check(any(e.get("ev") == "emergency.changed" and e.get("reason") == "上访人员已带离" for e in sec.events),
              "security did not see the clear's reason")
        # a public incident reaches every public connection at once
        await sec.ok("emergency.trigger", playbook="fire", drill=True)
        for c, who, _ in pub:
            ev = await c.wait_event("emergency.changed", lambda e: e.get("active"), timeout=5)
            check(ev.get("playbook") == "fire" and ev.get("drill") is True, "%s: %r" % (who, ev))
        # and a silent one during it changes nothing they see
        n = {w: len(c.events) for c, w, _ in pub}
        await sec.ok("emergency.trigger", playbook="mass_incident")
        await sec.ok("emergency.clear", playbook="mass_incident", reason="上访人员已带离")
        await sec.ok("emergency.clear", playbook="fire", reason="演练结束")
        for c, who, _ in pub:
            await c.wait_event("emergency.changed", lambda e: not e.get("active"), timeout=5)
            for e in c.events[n[who]:]:
                check(not any(s in repr(e) for s in SILENT_MARKS), "%s got %r during the drill" % (who, e))


async def test_private_fields_and_people_only_events():
    async with hk.fresh(config=hk.write_config(CONFIG)) as d:
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        pub = await public_clients(d)
        disp, kiosk = pub[0][0], pub[1][0]
        await staff.ok("ticket.issue", category="A", priority="priority", priority_reason="pregnant")
        await admin.ok("gpio.sim.set", line="spare_in", value=1)
        await sec.wait_event("gpio.changed", lambda e: e.get("line") == "spare_in")
        await staff.ok("window.open", window=1)
        await staff.ok("call.next")
        await staff.ok("ticket.start")
        await staff.ok("ticket.finish", outcome="补正", missing=["户口本原件", "结婚证"])
        full = await staff.wait_event("ticket.finished")
        check(full.get("outcome") == "补正" and full.get("missing"), "staff's ticket.finished %r" % full)
        await flush_marker(kiosk, [(c, w) for c, w, _ in pub])
        for c, who, _ in pub[:2]:
            fin = await c.wait_event("ticket.finished", timeout=5)
            check(fin.get("code") == full["code"] and fin.get("window") == 1, "%s: %r" % (who, fin))
            check("outcome" not in fin and "missing" not in fin and "补正" not in repr(fin),
                  "%s got the outcome of a finish: %r" % (who, fin))
            iss = [e for e in c.events if e.get("ev") == "ticket.issued" and e.get("priority") == "priority"]
            check(iss and all("priority_reason" not in e for e in iss), "%s: priority ticket.issued %r" % (who, iss))
        for c, who, _ in pub:
            names = {e.get("ev") for e in c.events}
            check(not names & {"gpio.changed", "fault", "case.opened", "rating.recorded", "alert.raised"},
                  "%s got people-only events: %r" % (who, sorted(names)))
        check(any(e.get("ev") == "ticket.issued" and e.get("priority_reason") == "pregnant" for e in staff.events),
              "staff lost the priority reason")


def check_chain(c, who, hello_seq):
    """prev of each event is the seq of the one before it on this connection (the first: at most
    hello's seq). Returns how many filtered holes (seq > prev + 1) there were."""
    last, holes = hello_seq, 0
    for e in c.events:
        seq, prev = e.get("seq"), e.get("prev")
        check(isinstance(prev, int), "%s: event without prev %r" % (who, e))
        check(seq > last, "%s: seq %s after %s" % (who, seq, last))
        if last == hello_seq:
            check(prev <= hello_seq, "%s: first event's prev %s after hello seq %s: %r" % (who, prev, hello_seq, e))
        else:
            check(prev == last, "%s: %s seq %s has prev %s, the last one received was %s"
                  % (who, e.get("ev"), seq, prev, last))
        holes += seq > prev + 1
        last = seq
    return holes


async def test_prev_shows_losses_not_filtered_events():
    async with hk.fresh(config=hk.write_config(CONFIG)) as d:
        clients = []
        for token, who in (("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "staff"), ("security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", "security"), ("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", "admin")):
            c = await hk.connect(d)
            r = await c.hello(token)
            clients.append((c, who, r))
        staff, sec, admin = (c for c, _, _ in clients)
        pub = await public_clients(d)
        kiosk = pub[1][0]
        for i in range(2):
            await admin.ok("gpio.sim.set", line="spare_in", value=1 - i)        # people only
            await sec.wait_event("gpio.changed", lambda e, v=1 - i: e.get("line") == "spare_in" and e.get("value") == v)
            await kiosk.ok("ticket.issue", category="A")                       # not for phones
            await staff.ok("window.open", window=1)
            await staff.ok("call.next")                                        # everyone
            await staff.ok("ticket.finish", outcome="承诺件")   # case.opened: staff, admin
            await staff.ok("window.close")
        await flush_marker(kiosk, [(c, w) for c, w, _ in clients + pub])
        for c, who, r in clients + pub:
            holes = check_chain(c, who, r["seq"])
            if who in ("display", "kiosk", "visitor", "security"):
                check(holes > 0, "%s saw no filtered event: the test does not test prev" % who)


hk.run([test_silent_incident_reaches_no_public_connection, test_private_fields_and_people_only_events,
        test_prev_shows_losses_not_filtered_events])
