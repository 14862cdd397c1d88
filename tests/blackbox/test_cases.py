#!/usr/bin/python3
"""四件管理 and 好差评 through the real daemon (--test-clock): a 承诺件 becomes a case, the clock is
moved on, the case is warned of and goes overdue; staff and admin see every case event, display
and kiosk connections never do (they get the codes-only board); the cases survive a restart
exactly. A bad rating needs a reason and opens a follow-up that an admin closes; the
satisfaction statistics count it."""
import asyncio
import json

import hk
from hk import check

MATTERS = """
matters:
  - { id: BDC01, name: 不动产转移登记, category: B, promised_days: 2, legal_days: 5 }
  - { id: SB01, name: 社保关系转移, category: A, promised_days: 1 }
supervision: { warn_fraction: 0.75 }
"""
PRIVATE = ("case.", "rating.recorded", "followup.")
BOARD_KEYS = {"code", "kind", "matter", "status", "deadline", "day"}


def config():
    return hk.write_config(hk.demo_config() + MATTERS)


def daemon_kw():
    return dict(config=config(), args=["--test-clock"], env={"TZ": "Asia/Shanghai"})


async def serve(kiosk, staff, category, outcome, **finish):
    code = (await kiosk.ok("ticket.issue", category=category))["ticket"]["code"]
    called = (await staff.ok("call.next"))["ticket"]["code"]
    check(called == code, "called %s, issued %s" % (called, code))
    await staff.ok("ticket.start")
    r = await staff.ok("ticket.finish", outcome=outcome, **finish)
    return code, r


def no_private(client, who):
    leaked = [e.get("ev") for e in client.events if str(e.get("ev", "")).startswith(PRIVATE)]
    check(not leaked, "%s received private events %r" % (who, leaked))


async def test_case_warning_overdue_and_restart():
    async with hk.fresh(**daemon_kw()) as d:
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await staff.ok("window.open", window=1)

        code, r = await serve(kiosk, staff, "B", "承诺件", matter="BDC01")
        case = r.get("case")
        check(isinstance(case, int) and case >= 1, "ticket.finish reply has the case: %r" % r)
        opened = await admin.wait_event("case.opened", lambda e: e.get("case") == case)
        await staff.wait_event("case.opened", lambda e: e.get("case") == case)
        check(opened.get("code") == code and opened.get("kind") == "承诺件" and opened.get("matter") == "BDC01"
              and opened.get("window") == 1 and opened.get("staff") == "0001", "case.opened %r" % opened)
        deadline, warn_at, at = opened["deadline"], opened["warn_at"], opened["at"]
        # the demo hours are every day 00:00-24:00: two working days end at the second midnight
        check(2 * 86400000 < deadline - at <= 3 * 86400000, "deadline %d from %d" % (deadline, at))
        check(abs((warn_at - at) - 0.75 * (deadline - at)) < 2, "warn_at at 75 %%: %r" % opened)

        # wrong arguments are refused, the ticket stays at the window meanwhile
        await kiosk.ok("ticket.issue", category="A")
        await staff.ok("call.next")
        await staff.err("ticket.finish", "not_found", outcome="承诺件", matter="NOPE")
        await staff.err("ticket.finish", "bad_request", outcome="即办件", sent_to="省厅")
        await staff.ok("ticket.finish", outcome="上报件", matter="SB01", sent_to="省人社厅")
        second = (await admin.wait_event("case.opened", lambda e: e.get("kind") == "上报件"))["case"]

        now = (await admin.ok("clock.advance", ms=0))["now"]
        await admin.ok("clock.advance", ms=max(0, warn_at - now - 60000))   # ticks before it replies
        check(not [e for e in admin.events if e.get("ev") == "case.warning" and e.get("case") == case],
              "no warning a minute before warn_at")
        await admin.ok("clock.advance", ms=61000)
        w = await admin.wait_event("case.warning", lambda e: e.get("case") == case, timeout=5)
        check(0 < w.get("left_ms", 0) <= deadline - warn_at, "case.warning %r" % w)
        await staff.wait_event("case.warning", lambda e: e.get("case") == case, timeout=5)

        now = (await admin.ok("clock.advance", ms=0))["now"]
        await admin.ok("clock.advance", ms=deadline - now + 1000)
        o = await admin.wait_event("case.overdue", lambda e: e.get("case") == case, timeout=5)
        check(o.get("code") == code, "case.overdue %r" % o)

        lst = (await staff.ok("cases.list"))["cases"]
        rank = {"overdue": 0, "warning": 1, "open": 2}
        check([rank[c["status"]] for c in lst] == sorted(rank[c["status"]] for c in lst), "overdue first: %r" % lst)
        mine = [c for c in lst if c["case"] == case]
        check(mine and mine[0]["status"] == "overdue", "case %d overdue: %r" % (case, lst))
        check(mine[0].get("staff_name") == "张三", "staff see who handles it: %r" % mine[0])
        stats = (await admin.ok("cases.stats"))["stats"]
        check(stats["overdue"] >= 1 and stats["on_time_rate"] == 0.0 and stats["target"] == 1.0, "stats %r" % stats)
        await staff.err("cases.stats", "forbidden")

        # the public board: codes only
        board = (await disp.ok("cases.board"))["cases"]
        mine = [c for c in board if c["code"] == code]
        check(mine and mine[0]["status"] == "overdue" and mine[0]["matter"] == "不动产转移登记", "board %r" % board)
        for c in board:
            check(set(c) <= BOARD_KEYS, "the board carries only %r, got %r" % (BOARD_KEYS, sorted(c)))
        await kiosk.ok("cases.board")
        for c, who in ((disp, "display"), (kiosk, "kiosk")):
            await c.err("cases.list", "forbidden")
            await c.err("case.close", "forbidden", case=case, result="x")
            await c.err("followups.list", "forbidden")
            st = (await c.ok("state.get"))["state"]
            check("supervision" not in st, "%s snapshot has no supervision counts" % who)
        check((await admin.ok("state.get"))["state"]["supervision"]["overdue"] >= 1, "admin snapshot counts")

        # closed late
        r = await staff.ok("case.close", case=case, result="准予登记")
        check(r["case"]["on_time"] is False and r["case"]["status"] == "closed", "late close %r" % r)
        closed = await admin.wait_event("case.closed", lambda e: e.get("case") == case)
        check(closed.get("on_time") is False, "case.closed %r" % closed)
        await staff.err("case.close", "conflict", case=case, result="again")

        before = (await admin.ok("cases.list", status="all"))["cases"]
        await disp.settle()
        await kiosk.settle()
        no_private(disp, "display")
        no_private(kiosk, "kiosk")

        await d.stop()
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        after = (await admin.ok("cases.list", status="all"))["cases"]
        check(after == before, "cases after a restart\n%r\n!=\n%r" % (after, before))
        await admin.ok("clock.advance", ms=0)           # the restarted hall's tick, before the reply
        again = [e for e in admin.events if e.get("ev") in ("case.warning", "case.overdue") and e.get("case") == case]
        check(not again, "nothing is reported twice after a restart: %r" % again)
        check(any(c["case"] == second for c in after), "the 上报件 case survives")


async def test_bad_rating_followup():
    async with hk.fresh(**daemon_kw()) as d:
        staff = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await staff.ok("window.open", window=2)
        reasons = (await kiosk.ok("ratings.reasons"))["reasons"]
        check("服务态度不好" in reasons, "default reasons %r" % reasons)

        good, _ = await serve(kiosk, staff, "A", "即办件")
        bad, _ = await serve(kiosk, staff, "C", "即办件")
        r = await kiosk.ok("ticket.rate", code=good, score=5)
        check(r["ticket"]["score"] == 5, "rated %r" % r)
        await kiosk.err("ticket.rate", "bad_request", code=bad, score=1)
        await kiosk.err("ticket.rate", "bad_request", code=bad, score=1, reason="没有这个理由")
        await kiosk.err("ticket.rate", "bad_request", code=bad, score=1, reason="服务态度不好", text="长" * 200)
        r = await kiosk.ok("ticket.rate", code=bad, score=1, reason="服务态度不好", text="窗口人员玩手机")
        pub = await disp.wait_event("ticket.rated", lambda e: e.get("code") == bad)
        check(pub.get("level") == "非常不满意" and "text" not in pub and "reason" not in pub, "public ticket.rated %r" % pub)
        fu = await admin.wait_event("followup.opened", lambda e: e.get("code") == bad)
        check(fu.get("staff") == "0002" and fu.get("window") == 2 and fu.get("score") == 1
              and fu.get("reason") == "服务态度不好" and fu.get("text") == "窗口人员玩手机", "followup.opened %r" % fu)
        check(r.get("followup") == fu["id"], "the rating's reply names the follow-up: %r" % r)
        own = (await staff.ok("followups.list"))["followups"]
        check([f["id"] for f in own] == [fu["id"]], "staff 0002 sees the follow-up of their service: %r" % own)
        other = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        check((await other.ok("followups.list"))["followups"] == [], "other staff do not")
        await staff.err("followup.close", "forbidden", followup=fu["id"], resolution="x")
        await admin.err("followup.close", "bad_request", followup=fu["id"])
        r = await admin.ok("followup.close", followup=fu["id"], resolution="已电话回访，批评教育")
        check(r["followup"]["status"] == "closed", "closed %r" % r)
        await admin.wait_event("followup.closed", lambda e: e.get("id") == fu["id"])
        await admin.err("followup.close", "conflict", followup=fu["id"], resolution="again")

        st = (await admin.ok("ratings.stats", by="window"))["stats"]
        check(st["n"] == 2 and st["satisfaction_rate"] == 0.5 and st["target"] == 0.95, "stats %r" % st)
        w2 = [g for g in st["groups"] if g["key"] == "2"]
        check(w2 and w2[0]["counts"]["非常满意"] == 1 and w2[0]["counts"]["非常不满意"] == 1
              and w2[0]["meets_target"] is False, "window 2 %r" % w2)
        by_staff = (await admin.ok("ratings.stats", by="staff"))["stats"]["groups"]
        check([g["n"] for g in by_staff if g["key"] == "0002"] == [2], "by staff %r" % by_staff)
        await admin.err("ratings.stats", "bad_request", by="hour")
        await staff.err("ratings.stats", "forbidden")
        await disp.settle()
        await kiosk.settle()
        no_private(disp, "display")
        no_private(kiosk, "kiosk")


async def test_hallctl_cases():
    async with hk.fresh(**daemon_kw()) as d:
        staff = await hk.connect(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await staff.ok("window.open", window=3)
        code, r = await serve(kiosk, staff, "D", "承诺件")
        case = r["case"]

        async def ctl(*args, token="admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"):
            return await hk.run_cmd([hk.CTL, "--url", d.url, "--token", token] + list(args), timeout=20)

        rc, out, err = await ctl("--json", "cases")
        check(rc == 0 and code in out and '"kind":"承诺件"' in out.replace(" ", ""), "hallctl cases: %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("case", "close", str(case), "已办结")
        check(rc == 0 and "closed" in out, "hallctl case close: %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("--json", "cases", "stats")
        check(rc == 0 and '"on_time":1' in out.replace(" ", ""), "hallctl cases stats: %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("--json", "ratings", "staff")
        check(rc == 0 and '"groups"' in out, "hallctl ratings staff: %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("case", "open", "1", "x")
        check(rc != 0 and "usage" in err, "hallctl case open: %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("cases", "stats", token="display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        check(rc != 0 and "forbidden" in (out + err), "hallctl cases stats as display: %s %r %r" % (rc, out, err))

        # the lists come in pages (cases.list, followups.list: limit, after, next): hallctl follows
        # next to the end, so a small page size still gives every case and follow-up, each once
        codes = [code]
        for _ in range(4):
            c2, _ = await serve(kiosk, staff, "D", "承诺件")
            codes.append(c2)
        for c2 in codes[1:]:
            await kiosk.ok("ticket.rate", code=c2, score=1, reason="服务态度不好")
        for what, key, want in (("cases", "case", codes), ("followups", "id", codes[1:])):
            rc, out, err = await ctl("--json", what, "all", "--limit", "2")
            check(rc == 0, "hallctl %s all --limit 2: %s %r %r" % (what, rc, out, err))
            r = json.loads(out)
            items = r[what]
            check(sorted(i["code"] for i in items) == sorted(want) and len({i[key] for i in items}) == len(want)
                  and r["count"] == len(want) and r.get("next") is None,
                  "hallctl %s all --limit 2 gave %r" % (what, r))
        rc, out, err = await ctl("cases", "stats", "--limit", "2")
        check(rc == 2 and "--limit is only for" in err, "hallctl cases stats --limit: %s %r %r" % (rc, out, err))


hk.run([test_case_warning_overdue_and_restart, test_bad_rating_followup, test_hallctl_cases])
