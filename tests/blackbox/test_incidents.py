"""test_incidents.py: the incident log (DATA/incidents.log, incidents.list, hallctl incidents).

A fire drill, its checklist ack, the real fire input taking over, the input dropping and the
clear must give the expected records in order; the chain is checked here independently, in
Python, exactly as docs/incidents.md tells a security officer to do it; hallctl verifies it too,
from the daemon and from the file; a tampered file fails with exit 1 and the right record; a
restart neither repeats records nor hides a break.
"""
import asyncio
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hk  # noqa: E402
from hk import check  # noqa: E402

T = hk.DEMO_TOKENS
ZERO = "0" * 64


def chain_problem(records):
    """The check of docs/incidents.md: None if intact, else (record number, why)."""
    prev = ZERO
    for i, r in enumerate(records, 1):
        r = dict(r)
        h = r.pop("hash", None)
        canon = json.dumps(r, separators=(",", ":"), ensure_ascii=False)
        if r.get("n") != i:
            return i, "numbered %r" % r.get("n")
        if r.get("prev") != prev:
            return i, "prev does not link"
        if hashlib.sha256(canon.encode("utf-8")).hexdigest() != h:
            return i, "hash does not match"
        prev = h
    return None


def file_records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def collapse(kinds):
    """Runs of step_done become one 'step_done+'."""
    out = []
    for k in kinds:
        k = "step_done+" if k == "step_done" else k
        if not (out and out[-1] == k == "step_done+"):
            out.append(k)
    return out


async def ctl(*args, token=None, url=None, timeout=20):
    env = {k: v for k, v in os.environ.items() if k not in ("HALL_URL", "HALL_TOKEN")}
    if url:
        env["HALL_URL"] = url
    if token:
        env["HALL_TOKEN"] = token
    rc, out, err = await hk.run_cmd([hk.CTL] + list(args), timeout=timeout, env=env)
    check(rc is not None, "hallctl %s did not finish" % " ".join(args))
    return rc, out, err


async def list_all(c):
    recs, since = [], 0
    while True:
        r = await c.ok("incidents.list", since_n=since, limit=1000)
        recs += r["records"]
        since += len(r["records"])
        if not r["more"]:
            return recs, r


async def run_fire(d):
    sec = await hk.connect(d, T["security"])
    adm = await hk.connect(d, T["admin"])
    r = await sec.ok("emergency.trigger", playbook="fire", drill=True)
    steps = r["emergency"]["steps"]
    ack = [i for i, s in enumerate(steps) if s["do"] == "checklist"][0]
    await sec.ok("emergency.ack", step=ack)
    await adm.ok("gpio.sim.set", line="fire_panel", value=1)
    await sec.wait_event("emergency.changed", lambda e: e.get("active") and e.get("drill") is False)
    await adm.ok("gpio.sim.set", line="fire_panel", value=0)
    await sec.wait_event("gpio.changed", lambda e: e.get("line") == "fire_panel" and e.get("value") == 0)
    await sec.ok("emergency.clear", reason="消防确认为误报")
    return sec, adm, ack


async def test_fire_drill_real_clear():
    async with hk.fresh() as d:
        sec, adm, ack = await run_fire(d)
        recs, last = await list_all(sec)
        kinds = collapse([r["kind"] for r in recs])
        want = ["drill_started", "step_done+", "checklist_ack", "input_changed", "drill_became_real",
                "step_done+", "input_changed", "cleared"]
        check(kinds == want, "kinds %s, expected %s" % (kinds, want))
        check(last["verified"] is True, "daemon says not verified: %r" % last)
        check(last["head_hash"] == recs[-1]["hash"], "head_hash is not the last record's hash")
        check(chain_problem(recs) is None, "chain check (Python) failed: %r" % (chain_problem(recs),))
        first = recs[0]
        check(first["playbook"] == "fire" and first["drill"] is True and first["who"] == "security"
              and first["prev"] == ZERO, "first record: %r" % first)
        acked = [r for r in recs if r["kind"] == "checklist_ack"][0]
        check(acked["detail"]["step"] == ack and acked["detail"]["text"] == "拨打119报警", "ack: %r" % acked)
        real = [r for r in recs if r["kind"] == "drill_became_real"][0]
        check(real["who"] == "gpio:fire_panel" and real["drill"] is False, "became real: %r" % real)
        cleared = recs[-1]
        check(cleared["who"] == "security" and cleared["detail"]["reason"] == "消防确认为误报"
              and cleared["drill"] is False and cleared["detail"]["duration_ms"] >= 0, "cleared: %r" % cleared)
        check(all("seq" in r["detail"] for r in recs), "a derived record without the seq of its event")

        # the file holds the same records, one per line, and verifies on its own
        path = os.path.join(d.data, "incidents.log")
        on_disk = file_records(path)
        check(on_disk == recs, "the file and incidents.list differ")
        check(chain_problem(on_disk) is None, "the file does not verify in Python")

        # paging
        p = await sec.ok("incidents.list", limit=2)
        check(len(p["records"]) == 2 and p["more"] is True, "limit 2: %r" % p)
        p = await sec.ok("incidents.list", since_n=len(recs) - 1)
        check([r["n"] for r in p["records"]] == [len(recs)] and p["more"] is False, "since_n: %r" % p)

        # who may read it
        for role in ("display", "staff", "kiosk"):
            c = await hk.connect(d, T[role])
            await c.err("incidents.list", "forbidden")
            await c.close()
        await sec.close()
        await adm.close()


async def test_hallctl_incidents():
    async with hk.fresh() as d:
        sec, adm, _ = await run_fire(d)
        rc, out, err = await ctl("incidents", "verify", token=T["security"], url=d.url)
        check(rc == 0 and "intact" in out, "verify: rc %s out %r err %r" % (rc, out, err))
        rc, out, err = await ctl("--json", "incidents", "verify", token=T["admin"], url=d.url)
        v = json.loads(out)
        check(rc == 0 and v["ok"] is True and v["records"] > 10, "verify --json: %r" % out)
        rc, out, err = await ctl("incidents", token=T["security"], url=d.url)
        check(rc == 0 and "DRILL BECAME REAL" in out and "cleared by security: 消防确认为误报" in out,
              "timeline: rc %s %r" % (rc, out))
        rc, out2, err = await ctl("incidents", "--since", "3", token=T["security"], url=d.url)
        check(rc == 0 and "#1 " not in out2 and "#4 " in out2, "--since 3: %r" % out2)
        rc, out, err = await ctl("incidents", "report", token=T["security"], url=d.url)
        check(rc == 0 and "REAL, began as a drill" in out and "duration" in out
              and "acknowledged by security" in out and "消防确认为误报" in out, "report: rc %s %r" % (rc, out))
        rc, out, err = await ctl("incidents", "report", "--playbook", "earthquake", token=T["security"], url=d.url)
        check(rc == 0 and "no incidents recorded" in out, "report --playbook: %r" % out)
        rc, out, err = await ctl("--json", "incidents", "report", token=T["security"], url=d.url)
        rep = [json.loads(line) for line in out.splitlines()]
        check(len(rep) == 1 and rep[0]["began_as_drill"] is True and rep[0]["drill"] is False
              and rep[0]["cleared_by"] == "security", "report --json: %r" % out)
        rc, out, err = await ctl("incidents", token=T["staff"], url=d.url)
        check(rc == 1 and "forbidden" in err, "staff may not read the log: rc %s %r" % (rc, err))

        # offline, and a tampered copy
        path = os.path.join(d.data, "incidents.log")
        rc, out, err = await ctl("incidents", "verify", "--file", path)
        check(rc == 0 and "intact" in out, "verify --file: rc %s %r %r" % (rc, out, err))
        copy = os.path.join(hk.tmpdir("tamper"), "incidents.log")
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        with open(copy, "w", encoding="utf-8") as f:
            f.writelines(lines[:2] + [lines[2].replace('"who":"hallkeeper"', '"who":"hallkeepeR"')] + lines[3:])
        check(open(copy, encoding="utf-8").read() != "".join(lines), "the tamper changed nothing")
        rc, out, err = await ctl("incidents", "verify", "--file", copy)
        check(rc == 1 and "record 3" in out, "tampered byte: rc %s %r %r" % (rc, out, err))
        with open(copy, "w", encoding="utf-8") as f:
            f.writelines(lines[:4] + lines[5:])
        rc, out, err = await ctl("incidents", "verify", "--file", copy)
        check(rc == 1 and "record 5" in out, "deleted line: rc %s %r %r" % (rc, out, err))
        rc, out, err = await ctl("incidents", "report", "--file", path)
        check(rc == 0 and "REAL, began as a drill" in out, "report --file: %r" % out)
        await sec.close()
        await adm.close()


async def test_restart_and_broken_chain():
    async with hk.fresh() as d:
        sec = await hk.connect(d, T["security"])
        await sec.ok("emergency.trigger", playbook="illness")
        recs, _ = await list_all(sec)
        await sec.close()
        await d.stop()

        # a restart with the incident still open logs nothing again
        await d.start()
        sec = await hk.connect(d, T["security"])
        again, last = await list_all(sec)
        check(again == recs and last["verified"] is True, "after a restart: %d records, was %d; %r"
              % (len(again), len(recs), last))
        await sec.ok("emergency.clear", reason="已送医")
        recs, _ = await list_all(sec)
        check(recs[-1]["kind"] == "cleared" and recs[-1]["who"] == "security", "clear after restart: %r" % recs[-1])
        check([r["kind"] for r in recs].count("triggered") == 1, "triggered twice: %r" % [r["kind"] for r in recs])
        await sec.close()
        await d.stop()

        # someone edits the file while the daemon is down
        path = os.path.join(d.data, "incidents.log")
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        lines[1] = lines[1].replace('"step":', '"step":1')   # a changed step number in record 2
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        await d.start()
        check("INCIDENT LOG CHAIN BROKEN" in d.stderr_text(), "no loud log line about the broken chain")
        sec = await hk.connect(d, T["security"])
        recs, last = await list_all(sec)
        check(last["verified"] is False and last["bad_n"] == 2, "daemon verdict: %r" % last)
        check(recs[-1]["kind"] == "chain_broken" and recs[-1]["detail"]["bad_n"] == 2, "note: %r" % recs[-1])
        rc, out, err = await ctl("incidents", "verify", token=T["security"], url=d.url)
        check(rc == 1 and "record 2" in out, "verify after tamper: rc %s %r" % (rc, out))
        rc, out, err = await ctl("incidents", "verify", "--file", path)
        check(rc == 1 and "record 2" in out, "verify --file after tamper: rc %s %r" % (rc, out))
        # the hall keeps working and keeps logging
        await sec.ok("emergency.trigger", playbook="illness", drill=True)
        recs2, _ = await list_all(sec)
        check(recs2[-1]["n"] > recs[-1]["n"], "nothing logged after the break")
        await sec.ok("emergency.clear", reason="演练结束")
        await sec.close()


if __name__ == "__main__":
    hk.run([test_fire_drill_real_clear, test_hallctl_incidents, test_restart_and_broken_chain])
