#!/usr/bin/python3
"""ID-card priority at the kiosk (issue 19 item 6, docs/queue.md): ticket.issue {id_number} from a
kiosk gives an elderly priority ticket when the holder is queue.elderly_age or older, a normal one
otherwise; a misread number is bad_request saying why; only a kiosk may send it. The number is in
no reply or event, and after a clean stop it is in no file of the data directory (the embedded
Redis's append-only file, the journal, the incident log) and not in the daemon's log."""
import os

import hk
from hk import check

ELDERLY = "11010519491231002X"      # GB 11643's example: born 31 December 1949
YOUNG = "110105200001010032"        # born 1 January 2000
MISREAD = "110105200001010033"      # the check digit does not match
BAD_DATE = "110101196502290031"     # 29 February 1965 (the check digit is right)


def files_with(root, needle):
    hits = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


async def test_kiosk_id_number():
    async with hk.fresh() as d:
        kiosk = await hk.connect_role(d, "kiosk")
        disp = await hk.connect_role(d, "display")
        staff = await hk.connect_role(d, "staff")
        r = await kiosk.ok("ticket.issue", category="A", id_number=YOUNG)
        check(r["ticket"]["priority"] == "normal" and "priority_reason" not in r["ticket"], "young %r" % r)
        r = await kiosk.ok("ticket.issue", category="A", id_number=ELDERLY)
        t = r["ticket"]
        check(t["priority"] == "priority" and t.get("priority_reason") == "elderly", "elderly ticket %r" % t)
        ev = await disp.wait_event("ticket.issued", lambda e: e.get("code") == t["code"])
        # a public screen sees a priority ticket, never why (docs/security.md); staff see the reason
        check(ev["priority"] == "priority" and "priority_reason" not in ev and ev["by"] == "kiosk",
              "ticket.issued on the display %r" % ev)
        ev = await staff.wait_event("ticket.issued", lambda e: e.get("code") == t["code"])
        check(ev.get("priority_reason") == "elderly", "ticket.issued for staff %r" % ev)
        # the elderly ticket, issued second, is called first
        await staff.ok("window.open", window=1)
        called = await staff.ok("call.next")
        check(called["ticket"]["code"] == t["code"], "call.next %r, expected %s" % (called, t["code"]))
        # misread numbers: bad_request saying why, nothing issued
        for number, why in ((MISREAD, "check digit"), (BAD_DATE, "birth date"), (ELDERLY[:15], "18 characters"),
                            ("11010519491231002Y", "17 digits")):
            e = await kiosk.err("ticket.issue", "bad_request", category="A", id_number=number)
            check(why in e["msg"] and number[:15] not in e["msg"], "%s -> %r" % (number, e))
        await kiosk.err("ticket.issue", "bad_request", category="A", id_number=ELDERLY, priority="normal")
        await staff.err("ticket.issue", "forbidden", category="A", id_number=ELDERLY)
        # the kiosk's normal ticket is still one request
        r = await kiosk.ok("ticket.issue", category="B")
        check(r["ticket"]["priority"] == "normal", "normal %r" % r)
        for c in (kiosk, disp, staff):
            for e in c.events:
                check(ELDERLY[:17] not in repr(e) and YOUNG[:17] not in repr(e), "an event carries the number: %r" % e)
    # stopped cleanly: Redis has written its append-only file, the journal is closed
    for number in (ELDERLY, YOUNG, MISREAD, BAD_DATE):
        hits = files_with(d.data, number[:17].encode())
        check(not hits, "the number %s is stored in %r" % (number, hits))
        check(number[:17] not in d.stderr_text(), "the number is in the daemon's log")


hk.run([test_kiosk_id_number], timeout=120)
