#!/usr/bin/python3
"""A burst of calls on one speaker zone (issue 19 item 5, docs/audio.md "A backlog of calls"):
20 windows call within 10 s; every call is announced exactly once (announce.started and an
untruncated announce.finished per ticket, one WAV each in the file sink's index), none is
dropped, and the backlog is shortened so that the last call has been heard (its window named)
within 60 s of the first call.next."""
import asyncio
import json
import os
import time

import hk
from hk import check

WINDOWS = 20


def burst_config():
    """The demo hall with 20 windows serving A, all in zone hall, a staff token per window
    (burst-NN.Zx9Q…) and the file sink."""
    text = hk.demo_config()
    tokens = "".join('  - { token: "burst-%02d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj", role: staff, staff: "9%03d" }\n' % (w, w)
                     for w in range(1, WINDOWS + 1))
    staff = "".join('  - { id: "9%03d", name: 员工%d, title: 综合受理员 }\n' % (w, w) for w in range(1, WINDOWS + 1))
    windows = "".join("  - { id: %d, name: %d号窗口, categories: [A], zone: hall }\n" % (w, w)
                      for w in range(5, WINDOWS + 1))
    text = text.replace("staff:\n", tokens + "staff:\n", 1).replace("categories:\n", staff + "categories:\n", 1)
    text = text.replace("gpio:\n", windows + "gpio:\n", 1)
    return text.replace("audio:\n  sink: none", "audio:\n  sink: file\n  path: announcements.wav")


def index(d):
    path = os.path.join(d.data, "announcements", "index.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def heard_at(row):
    """Wall clock ms at which an index row's first window name ("N号窗口") ended in the sink."""
    part = next(p for p in row["parts"] if p["text"].endswith("号窗口"))
    return row["first_sample_at_ms"] + (part["at"] + part["n"]) * 1000 // row["rate"]


async def wait_cache_settled(d, timeout=90):
    """The clip cache is rendered off the loop at start: wait until no clip has been added for 2 s."""
    cache = d._env().get("HALL_AUDIO_CACHE") or os.path.join(d.data, "audio-cache")
    deadline = time.monotonic() + timeout
    last, stable = -1, 0
    while stable < 4:
        check(time.monotonic() < deadline, "the clip cache did not settle within %d s" % timeout)
        n = len(os.listdir(cache)) if os.path.isdir(cache) else 0
        stable = stable + 1 if n == last and n > 0 else 0
        last = n
        await asyncio.sleep(0.5)


async def test_burst_every_call_spoken_once():
    async with hk.fresh(config=hk.write_config(burst_config())) as d:
        disp = await hk.connect_role(d, "display")
        kiosk = await hk.connect_role(d, "kiosk")
        staff = []
        for w in range(1, WINDOWS + 1):
            s = await hk.connect(d, "burst-%02d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj" % w)
            await s.ok("window.open", window=w)
            staff.append(s)
        # window 3 of the demo serves B and D only: it calls first, the D ticket
        await kiosk.ok("ticket.issue", category="D")
        for _ in range(WINDOWS - 1):
            await kiosk.ok("ticket.issue", category="A")
        staff.insert(0, staff.pop(2))
        await wait_cache_settled(d)
        started, finished = {}, {}
        t0 = None
        codes = []
        for i, s in enumerate(staff):       # 20 calls within 10 s
            r = await s.ok("call.next")
            codes.append(r["ticket"]["code"])
            if t0 is None:
                t0 = time.time() * 1000
            await asyncio.sleep(0.45)
        check(len(set(codes)) == WINDOWS, "codes %r" % codes)

        def code_of(e):
            hits = [c for c in codes if c in (e.get("text") or "")]
            return hits[0] if len(hits) == 1 else None

        deadline = time.monotonic() + 150
        while len(finished) < WINDOWS:
            check(time.monotonic() < deadline, "announced %d of %d calls: missing %r"
                  % (len(finished), WINDOWS, sorted(set(codes) - set(finished))))
            ev = await disp.wait_event("announce.finished", lambda e: e.get("priority") == "call",
                                       timeout=max(1, deadline - time.monotonic()))
            c = code_of(ev)
            check(c is not None, "a call's text names one ticket: %r" % ev)
            check(c not in finished, "%s announced twice: %r" % (c, ev))
            check(ev.get("truncated") is False, "%s cut: %r" % (c, ev))
            finished[c] = ev
        for ev in disp.events:
            if ev.get("ev") == "announce.started" and ev.get("priority") == "call":
                started[code_of(ev)] = started.get(code_of(ev), 0) + 1
        check(started == {c: 1 for c in codes}, "announce.started per ticket %r" % started)
        rows = [r for r in index(d) if r["priority"] == "call"]
        per_code = {c: [r for r in rows if c in r["text"]] for c in codes}
        for c, rs in per_code.items():
            check(len(rs) == 1 and not rs[0]["truncated"] and rs[0]["samples"] > 0,
                  "%s: index rows %r" % (c, rs))
        # heard: the window's name, the end of the call's first sentence, has been spoken
        last = max(heard_at(r) for r in rows)
        print("  %d calls: the last heard %.1f s after the first call.next, its last sample at %.1f s"
              % (len(rows), (last - t0) / 1000, (max(r["ended_at_ms"] for r in rows) - t0) / 1000))
        check(last - t0 <= 60000, "the last call was heard %.1f s after the first call.next" % ((last - t0) / 1000))
        check("not announced" not in d.stderr_text(), "a call was dropped: %s" % d.stderr_text()[-1000:])


hk.run([test_burst_every_call_spoken_once], timeout=400)
