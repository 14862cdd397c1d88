"""audio_burst.py: a burst of calls on one speaker zone (docs/audio.md, a backlog of calls).

  /usr/bin/python3 audio_burst.py --port P --data DIR --windows W [--spread S] [--deadline S]

The daemon runs a hall whose windows 1..W all serve A and are all in zone hall (file sink), and
staff tokens staff-000K.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj open window K. After the clip cache has settled, W tickets are issued
and the W windows each call one, evenly within --spread seconds (default 10). Then, from the file
sink's index and the display's events:
  heard: when the call's window name (the end of its first sentence) was handed to the sink;
  the figure is the LAST call's, in seconds after the first call.next; also its last sample;
  once: calls announced exactly once (one announce.started, one untruncated announce.finished,
  one index line); dropped: calls never announced.
Prints the figures and RESULT lines (burst_*). Reuses audio_speakers.py's client.
"""
import argparse
import asyncio
import sys
import time

from audio_speakers import connect, index_lines, wait_cache_settled


def heard_at(row):
    part = next((p for p in row.get("parts", []) if p["text"].endswith("号窗口")), None)
    if part is None:
        return row["ended_at_ms"]
    return row["first_sample_at_ms"] + (part["at"] + part["n"]) * 1000 // row["rate"]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--spread", type=float, default=10)
    ap.add_argument("--deadline", type=float, default=240)
    a = ap.parse_args()
    await wait_cache_settled(a.data, 90)

    disp = await connect(a.port, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", ["announce.started", "announce.finished"])
    kiosk = await connect(a.port, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", [])
    staff = []
    for w in range(1, a.windows + 1):
        c = await connect(a.port, "staff-%04d.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj" % w, [])
        await c.ok("window.open", window=w)
        staff.append(c)
    for _ in range(a.windows):
        await kiosk.ok("ticket.issue", category="A")
    codes, t0 = [], None
    for i, c in enumerate(staff):
        r = await c.ok("call.next")
        codes.append(r["ticket"]["code"])
        t0 = t0 if t0 is not None else time.time() * 1000
        if i + 1 < len(staff):
            await asyncio.sleep(a.spread / (len(staff) - 1))
    started, finished = {}, {}
    deadline = time.monotonic() + a.deadline
    while len(finished) < len(codes) and time.monotonic() < deadline:
        try:        # 30 s without an announcement: the rest were dropped
            m = await disp.event(lambda m: m.get("ev") in ("announce.started", "announce.finished")
                                 and m.get("priority") == "call", timeout=min(30, max(1, deadline - time.monotonic())))
        except (RuntimeError, asyncio.TimeoutError):
            break
        hits = [c for c in codes if c in (m.get("text") or "")]
        if len(hits) != 1:
            continue
        book = started if m["ev"] == "announce.started" else finished
        book.setdefault(hits[0], []).append(m)
    rows = [l for l in index_lines(a.data) if l.get("priority") == "call"]
    once, heard, ends = 0, [], []
    for c in codes:
        ix = [l for l in rows if c in l.get("text", "")]
        ok = (len(started.get(c, [])) == 1 and len(finished.get(c, [])) == 1 and
              finished[c][0].get("truncated") is False and len(ix) == 1)
        once += ok
        if ix:
            heard.append(heard_at(ix[0]))
            ends.append(ix[0]["ended_at_ms"])
    dropped = len(codes) - len(heard)
    last_heard = (max(heard) - t0) / 1000 if heard else float("nan")
    last_end = (max(ends) - t0) / 1000 if ends else float("nan")
    print("audio burst: %d windows of one zone called within %.0f s; the last call heard %.1f s after the "
          "first call.next (its last sample at %.1f s); %d of %d announced exactly once, %d dropped"
          % (len(codes), a.spread, last_heard, last_end, once, len(codes), dropped))
    print("RESULT burst_calls %d" % len(codes))
    print("RESULT burst_last_heard_s %.1f" % last_heard)
    print("RESULT burst_last_sample_s %.1f" % last_end)
    print("RESULT burst_once %d/%d" % (once, len(codes)))
    print("RESULT burst_dropped %d" % dropped)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as ex:
        print("audio_burst: FAILED: %s" % ex, file=sys.stderr)
        sys.exit(1)
