"""audio_speakers.py: the speakers' latencies, read from the file sink's index.jsonl lines.

  /usr/bin/python3 audio_speakers.py --port P --data DIR --windows W [--calls N] [--emergencies E]
                                     [--deadline S]

The daemon runs a hall whose windows 1..W are each in a zone of their own (z1..zW, file sink), and
staff tokens staff-000K.Zx9Qw2Lp7Rt4Yv6Nb1Mc8Kd3Hf5Gj open window K. So that every call is spoken alone, each window makes
one call at a time: ticket.issue, call.next, wait for its zone's announce.finished, ticket.finish;
the W zones speak in parallel (one call takes several seconds to speak).
(a) call.next -> first sample handed to the sink: index first_sample_at_ms - the ticket.called
    event's `at`. Each window's first call is a warm-up and not counted (the clip cache is warm by
    then: the caller waits for DATA/audio-cache to settle first).
(b) emergency.trigger {playbook: fire} -> first evacuation sample: index first_sample_at_ms of the
    emergency announcement (every zone has one; the figure is the LAST zone's) - the
    emergency.changed event's `at`; cleared after about 1 s, E times. For each, the door_main
    gpio.changed `at` must be <= the first evacuation sample (doors first).
Times are the daemon's wall clock in ms on both sides (so a figure has 1 ms resolution).
Prints a line per figure and RESULT lines (audio_call_*, audio_evac_*).
"""
import argparse
import asyncio
import glob
import json
import os
import sys
import time

import msgpack
import websockets

OUTCOME = "即办件"


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.waiters = {}
        self.events = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for data in self.ws:
                m = msgpack.unpackb(data, raw=False)
                if m.get("t") == "ev":
                    self.events.put_nowait(m)
                elif m.get("id") in self.waiters:
                    self.waiters.pop(m["id"]).set_result(m)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.events.put_nowait(None)        # wakes event(): the connection is gone
            for f in self.waiters.values():
                if not f.done():
                    f.set_exception(RuntimeError("connection closed"))

    async def request(self, t, **args):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.waiters[self.next_id] = fut
        await self.ws.send(msgpack.packb(dict(t=t, id=self.next_id, **args)))
        return await asyncio.wait_for(fut, 15)

    async def ok(self, t, **args):
        r = await self.request(t, **args)
        if r.get("t") != "ok":
            raise RuntimeError("%s: %s %s" % (t, r.get("code"), r.get("msg")))
        return r

    async def event(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no matching event within %s s" % timeout)
            m = await asyncio.wait_for(self.events.get(), left)
            if m is None:
                self.events.put_nowait(None)
                raise RuntimeError("connection closed")
            if pred(m):
                return m


async def connect(port, token, events):
    ws = await websockets.connect("ws://127.0.0.1:%d/ws" % port, subprotocols=["hall.v1"], max_size=1 << 22)
    c = Client(ws)
    await c.ok("hello", token=token, events=events)
    return c


def index_lines(data):
    out = []
    for path in glob.glob(os.path.join(data, "announcements", "**", "index.jsonl"), recursive=True):
        with open(path, encoding="utf-8") as f:
            out += [json.loads(l) for l in f if l.strip()]
    return out


async def wait_cache_settled(data, limit):
    """The clip cache is rendered in a worker thread at start: waits (up to limit s) until it has settled."""
    cache = os.path.join(data, "audio-cache")
    last, stable, t0 = -1, 0, time.monotonic()
    while stable < 4 and time.monotonic() - t0 < limit:
        if not os.path.isdir(data):
            raise RuntimeError("the data directory is gone (the benchmark was stopped)")
        n = len(os.listdir(cache)) if os.path.isdir(cache) else 0
        stable = stable + 1 if n == last and n > 0 else 0
        last = n
        await asyncio.sleep(0.5)


def q(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = max(1, min(len(v), int(p * len(v) + 0.999999)))
    return v[k - 1]


async def window_worker(port, w, cats, state):
    """Window w: one call at a time until the hall has made state['want'] calls."""
    zone = "z%d" % w
    c = await connect(port, "staff-%04d.Bq8vN2xLr5TzW1kYc7HmP4dJ" % w, ["ticket.called", "announce.finished"])
    await c.ok("window.open", window=w)
    first = True
    i = 0
    while state["made"] < state["want"] and not state["stop"]:
        await c.ok("ticket.issue", category=cats[i % len(cats)])
        i += 1
        r = await c.request("call.next")
        if r.get("t") != "ok":
            if r.get("code") == "queue_empty":      # another window took it: issue again
                continue
            raise RuntimeError("call.next: %s %s" % (r.get("code"), r.get("msg")))
        code = r["ticket"]["code"]
        ev = await c.event(lambda m: m.get("ev") == "ticket.called" and m.get("code") == code)
        if not first:
            state["made"] += 1
            state["calls"].append((code, zone, ev["at"]))
        first = False
        await c.event(lambda m: m.get("ev") == "announce.finished" and m.get("zone") == zone
                      and code in (m.get("text") or ""), timeout=60)
        await c.ok("ticket.finish", outcome=OUTCOME)
    await c.ws.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--emergencies", type=int, default=30)
    ap.add_argument("--deadline", type=float, default=240)
    a = ap.parse_args()

    await wait_cache_settled(a.data, 60)

    # (a) calls, every window in a zone of its own, one call at a time per window
    cats_of = {1: ["A", "B"], 2: ["C", "A"], 3: ["B", "D"], 4: ["D", "C"]}
    state = {"made": 0, "want": a.calls, "calls": [], "stop": False}
    t_calls = time.monotonic()
    workers = [asyncio.ensure_future(window_worker(a.port, w, cats_of[(w - 1) % 4 + 1], state))
               for w in range(1, a.windows + 1)]
    try:
        await asyncio.wait_for(asyncio.gather(*workers), a.deadline)
    except asyncio.TimeoutError:
        raise RuntimeError("the calls passed --deadline (%d calls made)" % state["made"])
    t_calls = time.monotonic() - t_calls
    lines = [l for l in index_lines(a.data) if l.get("priority") == "call"]
    lat, asked, missing = [], [], 0
    for code, zone, at in state["calls"]:
        ix = [l for l in lines if l.get("zone") == zone and code in l.get("text", "")]
        if not ix:
            missing += 1
            continue
        lat.append(ix[0]["first_sample_at_ms"] - at)
        asked.append(ix[0]["started_at_ms"] - at)
    if missing:
        raise RuntimeError("%d calls have no index line" % missing)
    print("audio calls: %d calls (+%d warm-up) in %.0f s over %d zones; call.next -> first sample "
          "p50 %d ms  p99 %d ms  max %d ms"
          % (len(lat), a.windows, t_calls, a.windows, q(lat, .5), q(lat, .99), q(lat, 1)))
    print("  of which ticket.called -> announcement asked for (index started_at_ms): p50 %d ms  p99 %d ms  max %d ms"
          % (q(asked, .5), q(asked, .99), q(asked, 1)))
    print("RESULT audio_call_n %d" % len(lat))
    print("RESULT audio_call_p50_ms %d\nRESULT audio_call_p99_ms %d\nRESULT audio_call_max_ms %d"
          % (q(lat, .5), q(lat, .99), q(lat, 1)))

    # (b) emergencies
    adm = await connect(a.port, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", ["emergency.changed", "gpio.changed"])
    evac, firsts, doors_late, rows = [], [], 0, []
    for i in range(a.emergencies):
        before = len([l for l in index_lines(a.data) if l.get("priority") == "emergency"])
        await adm.ok("emergency.trigger", playbook="fire")
        ev = await adm.event(lambda m: m.get("ev") == "emergency.changed" and m.get("active"))
        door = await adm.event(lambda m: m.get("ev") == "gpio.changed" and m.get("line") == "door_main"
                               and m.get("value") == 1)
        await asyncio.sleep(1.0)
        await adm.ok("emergency.clear", reason="scripts/bench/audio")
        await adm.event(lambda m: m.get("ev") == "emergency.changed" and not m.get("active"))
        # every zone writes its emergency line when the cut announcement ends
        t = time.monotonic()
        while True:
            em = [l for l in index_lines(a.data) if l.get("priority") == "emergency"]
            if len(em) >= before + a.windows:
                break
            if time.monotonic() - t > 10:
                raise RuntimeError("emergency %d: %d of %d zones wrote their index line"
                                   % (i + 1, len(em) - before, a.windows))
            await asyncio.sleep(0.05)
        mine = [l for l in em if l["started_at_ms"] >= ev["at"]]
        first = min(l["first_sample_at_ms"] for l in mine)
        last = max(l["first_sample_at_ms"] for l in mine)
        evac.append(last - ev["at"])
        firsts.append(first - ev["at"])
        ok = door["at"] <= first
        doors_late += not ok
        rows.append("  emergency %2d: trigger at %d, door_main at +%d ms, first evacuation sample at +%d ms"
                    " (last zone +%d ms)%s" % (i + 1, ev["at"], door["at"] - ev["at"], first - ev["at"],
                                               last - ev["at"], "" if ok else "  DOORS LATE"))
        await asyncio.sleep(0.3)
    await adm.ws.close()
    print("\n".join(rows))
    print("audio emergencies: %d; trigger -> first evacuation sample in every zone p50 %d ms  p99 %d ms  "
          "max %d ms (first zone: p50 %d ms  max %d ms); door_main set before the first sample: %d of %d"
          % (len(evac), q(evac, .5), q(evac, .99), q(evac, 1), q(firsts, .5), q(firsts, 1),
             len(evac) - doors_late, len(evac)))
    print("RESULT audio_evac_n %d" % len(evac))
    print("RESULT audio_evac_p50_ms %d\nRESULT audio_evac_p99_ms %d\nRESULT audio_evac_max_ms %d"
          % (q(evac, .5), q(evac, .99), q(evac, 1)))
    print("RESULT audio_evac_doors_first %d/%d" % (len(evac) - doors_late, len(evac)))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as ex:
        print("audio_speakers: FAILED: %s" % ex, file=sys.stderr)
        sys.exit(1)
