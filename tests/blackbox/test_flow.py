#!/usr/bin/python3
"""The queue flow of hall.v1 end to end: issue, call, recall, start, finish, rate, no-show,
transfer, window states, errors, event seq and state consistency (contract.md, protocol-shapes.md)."""
import re

import hk
from hk import check

CODE_RE = re.compile(r"^[A-Z]\d{3,}$")


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def window_of(state, wid):
    for w in state.get("windows", []):
        if w.get("id") == wid:
            return w
    raise hk.CheckFailed("window %s not in state %r" % (wid, state.get("windows")))


async def staff_at(d, token, window):
    c = await hk.connect(d, token)
    r = await c.ok("window.open", window=window)
    w = r.get("window")
    check(isinstance(w, dict) and w.get("id") == window and w.get("status") == "open",
          "window.open %d reply window %r" % (window, w))
    return c


async def test_hello_reply():
    async with hk.fresh() as d:
        c = await hk.connect(d)
        r = await c.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        check(r.get("t") == "ok", "hello -> %r" % r)
        check(r.get("role") == "display", "role %r" % r.get("role"))
        check(r.get("hall") is not None, "hello reply has no hall")
        check(isinstance(r.get("seq"), int) and r["seq"] >= 0, "seq %r" % r.get("seq"))
        st = r.get("state")
        check(isinstance(st, dict), "state %r" % st)
        for k in ("windows", "queues", "recent_calls", "emergency"):
            check(k in st, "state lacks %s: %r" % (k, list(st)))
        ids = sorted(w.get("id") for w in st["windows"])
        check(ids == [1, 2, 3, 4], "demo windows %r" % ids)
        for wid, cats in hk.DEMO_WINDOWS.items():
            check(window_of(st, wid).get("categories") == cats, "window %d categories" % wid)
        check(set(st["queues"]) == set(hk.DEMO_CATEGORIES), "queues %r" % st["queues"])
        for cat, q in st["queues"].items():
            check(q.get("waiting") == 0 and is_num(q.get("est_wait_s")), "queue %s %r" % (cat, q))
        r2 = await c.ok("state.get")
        check(isinstance(r2.get("state"), dict) and set(r2["state"]["queues"]) == set(st["queues"]),
              "state.get state %r" % r2.get("state"))
        await c.close()


async def test_whole_flow():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        r = await kiosk.ok("ticket.issue", category="A")
        t = r.get("ticket")
        check(isinstance(t, dict), "ticket %r" % t)
        check(isinstance(t.get("code"), str) and CODE_RE.match(t["code"]) and t["code"].startswith("A"),
              "code %r is not A001-like" % t.get("code"))
        check(t.get("category") == "A", "category %r" % t.get("category"))
        check(t.get("ahead") == 0, "first ticket ahead %r (expected 0)" % t.get("ahead"))
        check(is_num(t.get("est_wait_s")) and t["est_wait_s"] >= 0, "est_wait_s %r" % t.get("est_wait_s"))
        check(is_num(t.get("issued_at")), "issued_at %r" % t.get("issued_at"))
        code = t["code"]
        ev = await disp.wait_event("ticket.issued", lambda e: e.get("code") == code)
        check(ev.get("category") == "A", "ticket.issued %r" % ev)
        r2 = await kiosk.ok("ticket.issue", category="A")
        check(r2["ticket"].get("ahead") == 1, "second A ticket ahead %r (expected 1)" % r2["ticket"].get("ahead"))
        check(r2["ticket"]["code"] != code, "two tickets got the same code %s" % code)

        staff = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        r = await staff.ok("call.next")
        check(r.get("ticket", {}).get("code") == code, "call.next gave %r, expected %s first" % (r.get("ticket"), code))
        ev = await disp.wait_event("ticket.called", lambda e: e.get("code") == code)
        check(ev.get("window") == 1, "called window %r" % ev.get("window"))
        check(ev.get("window_name") == "1号窗口", "window_name %r" % ev.get("window_name"))
        check(ev.get("category") == "A", "called category %r" % ev.get("category"))
        check(ev.get("recall") is False, "first call recall %r (expected false)" % ev.get("recall"))
        st = (await disp.ok("state.get"))["state"]
        cur = window_of(st, 1).get("current")
        check(isinstance(cur, dict) and cur.get("code") == code and cur.get("state") == "called",
              "window 1 current %r" % cur)
        rc = st.get("recent_calls") or []
        check(rc and rc[0].get("code") == code and rc[0].get("window") == 1, "recent_calls %r" % rc[:2])

        r = await staff.ok("call.recall")
        check(r.get("ticket", {}).get("code") == code, "call.recall ticket %r" % r.get("ticket"))
        ev = await disp.wait_event("ticket.called", lambda e: e.get("code") == code)
        check(ev.get("recall") is True, "recall event %r (expected recall true)" % ev)

        r = await staff.ok("ticket.start")
        check(r.get("ticket", {}).get("code") == code, "ticket.start %r" % r)
        ev = await disp.wait_event("ticket.started", lambda e: e.get("code") == code)
        check(ev.get("window") == 1, "started %r" % ev)
        st = (await disp.ok("state.get"))["state"]
        check((window_of(st, 1).get("current") or {}).get("state") == "serving", "not serving after start")

        r = await staff.ok("ticket.finish", outcome="即办件")
        check(r.get("ticket", {}).get("code") == code, "ticket.finish %r" % r)
        ev = await disp.wait_event("ticket.finished", lambda e: e.get("code") == code)
        check(ev.get("window") == 1, "finished %r" % ev)
        # the outcome is the staff's (docs/protocol.md "Audience"): a display gets the code only
        check("outcome" not in ev, "the display got the outcome: %r" % ev)
        ev = await staff.wait_event("ticket.finished", lambda e: e.get("code") == code)
        check(ev.get("outcome") == "即办件" and ev.get("window") == 1, "finished %r" % ev)
        st = (await disp.ok("state.get"))["state"]
        check(window_of(st, 1).get("current") is None, "window 1 current after finish %r"
              % window_of(st, 1).get("current"))

        r = await kiosk.ok("ticket.rate", code=code, score=5)
        check(r.get("ticket", {}).get("score") == 5, "ticket.rate reply %r" % r)
        ev = await disp.wait_event("ticket.rated", lambda e: e.get("code") == code)
        check(ev.get("score") == 5, "rated %r" % ev)
        for c in (disp, kiosk, staff):
            await c.close()


async def test_noshow():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        code = (await kiosk.ok("ticket.issue", category="B"))["ticket"]["code"]
        check(code.startswith("B"), "B ticket code %r" % code)
        staff = await staff_at(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", 3)
        check((await staff.ok("call.next"))["ticket"]["code"] == code, "call.next did not give %s" % code)
        r = await staff.ok("ticket.noshow")
        check(r.get("ticket", {}).get("code") == code, "noshow reply %r" % r)
        ev = await disp.wait_event("ticket.noshow", lambda e: e.get("code") == code)
        check(ev.get("window") == 3 and ev.get("category") == "B", "noshow event %r" % ev)
        st = (await disp.ok("state.get"))["state"]
        check(window_of(st, 3).get("current") is None, "window 3 still has a current ticket after noshow")
        check(st["queues"]["B"]["waiting"] == 0, "B waiting %r after noshow" % st["queues"]["B"])
        await staff.err("call.next", "queue_empty")
        # a finished no-show cannot be started or finished any more
        r = await staff.request("ticket.start")
        check(r.get("t") == "err", "ticket.start with no current ticket -> %r (expected err)" % r)


async def test_transfer_to_category():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        code = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
        s1 = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        check((await s1.ok("call.next"))["ticket"]["code"] == code, "call.next")
        r = await s1.ok("ticket.transfer", category="D")
        check(r.get("ticket", {}).get("code") == code, "transfer reply %r" % r)
        ev = await disp.wait_event("ticket.transferred", lambda e: e.get("code") == code)
        check(ev.get("from_window") == 1 and ev.get("category") == "D" and ev.get("window") is None,
              "transferred event %r" % ev)
        st = (await disp.ok("state.get"))["state"]
        check(st["queues"]["D"]["waiting"] == 1, "D waiting %r after transfer" % st["queues"]["D"])
        check(window_of(st, 1).get("current") is None, "window 1 still serves the transferred ticket")
        await s1.err("call.next", "queue_empty")   # window 1 serves A, B only
        s3 = await staff_at(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", 3)
        r = await s3.ok("call.next")
        check(r["ticket"]["code"] == code, "window 3 (B, D) called %r, expected the transferred %s"
              % (r["ticket"].get("code"), code))
        ev = await disp.wait_event("ticket.called", lambda e: e.get("code") == code and e.get("window") == 3)
        check(ev.get("category") == "D", "called after transfer: category %r" % ev.get("category"))


async def test_transfer_to_window():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        first = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
        waiting_c = (await kiosk.ok("ticket.issue", category="C"))["ticket"]["code"]
        waiting_a = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
        s1 = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        check((await s1.ok("call.next"))["ticket"]["code"] == first, "window 1 should call %s" % first)
        await s1.ok("ticket.transfer", window=2)
        ev = await disp.wait_event("ticket.transferred", lambda e: e.get("code") == first)
        check(ev.get("from_window") == 1 and ev.get("window") == 2, "transferred event %r" % ev)
        s2 = await staff_at(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", 2)
        r = await s2.ok("call.next")
        check(r["ticket"]["code"] == first, "window 2 called %s before the ticket transferred to it (%s); "
              "waiting were %s, %s" % (r["ticket"]["code"], first, waiting_c, waiting_a))
        ev = await disp.wait_event("ticket.called", lambda e: e.get("code") == first and e.get("window") != 1)
        check(ev.get("window") == 2 and ev.get("window_name") == "2号窗口", "called %r" % ev)
        await s2.ok("ticket.finish", outcome="承诺件")
        # then window 2 goes on with its own queues: C first (its preferred category)
        r = await s2.ok("call.next")
        check(r["ticket"]["code"] == waiting_c, "window 2 [C, A] next called %s, expected %s"
              % (r["ticket"]["code"], waiting_c))


async def test_window_states():
    async with hk.fresh() as d:
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        s = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        ev = await disp.wait_event("window.changed", lambda e: (e.get("window") or {}).get("id") == 1)
        check(ev["window"].get("status") == "open" and ev["window"].get("staff") == "0001",
              "window.changed after open %r" % ev["window"])
        r = await s.ok("window.pause", reason="午休")
        check(r.get("window", {}).get("status") == "paused", "pause reply %r" % r)
        ev = await disp.wait_event("window.changed", lambda e: (e.get("window") or {}).get("status") == "paused")
        check(ev["window"].get("pause_reason") == "午休", "pause_reason %r" % ev["window"].get("pause_reason"))
        st = (await disp.ok("state.get"))["state"]
        check(window_of(st, 1).get("status") == "paused", "state window 1 %r" % window_of(st, 1))
        r = await s.ok("window.resume")
        check(r.get("window", {}).get("status") == "open", "resume reply %r" % r)
        await disp.wait_event("window.changed", lambda e: (e.get("window") or {}).get("id") == 1
                              and e["window"].get("status") == "open")
        r = await s.ok("window.close")
        check(r.get("window", {}).get("status") == "closed", "close reply %r" % r)
        await disp.wait_event("window.changed", lambda e: (e.get("window") or {}).get("status") == "closed")
        st = (await disp.ok("state.get"))["state"]
        check(window_of(st, 1).get("status") == "closed", "state window 1 after close %r" % window_of(st, 1))
        # a closed window calls nobody
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await kiosk.ok("ticket.issue", category="A")
        r = await s.request("call.next")
        check(r.get("t") == "err", "call.next after window.close -> %r (expected err)" % r)
        # and the staff member can open it again
        await s.ok("window.open", window=1)
        await s.ok("call.next")


async def test_errors():
    async with hk.fresh() as d:
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        s = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        await s.err("call.next", "queue_empty")
        await kiosk.ok("ticket.issue", category="B")
        await s.ok("call.next")
        await s.ok("ticket.start")
        await s.err("ticket.finish", "bad_request", outcome="办完了")
        await s.err("ticket.finish", "bad_request")                  # outcome missing
        await s.err("ticket.finish", "bad_request", outcome=3)
        await kiosk.err("ticket.issue", "bad_request", category=7)
        r = await kiosk.request("ticket.issue", category="Z")
        check(r.get("t") == "err" and r.get("code") in ("bad_request", "not_found"),
              "ticket.issue unknown category -> %r" % r)
        r = await s.ok("ticket.finish", outcome="补正")                # the ticket is still there
        code = r["ticket"]["code"]
        await s.err("call.next", "queue_empty")
        await kiosk.err("ticket.rate", "bad_request", code=code, score=6)
        await kiosk.err("ticket.rate", "bad_request", code=code, score=0)
        await kiosk.err("ticket.rate", "bad_request", code=code, score="5")
        r = await kiosk.request("ticket.rate", code="Q999", score=3)
        check(r.get("t") == "err" and r.get("code") in ("not_found", "bad_request"),
              "ticket.rate of an unknown code -> %r" % r)
        await kiosk.ok("ticket.rate", code=code, score=4)


async def test_seq_and_state_consistency():
    async with hk.fresh() as d:
        disp = await hk.connect(d)
        hello = await disp.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        seq0 = hello["seq"]
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        s1 = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        s3 = await staff_at(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", 3)
        codes = []
        for cat in "AABDDAC":
            codes.append((await kiosk.ok("ticket.issue", category=cat))["ticket"]["code"])
        await s1.ok("call.next")
        await s1.ok("ticket.start")
        await s1.ok("ticket.finish", outcome="联办件")
        await s3.ok("call.next")
        await s3.ok("ticket.noshow")
        await s1.ok("call.next")
        await s1.ok("call.recall")
        await s3.ok("window.pause", reason="x")
        for cat in "BA":
            codes.append((await kiosk.ok("ticket.issue", category=cat))["ticket"]["code"])
        # every event seen by the display, strictly +1 from the hello seq (once the coalesced
        # queue.changed of the last change is in: the checks below read it)
        await disp.queue_settled()
        last = await disp.request("state.get")
        st = last["state"]
        ok = await disp.wait_for(lambda c: len(c.events) >= 1 and any(e.get("ev") == "ticket.issued" and
                                 e.get("code") == codes[-1] for e in c.events), 10)
        check(ok, "display never saw the last ticket.issued")
        seqs = [e.get("seq") for e in disp.events]
        check(all(isinstance(x, int) for x in seqs), "seq not all integers: %r" % seqs)
        check(seqs[0] == seq0 + 1, "first event seq %s, hello seq was %s" % (seqs[0], seq0))
        for a, b in zip(seqs, seqs[1:]):
            check(b == a + 1, "seq jumps from %s to %s: %r" % (a, b, seqs))
        for e in disp.events:
            check(is_num(e.get("at")), "event without at: %r" % e)
        # every connection sees the same seq for the same event
        kseqs = {e["seq"]: e.get("ev") for e in kiosk.events}
        for e in disp.events:
            if e["seq"] in kseqs:
                check(kseqs[e["seq"]] == e["ev"], "seq %s is %s for one client, %s for another"
                      % (e["seq"], e["ev"], kseqs[e["seq"]]))
        # state.get agrees with the events
        issued = [e for e in disp.events if e["ev"] == "ticket.issued"]
        check([e["code"] for e in issued] == codes, "issued events %r vs replies %r"
              % ([e["code"] for e in issued], codes))
        check(len(set(codes)) == len(codes), "a code was issued twice: %r" % codes)
        called = {e["code"] for e in disp.events if e["ev"] == "ticket.called"}
        transferred_back = {e["code"] for e in disp.events if e["ev"] == "ticket.transferred"}
        for cat in hk.DEMO_CATEGORIES:
            want = sum(1 for e in issued if e["category"] == cat and
                       (e["code"] not in called or e["code"] in transferred_back))
            check(st["queues"][cat]["waiting"] == want, "queue %s waiting %s, events say %s"
                  % (cat, st["queues"][cat]["waiting"], want))
        # queue.changed is coalesced to the next tick (200 ms): the one after the last change may
        # still be on its way when state.get answers; once here it must agree
        def queues_agree(c):
            qc = [e for e in c.events if e["ev"] == "queue.changed"]
            return qc and all(q.get("waiting") == st["queues"][cat]["waiting"] for cat, q in qc[-1]["queues"].items())
        await disp.wait_for(queues_agree, 5)
        qc = [e for e in disp.events if e["ev"] == "queue.changed"]
        if qc:
            for cat, q in qc[-1]["queues"].items():
                check(q.get("waiting") == st["queues"][cat]["waiting"],
                      "last queue.changed %s waiting %s, state %s" % (cat, q.get("waiting"), st["queues"][cat]))
        calls = [e for e in disp.events if e["ev"] == "ticket.called"]
        rc = st["recent_calls"]
        check(len(rc) == min(10, len(calls)), "recent_calls has %d, %d calls made" % (len(rc), len(calls)))
        for got, ev in zip(rc, reversed(calls)):
            check(got.get("code") == ev["code"] and got.get("window") == ev["window"]
                  and bool(got.get("recall")) == ev["recall"], "recent_calls %r vs event %r" % (got, ev))
        for w in st["windows"]:
            changes = [e for e in disp.events if e["ev"] == "window.changed" and e["window"].get("id") == w["id"]]
            if changes:
                check(changes[-1]["window"].get("status") == w.get("status"),
                      "window %s: state %s, last window.changed %s" % (w["id"], w.get("status"),
                                                                       changes[-1]["window"].get("status")))
        check(window_of(st, 3).get("status") == "paused", "window 3 not paused in state")
        cur = window_of(st, 1).get("current")
        check(cur and cur.get("code") == calls[-1]["code"] and cur.get("recalls") == 1,
              "window 1 current %r, last call %r" % (cur, calls[-1]))
        # the state of a newcomer carries the same seq as the newest event
        late = await hk.connect(d)
        h2 = await late.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        # A coalesced queue.changed (hall tick) may be committed between the
        # display's last event and this hello, so the newcomer's seq is the
        # newest event the display has seen or one it is about to receive.
        check(h2["seq"] >= seqs[-1], "a new hello reports seq %s, older than event %s" % (h2["seq"], seqs[-1]))
        ok = await disp.wait_for(lambda c: any(e.get("seq") == h2["seq"] for e in c.events), 10)
        check(ok, "hello seq %s matches no event the display received (newest %s)"
              % (h2["seq"], disp.events[-1].get("seq")))
        seqs = [e.get("seq") for e in disp.events]
        check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq gap: %r" % seqs)


async def test_codes_never_reused():
    async with hk.fresh() as d:
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        s = await staff_at(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 1)
        seen = set()
        for i in range(12):
            code = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
            check(code not in seen, "code %s issued twice" % code)
            seen.add(code)
            if i % 2 == 0:
                await s.ok("call.next")
                await s.ok("ticket.finish", outcome="即办件")
        check(all(c.startswith("A") and CODE_RE.match(c) for c in seen), "A codes %r" % sorted(seen))
        b = (await kiosk.ok("ticket.issue", category="B"))["ticket"]["code"]
        check(b.startswith("B") and b not in seen, "B code %r" % b)


hk.run([test_hello_reply, test_whole_flow, test_noshow, test_transfer_to_category, test_transfer_to_window,
        test_window_states, test_errors, test_seq_and_state_consistency, test_codes_never_reused])
