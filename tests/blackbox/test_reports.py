#!/usr/bin/python3
"""Staff raise the alarm (DB43/T 2422.4 §6.1.1.1, §6.1.5.1, §6.4.1: the first to discover an
incident reports it at once): emergency.report from a staff connection starts fire at once; a
suspicious object waits for security's emergency.confirm (confirm or dismiss with a reason);
public screens never see pending reports; a duress report at a counter silently starts
public_security; roles and policies are enforced."""
import hk
from hk import check


def evacuates(ev):
    return any(s.get("do") == "display" and s.get("mode") == "evacuation" for s in ev.get("steps", []))


async def test_fire_report_starts_at_once():
    async with hk.fresh() as d:
        staff = await hk.connect_role(d, "staff")
        disp = await hk.connect_role(d, "display")
        await staff.ok("window.open", window=1)
        r = await staff.ok("emergency.report", playbook="fire", note="打印机冒烟")
        check(r["report"]["started"] is True, "reply %r" % r)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "fire")
        check(ev.get("drill") is False and evacuates(ev), "display view %r" % ev)
        sec = await hk.connect_role(d, "security")
        st = (await sec.ok("state.get"))["state"]["emergency"]
        check(st.get("triggered_by", "").startswith("staff 0001 1号窗口"), "triggered_by %r" % st.get("triggered_by"))
        await staff.err("emergency.report", "conflict", playbook="fire")
        await sec.ok("emergency.clear", reason="误报：打印机过热")


async def test_suspicious_object_waits_for_security():
    async with hk.fresh() as d:
        staff = await hk.connect_role(d, "staff")
        sec = await hk.connect_role(d, "security")
        disp = await hk.connect_role(d, "display")
        r = await staff.ok("emergency.report", playbook="suspicious_object", note="东侧座椅下无人背包")
        check(r["report"]["started"] is False and r["report"]["id"] > 0, "reply %r" % r)
        rid = r["report"]["id"]
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("reports"))
        rep = ev["reports"][0]
        check(rep["playbook"] == "suspicious_object" and rep["note"] == "东侧座椅下无人背包" and rep["by"].startswith("staff 0001"),
              "pending report %r" % rep)
        check(not ev.get("active"), "a pending report started the playbook: %r" % ev)
        st = (await disp.ok("state.get"))["state"]["emergency"]
        check("reports" not in st and not st.get("active"), "the display sees a pending report: %r" % st)
        await staff.err("emergency.confirm", "forbidden", report=rid, confirm=True)
        await sec.err("emergency.confirm", "bad_request", report=rid, confirm=False)   # a dismissal needs a reason
        await sec.err("emergency.confirm", "not_found", report=rid + 12345, confirm=True)
        await sec.ok("emergency.confirm", report=rid, confirm=True)
        ev = await disp.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "suspicious_object")
        check(evacuates(ev), "evacuation %r" % ev)
        st = (await sec.ok("state.get"))["state"]["emergency"]
        check("staff 0001" in st.get("triggered_by", "") and "reports" not in st, "after confirm %r" % st)
        await sec.ok("emergency.clear", reason="排爆确认无危险")
        # a second report, dismissed with a reason
        r = await staff.ok("emergency.report", playbook="suspicious_object")
        await sec.ok("emergency.confirm", report=r["report"]["id"], confirm=False, reason="失主已取回")
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("report_resolved", {}).get("confirmed") is False)
        check(ev["report_resolved"]["reason"] == "失主已取回" and not ev.get("active"), "dismissal %r" % ev)


async def test_duress_is_silent_and_roles_hold():
    async with hk.fresh() as d:
        staff = await hk.connect_role(d, "staff")
        sec = await hk.connect_role(d, "security")
        kiosk = await hk.connect_role(d, "kiosk")
        await staff.ok("window.open", window=1)
        r = await staff.ok("emergency.report", duress=True)
        check(r["report"] == {"playbook": "public_security", "started": True}, "duress reply %r" % r)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "public_security")
        check(ev.get("silent") is True and "胁迫报警" in ev.get("triggered_by", ""), "security's view %r" % ev)
        st = (await kiosk.ok("state.get"))["state"]["emergency"]
        check(not st.get("active"), "the kiosk sees the duress incident: %r" % st)
        await kiosk.ok("ticket.issue", category="A")      # the queue goes on
        await kiosk.err("emergency.report", "forbidden", playbook="fire")
        await staff.err("emergency.report", "forbidden", playbook="extreme_weather")   # not a staff report
        await staff.err("emergency.report", "bad_request", playbook="fire", note="x" * 300)
        await staff.err("emergency.report", "bad_request", playbook="fire", duress="yes")
        await sec.ok("emergency.clear", reason="已处置")


hk.run([test_fire_report_starts_at_once, test_suspicious_object_waits_for_security, test_duress_is_silent_and_roles_hold])
