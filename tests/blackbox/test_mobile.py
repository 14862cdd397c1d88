#!/usr/bin/python3
"""Phones following a ticket (docs/mobile.md): a kiosk's ticket.issue reply carries the phone
link and its QR code; hello with "ticket:CODE:KEY" makes a visitor connection that sees its own
ticket move and nothing private; wrong keys are refused; the page /t/CODE is served."""
import asyncio
import re
import urllib.request

import hk
from hk import check

EVENTS = ["ticket.called", "ticket.started", "ticket.noshow", "ticket.transferred",
          "queue.changed", "window.changed", "day.closed"]


def parse_path(path):
    m = re.fullmatch(r"/t/([A-Z0-9]+)\?k=([0-9a-f]{16})", path or "")
    check(m, "phone link path %r is not /t/CODE?k=16-hex" % path)
    return m.group(1), m.group(2)


async def issue(kiosk, cat="A"):
    r = await kiosk.ok("ticket.issue", category=cat)
    return r["ticket"]


async def test_kiosk_reply_carries_link_and_qr():
    d = await hk.daemon()
    kiosk = await hk.connect_role(d, "kiosk")
    t = await issue(kiosk)
    code, key = parse_path(t.get("path"))
    check(code == t["code"], "link names %s, ticket is %s" % (code, t["code"]))
    check(t.get("url", "").endswith(t["path"]) and t["url"].startswith("http"), "url %r" % t.get("url"))
    check("qr_svg" not in t, "a QR image drawn without qr: true")
    t = (await kiosk.ok("ticket.issue", category="A", qr=True))["ticket"]
    svg = t.get("qr_svg", "")
    check(svg.startswith("<svg") and "viewBox" in svg and svg.endswith("</svg>"), "qr_svg %r" % svg[:80])
    # the counter (staff) gets the link, and the image only when it asks for one
    staff = await hk.connect_role(d, "staff")
    s = (await staff.ok("ticket.issue", category="B"))["ticket"]
    parse_path(s.get("path"))
    check("qr_svg" not in s, "a staff ticket.issue reply carries a QR image unasked")
    s = (await staff.ok("ticket.issue", category="B", qr=True))["ticket"]
    await staff.err("ticket.issue", "bad_request", category="B", qr="yes")
    check(s.get("qr_svg", "").startswith("<svg"), "a staff ticket.issue with qr: true has no QR image")


async def test_visitor_hello_and_wrong_keys():
    # a daemon of its own: five wrong keys penalise the address (docs/security.md "Sign-in")
    async with hk.fresh() as d:
        kiosk = await hk.connect_role(d, "kiosk")
        t1 = await issue(kiosk, "D")
        t2 = await issue(kiosk, "D")
        c1, k1 = parse_path(t1["path"])
        c2, k2 = parse_path(t2["path"])
        phone = await hk.connect(d)
        r = await phone.hello("ticket:%s:%s" % (c2, k2), events=EVENTS)
        check(r.get("t") == "ok" and r.get("role") == "visitor", "visitor hello: %r" % r)
        tk = r["ticket"]
        check(tk["code"] == c2 and tk["state"] == "waiting", "hello ticket %r" % tk)
        check(tk["position"] == tk["ahead"] + 1 and tk["ahead"] >= 1, "position/ahead %r" % tk)
        check(tk.get("category_name") == "企业开办", "category_name %r" % tk.get("category_name"))
        check("state" in r and "hall" in r, "hello reply lacks state or hall")
        # a wrong key, another ticket's key, a made-up code: unauthenticated, connection closed
        for token in ("ticket:%s:%s" % (c2, "0" * 16), "ticket:%s:%s" % (c2, k1), "ticket:Z999:%s" % k2,
                      "ticket:%s" % c2, "ticket:%s:%s" % (c2, k2.upper())):
            c = await hk.connect(d)
            r = await c.request("hello", token=token)
            check(r.get("t") == "err" and r.get("code") == "unauthenticated", "%s -> %r" % (token, r))
            check(await c.wait_for(lambda x: x.closed, timeout=5), "connection not closed after a wrong key")


async def test_visitor_is_restricted():
    d = await hk.daemon()
    kiosk = await hk.connect_role(d, "kiosk")
    mine = await issue(kiosk, "C")
    other = await issue(kiosk, "C")
    code, key = parse_path(mine["path"])
    phone = await hk.connect(d)
    await phone.hello("ticket:%s:%s" % (code, key))
    for t, args in (("ticket.issue", {"category": "A"}), ("call.next", {}), ("window.open", {"window": 1}),
                    ("ticket.rate", {"code": code, "score": 5}), ("emergency.trigger", {"playbook": "fire"}),
                    ("gpio.list", {}), ("health", {}), ("state.get", {}), ("incidents.list", {}),
                    ("ticket.get", {"code": other["code"]})):
        await phone.err(t, "forbidden", **args)
    r = await phone.ok("ticket.get")
    check(r["ticket"]["code"] == code, "ticket.get gave %r" % r["ticket"])
    r = await phone.ok("ticket.get", code=code)
    check(r["ticket"]["code"] == code, "ticket.get gave %r" % r["ticket"])
    # the connection lives on after refusals, and gets no private or unrelated events
    n = len(phone.events)
    await issue(kiosk, "C")
    await phone.wait_event("queue.changed", timeout=5)
    names = {e["ev"] for e in phone.events[n:]}
    check("ticket.issued" not in names, "a visitor got ticket.issued (it may carry an appointment)")
    for e in phone.events:
        check(e["ev"] in EVENTS, "a visitor got %s" % e["ev"])
    # and a kiosk may not look tickets up
    await kiosk.err("ticket.get", "forbidden", code=code)


async def test_position_updates_until_called():
    async with hk.fresh() as d:   # a hall of its own: the queue is known exactly
        kiosk = await hk.connect_role(d, "kiosk")
        tickets = [await issue(kiosk, "A") for _ in range(4)]
        code, key = parse_path(tickets[3]["path"])
        phone = await hk.connect(d)
        r = await phone.hello("ticket:%s:%s" % (code, key), events=EVENTS)
        check(r["ticket"]["ahead"] == 3 and r["ticket"]["position"] == 4, "start %r" % r["ticket"])
        staff = await hk.connect_role(d, "staff")
        await staff.ok("window.open", window=1)
        seen = []
        for i in range(3):
            await staff.ok("call.next")
            await phone.wait_event("ticket.called", lambda e, c=tickets[i]["code"]: e["code"] == c)
            t = (await phone.ok("ticket.get"))["ticket"]
            seen.append(t["ahead"])
            await staff.ok("ticket.finish", outcome="即办件")
        check(seen == [2, 1, 0], "ahead after each call: %r" % seen)
        await staff.ok("call.next")
        ev = await phone.wait_event("ticket.called", lambda e: e["code"] == code)
        check(ev["window"] == 1 and ev["window_name"] == "1号窗口", "called event %r" % ev)
        t = (await phone.ok("ticket.get"))["ticket"]
        check(t["state"] == "called" and t["window"] == 1 and t["window_name"] == "1号窗口", "called %r" % t)
        check(t["position"] == 0, "a called ticket has position %r" % t["position"])
        await staff.ok("ticket.start")
        await phone.wait_event("ticket.started", lambda e: e["code"] == code)
        await staff.ok("ticket.finish", outcome="即办件")
        t = (await phone.ok("ticket.get"))["ticket"]
        check(t["state"] == "done", "finished ticket %r" % t)
        # the link still works for a new connection after a restart (the secret is kept)
    async with hk.fresh(data=d.data) as d2:
        phone = await hk.connect(d2)
        r = await phone.hello("ticket:%s:%s" % (code, key))
        check(r.get("t") == "ok" and r["ticket"]["state"] == "done", "after restart: %r" % r)


async def test_emergency_public_view_only():
    async with hk.fresh() as d:
        kiosk = await hk.connect_role(d, "kiosk")
        code, key = parse_path((await issue(kiosk, "A"))["path"])
        phone = await hk.connect(d)
        await phone.hello("ticket:%s:%s" % (code, key))
        r = await phone.ok("ticket.get")
        check(r["emergency"] == {"active": False}, "emergency before: %r" % r["emergency"])
        sec = await hk.connect_role(d, "security")
        # a silent incident (mass_incident) is not shown to phones
        await sec.ok("emergency.trigger", playbook="mass_incident")
        r = await phone.ok("ticket.get")
        check(r["emergency"] == {"active": False}, "a phone sees a silent incident: %r" % r["emergency"])
        for e in phone.events:
            check(e["ev"] != "emergency.changed" or not e.get("active"),
                  "a phone was pushed a silent incident: %r" % e)
        await sec.ok("emergency.trigger", playbook="fire", drill=True)
        # the evacuation is pushed at once (the page shows it without waiting for a refresh)
        ev = await phone.wait_event("emergency.changed", lambda e: e.get("active"), 10)
        check(ev.get("drill") is True, "pushed drill not marked as a drill: %r" % ev)
        check("mass_incident" not in repr(ev), "the pushed view names the silent incident: %r" % ev)
        r = await phone.ok("ticket.get")
        em = r["emergency"]
        check(em.get("active") and em.get("drill") is True and em.get("name") == "火警", "drill: %r" % em)
        check(set(em) == {"active", "name", "drill"}, "a phone gets more than active/name/drill: %r" % em)
        await sec.ok("emergency.clear", reason="演练结束", playbook="fire")
        await sec.ok("emergency.clear", reason="处置完毕", playbook="mass_incident")
        r = await phone.ok("ticket.get")
        check(r["emergency"] == {"active": False}, "emergency after: %r" % r["emergency"])
        check(all(e["ev"] in ("emergency.changed", "ticket.called", "ticket.started", "ticket.noshow",
                              "ticket.transferred", "queue.changed", "window.changed", "day.closed")
                  for e in phone.events), "a phone got a non-public event: %r" % [e["ev"] for e in phone.events])


async def test_page_is_served():
    d = await hk.daemon()
    def get(path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (d.port, path), timeout=5) as f:
            return f.status, f.read().decode("utf-8")
    status, body = await asyncio.get_running_loop().run_in_executor(None, get, "/t/A001?k=0123456789abcdef")
    check(status == 200 and "/js/ticket.js" in body and 'id="t-position"' in body, "page /t/A001: %d" % status)
    status, body = await asyncio.get_running_loop().run_in_executor(None, get, "/js/ticket.js")
    check(status == 200 and "ticket.get" in body, "ticket.js not served")


if __name__ == "__main__":
    hk.run([test_kiosk_reply_carries_link_and_qr, test_visitor_hello_and_wrong_keys, test_visitor_is_restricted,
            test_position_updates_until_called, test_emergency_public_view_only, test_page_is_served])
