"""test_report.py: the daily report and the day archive against the real daemon (docs/reports.md).

A small day is driven through the daemon with --test-clock (waits and service times made with
clock.advance), then report.day (tree and CSV), `hallctl report` and `hallctl archive` must agree
with what was done and with each other, and the archive's manifest must verify. An earlier day is
read from the Redis stream (report.day answers loading first, then the day)."""
import asyncio
import csv
import hashlib
import io
import json
import os
import subprocess
import time

import hk
from hk import check

ADMIN = "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"


async def drive_day(d):
    """A001 waits ~60 s, is served in ~120 s (a 承诺件: a case opens), rated 5; A002 is a no-show;
    B001 served, rated 2 (a follow-up opens)."""
    admin = await hk.connect(d, ADMIN)
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    s1 = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await s1.ok("window.open", window=1)
    codes = [(await kiosk.ok("ticket.issue", category=c))["ticket"]["code"] for c in ("A", "A", "B")]
    await admin.ok("clock.advance", ms=60_000)
    t = (await s1.ok("call.next"))["ticket"]
    check(t["code"] == codes[0], "first call %r, issued %r" % (t, codes))
    await s1.ok("ticket.start")
    await admin.ok("clock.advance", ms=120_000)
    await s1.ok("ticket.finish", outcome="承诺件")            # a promised case (四件管理) opens
    await kiosk.ok("ticket.rate", code=codes[0], score=5)
    await s1.ok("call.next")
    await s1.ok("ticket.noshow")
    t = (await s1.ok("call.next"))["ticket"]
    check(t["code"] == codes[2], "third call %r" % t)
    await s1.ok("ticket.finish", outcome="补正")
    await kiosk.ok("ticket.rate", code=codes[2], score=2, reason="办事效率低")
    return admin, codes


def staff_row(tree, sid):
    rows = [r for r in tree["staff"] if r["id"] == sid]
    check(len(rows) == 1, "staff %s rows %r" % (sid, tree["staff"]))
    return rows[0]


async def ctl(d, *args, timeout=60):
    return await hk.run_cmd([hk.CTL, "--url", d.url, "--token", ADMIN, "--timeout", "10"] + list(args), timeout=timeout)


async def report_day(admin, timeout=30, **args):
    """report.day, waiting while the daemon reads an earlier day from Redis."""
    deadline = time.monotonic() + timeout
    while True:
        r = await admin.ok("report.day", **args)
        if not r.get("loading"):
            return r
        check(isinstance(r.get("retry_ms"), int), "loading without retry_ms: %r" % r)
        check(time.monotonic() < deadline, "report.day still loading after %ss" % timeout)
        await asyncio.sleep(r["retry_ms"] / 1000)


async def test_day_report_and_archive():
    async with hk.fresh(args=["--test-clock"]) as d:
        admin, codes = await drive_day(d)
        r = await report_day(admin)
        day = r["day"]
        check(r["source"] == "journal", "today comes from the journal: %r" % r.get("source"))
        t = r["report"]
        tot = t["totals"]
        check((tot["issued"], tot["served"], tot["noshow"]) == (3, 2, 1), "totals %r" % tot)
        check(tot["wait"]["count"] == 3, "3 waits: %r" % tot["wait"])
        check(59 <= tot["wait"]["max_s"] <= 250, "the longest wait is the B ticket's, ~3 min: %r" % tot["wait"])
        check(tot["service"]["count"] == 2 and 119 <= tot["service"]["p95_s"] <= 125, "service %r" % tot["service"])
        check(tot["ratings"]["levels"] == [0, 1, 0, 0, 1] and abs(tot["ratings"]["satisfaction"] - 0.5) < 1e-9,
              "ratings %r" % tot["ratings"])
        check(tot["ratings"]["meets_target"] is False, "50 %% is under the 95 %% target")
        check(tot["cases"]["opened"] == 1 and tot["followups"]["opened"] == 1,
              "the 承诺件 opened a case, the bad rating a follow-up: %r %r" % (tot["cases"], tot["followups"]))
        cats = {c["id"]: c for c in t["categories"]}
        check(list(cats) == ["A", "B", "C", "D"], "categories in config order: %r" % list(cats))
        check(cats["A"]["issued"] == 2 and cats["A"]["served"] == 1 and cats["A"]["noshow"] == 1, "A %r" % cats["A"])
        check(59 <= cats["A"]["wait"]["p50_s"] <= 62, "A001 waited ~60 s: %r" % cats["A"]["wait"])
        s = staff_row(t, "0001")
        check(s["name"] == "张三" and s["served"] == 2 and s["noshow"] == 1 and s["ratings"]["count"] == 2 and
              s["cases"]["opened"] == 1 and s["followups"]["opened"] == 1, "staff %r" % s)
        w1 = [w for w in t["windows"] if w["id"] == 1][0]
        check(w1["name"] == "1号窗口" and w1["served"] == 2, "window 1 %r" % w1)
        check(sum(t["hourly_arrivals"]) == 3, "hourly %r" % t["hourly_arrivals"])

        # CSV from the daemon and from hallctl: the same bytes
        rc_csv = (await admin.ok("report.day", format="csv"))["csv"]
        check(rc_csv.startswith("\ufeffday,section,id,name,issued,served,"), "csv header %r" % rc_csv[:60])
        rows = list(csv.DictReader(io.StringIO(rc_csv.lstrip("\ufeff"))))
        hall = [x for x in rows if x["section"] == "hall"][0]
        check((hall["issued"], hall["served"], hall["noshow"], hall["satisfaction_pct"]) == ("3", "2", "1", "50.0"),
              "hall row %r" % hall)
        check(len([x for x in rows if x["section"] == "hour"]) == 24, "24 hour rows")
        rc, out, err = await ctl(d, "report", str(day), "csv")
        check(rc == 0, "hallctl report csv: rc %s %s" % (rc, err))
        check(out == rc_csv, "hallctl report csv differs from report.day csv:\n%s\n---\n%s" % (out[:400], rc_csv[:400]))
        rc, out, err = await ctl(d, "--json", "report")
        check(rc == 0, "hallctl --json report: rc %s %s" % (rc, err))
        ct = json.loads(out)
        check(ct["totals"]["issued"] == 3 and ct["totals"]["wait"] == tot["wait"] and ct["staff"] == t["staff"],
              "hallctl's report differs from report.day: %r" % ct["totals"])
        rc, out, err = await ctl(d, "report")
        check(rc == 0 and "issued    3" in out and "张三" in out, "text report: %s %s" % (out, err))
        html = (await admin.ok("report.day", format="html"))["html"]
        check(html.startswith("<!doctype html>") and "1号窗口" in html and "50.0%" in html, "html %r" % html[:200])

        # the archive
        out_dir = os.path.join(hk.tmpdir("arch"), "day")
        rc, out, err = await ctl(d, "archive", str(day), out_dir)
        check(rc == 0, "hallctl archive: rc %s %s %s" % (rc, out, err))
        names = sorted(os.listdir(out_dir))
        check(names == ["MANIFEST.sha256", "README.txt", "events.jsonl", "report.csv", "report.html", "report.json"],
              "archive files %r" % names)
        with open(os.path.join(out_dir, "MANIFEST.sha256")) as f:
            manifest = [line.split("  ", 1) for line in f.read().splitlines()]
        check(len(manifest) == 5, "manifest %r" % manifest)
        for digest, name in manifest:
            with open(os.path.join(out_dir, name), "rb") as f:
                check(hashlib.sha256(f.read()).hexdigest() == digest, "hash of %s" % name)
        p = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=out_dir, capture_output=True, text=True)
        check(p.returncode == 0, "sha256sum -c: %s %s" % (p.stdout, p.stderr))
        with open(os.path.join(out_dir, "events.jsonl"), encoding="utf-8") as f:
            evs = [json.loads(line) for line in f]
        seqs = [e["seq"] for e in evs]
        check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "events in seq order, once each")
        issued = [e["code"] for e in evs if e["ev"] == "ticket.issued"]
        check(issued == codes, "archived ticket.issued %r, issued %r" % (issued, codes))
        page = await admin.ok("report.events", day=day)
        check([e["seq"] for e in page["events"]] == seqs and page["more"] is False, "report.events agrees with the archive")
        with open(os.path.join(out_dir, "report.csv"), encoding="utf-8", newline="") as f:
            check(f.read() == rc_csv, "archived CSV equals report.day's")
        with open(os.path.join(out_dir, "report.json"), encoding="utf-8") as f:
            check(json.load(f)["totals"]["served"] == 2, "archived report.json")
        # a tampered file no longer verifies; a second archive into the same place is refused
        with open(os.path.join(out_dir, "report.csv"), "a") as f:
            f.write("x")
        p = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=out_dir, capture_output=True, text=True)
        check(p.returncode != 0, "a changed file fails the manifest")
        rc, out, err = await ctl(d, "archive", str(day), out_dir)
        check(rc == 1 and "already holds an archive" in err, "second archive: %s %s" % (rc, err))


async def test_errors_and_roles():
    async with hk.fresh(args=["--test-clock"]) as d:
        admin = await hk.connect(d, ADMIN)
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await staff.err("report.day", "forbidden")
        await staff.err("report.events", "forbidden")
        await admin.err("report.day", "bad_request", day=20261340)
        await admin.err("report.day", "bad_request", day="today")
        await admin.err("report.day", "bad_request", day=29991231)
        await admin.err("report.day", "bad_request", format="pdf")
        await admin.err("report.events", "bad_request", limit=0)
        await admin.err("report.events", "bad_request", after=-1)
        r = await admin.ok("report.day")
        check(r["report"]["totals"]["issued"] == 0 and r["report"]["totals"]["ratings"]["satisfaction"] is None,
              "an empty day: %r" % r["report"]["totals"])
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", d.url, "--token", ADMIN, "report", "2024-01-01"])
        check(rc == 2 and "YYYYMMDD" in err, "bad DAY: %s %s" % (rc, err))
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", d.url, "--token", ADMIN, "archive", "20240101"])
        check(rc == 2 and "--out" in err, "archive without a directory: %s %s" % (rc, err))
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", d.url, "--token", "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", "report"])
        check(rc == 1 and "forbidden" in err, "staff token: %s %s" % (rc, err))


async def test_earlier_day_from_redis():
    async with hk.fresh(args=["--test-clock"]) as d:
        admin, codes = await drive_day(d)
        day1 = (await admin.ok("report.day"))["day"]
        fresh_days = d.stderr_text().count("journal: a new day")
        await admin.ok("clock.advance", ms=86_400_000)
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        # the local journal starts the new day afresh (checked once a second)
        await hk.until("the journal starts the new day",
                       lambda: d.stderr_text().count("journal: a new day") > fresh_days)
        await kiosk.ok("ticket.issue", category="C")
        today = await report_day(admin)
        check(today["day"] > day1 and today["source"] == "journal", "today %r" % {k: today[k] for k in ("day", "source")})
        check(today["report"]["totals"]["issued"] == 1, "today issued %r" % today["report"]["totals"])
        first = await admin.ok("report.day", day=day1)
        old = await report_day(admin, day=day1)
        check(first.get("loading") is True and first.get("day") == day1,
              "an earlier day is first read from Redis in the background: %r" % first)
        check(old["source"] == "redis" and old["report"]["totals"]["issued"] == 3 and
              old["report"]["totals"]["served"] == 2, "earlier day from Redis: %r" % old["report"]["totals"])
        rc, out, err = await ctl(d, "report", str(day1), "csv")
        check(rc == 0 and out == (await admin.ok("report.day", day=day1, format="csv"))["csv"],
              "hallctl report of the earlier day: %s %s" % (rc, err))


hk.run([test_day_report_and_archive, test_errors_and_roles, test_earlier_day_from_redis])
