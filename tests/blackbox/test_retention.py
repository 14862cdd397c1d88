#!/usr/bin/python3
"""Retention (docs/retention.md), through the real daemon: with `retention: {days: 31}` a case and
a follow-up closed more than 31 days before a rollover (--test-clock) are released at it, an open
case stays, the replies say what they cover (kept_from, partial, note), cases.list pages with
limit/after, and kill -9 and a restart answer exactly the same. A retention below 31 days is a
configuration error naming the key."""
import time

import hk
from hk import check

CONFIG = """
hall: { id: ret, name: 保留测试中心 }
tokens:
  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }
  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }
  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }
staff:
  - { id: "0001", name: 张三 }
categories:
  - { id: A, name: 社保医保 }
matters:
  - { id: M1, name: 医保关系转移, category: A, promised_days: 3 }
windows:
  - { id: 1, name: 1号窗口, categories: [A] }
retention: { days: %d }
"""


async def to_local(admin, day_offset, hh, mm):
    """Moves the daemon's clock to local HH:MM:01 of today + day_offset (from the clock's day)."""
    now = (await admin.ok("clock.advance", ms=0))["now"]
    t = time.localtime(now / 1000)
    target = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + day_offset, hh, mm, 1, 0, 0, -1)) * 1000
    check(target > now, "clock would go back")
    await admin.ok("clock.advance", ms=int(target - now))
    return target


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("est_wait_s", "open", "now", "id")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


async def snapshot(d):
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    s = {
        "cases": strip(await admin.ok("cases.list", status="all")),
        "stats": strip(await admin.ok("cases.stats")),
        "followups": strip(await admin.ok("followups.list", status="all")),
        "ratings": strip(await admin.ok("ratings.stats", by="day")),
    }
    await admin.close()
    return s


async def serve(kiosk, staff, outcome, score, **extra):
    await kiosk.ok("ticket.issue", category="A")
    t = (await staff.ok("call.next"))["ticket"]
    await staff.ok("ticket.finish", outcome=outcome, **extra)
    if score <= 2:
        await kiosk.ok("ticket.rate", code=t["code"], score=score, reason="其他")
    else:
        await kiosk.ok("ticket.rate", code=t["code"], score=score)


async def test_release_at_rollover_and_restart():
    d = hk.Daemon(config=hk.write_config(CONFIG % 31), args=["--test-clock"])
    try:
        await d.start()
        admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await to_local(admin, 1, 9, 0)
        await s1.ok("window.open", window=1)
        await serve(kiosk, s1, "承诺件", 1, matter="M1")          # case 1, follow-up 1: closed today
        await serve(kiosk, s1, "承诺件", 2, matter="M1")          # case 2, follow-up 2: stay open
        await serve(kiosk, s1, "即办件", 5)
        await admin.ok("case.close", case=1, result="准予许可")
        await admin.ok("followup.close", followup=1, resolution="已回访致歉")
        first = await admin.ok("ratings.stats", by="day")
        check(first["stats"]["kept_from"] is None and first["stats"]["partial"] is False, "nothing released yet: %r" % first)

        # 33 days later, the rollover releases what was closed on the first day
        await to_local(admin, 33, 9, 0)
        await admin.wait_event("day.closed")
        await serve(kiosk, s1, "即办件", 4)
        cases = await admin.ok("cases.list", status="all")
        check([c["case"] for c in cases["cases"]] == [2], "only the open case stays: %r" % cases["cases"])
        check(cases["count"] == 1 and cases["next"] is None, "one row, one page: %r" % cases)
        kept = cases["kept_from"]
        check(isinstance(kept, int) and kept > 19700101, "cases.list says from when: %r" % cases)
        check("hallctl archive" in cases["note"], "note: %r" % cases.get("note"))
        fus = await admin.ok("followups.list", status="all")
        check([f["id"] for f in fus["followups"]] == [2], "only the open follow-up stays: %r" % fus["followups"])
        st = (await admin.ok("ratings.stats"))["stats"]
        check(st["partial"] is True and st["kept_from"] == kept and st["n"] == 1, "ratings.stats: %r" % st)
        st = (await admin.request("ratings.stats", **{"from": kept}))["stats"]
        check(st["partial"] is False and st["n"] == 1, "ratings.stats from kept_from: %r" % st)
        await admin.err("case.close", "not_found", case=1, result="x")

        # paging: one case a page
        for _ in range(2):
            await serve(kiosk, s1, "承诺件", 5, matter="M1")
        seen, after = [], None
        for _ in range(5):
            args = {"status": "all", "limit": 1}
            if after is not None:
                args["after"] = after
            page = await admin.ok("cases.list", **args)
            seen += [c["case"] for c in page["cases"]]
            after = page["next"]
            if after is None:
                break
        check(sorted(seen) == [2, 3, 4] and len(seen) == 3, "pages: %r" % seen)
        await admin.err("cases.list", "bad_request", limit=501)

        before = await snapshot(d)
        await d.kill()
        await d.start()
        after_restart = await snapshot(d)
        for k in before:
            check(before[k] == after_restart[k], "%s differs after kill -9:\n before %r\n after  %r"
                  % (k, before[k], after_restart[k]))
    finally:
        if d.alive():
            await d.stop()


async def test_retention_below_a_month_is_refused():
    d = hk.Daemon(config=hk.write_config(CONFIG % 10))
    rc, err = await d.start_expect_exit(timeout=20)
    check(rc != 0, "a daemon with retention.days 10 exited %r" % rc)
    check("'days' in retention must be an integer from 31" in err, "stderr: %s" % err[-800:])


if __name__ == "__main__":
    hk.run([test_release_at_rollover_and_restart, test_retention_below_a_month_is_refused])
