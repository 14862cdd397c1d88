"""restart_ready.py: restart -> ready with a full day. Run by scripts/bench/restart with Debian's
/usr/bin/python3 (websockets, msgpack).

  restart_ready.py HK TICKETS_BIN PORT DATA TICKETS RESTARTS

Starts the daemon (demo hall) on DATA, fills it with TICKETS durable tickets (the `tickets`
program with --total: real ticket.issue requests from 100 kiosk connections, so the events in
Redis and in the local journal are exactly what a hall writes), reads the hall's seq, then
RESTARTS times: kill -9 of the daemon, start it again at once on the same data dir, and time
  ready: the kill -> the daemon's "ready on port" line (stderr read through a pipe, not polled)
  hello: the kill -> a display's hello answered (a new connection: what a screen sees)
and checks the restored hall: the restored seq equals the seq before the kill, and the number
of waiting tickets is the same. The baseline, same run: the same restarts of the empty hall
before the fill. The embedded redis-server gets SIGTERM from the kernel when the
daemon dies (PR_SET_PDEATHSIG) and the new daemon ends a leftover one (its pid file), so its
shutdown is part of the figure, as after a real crash. Also prints when each restore phase's log
line arrived (Redis link up = its append-only file is loaded), to split the time.
Every wait is bounded; prints RESULT lines.
"""
import asyncio
import os
import shutil
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

import msgpack
import websockets

HK, TICKETS_BIN, PORT, DATA, NTICKETS, RESTARTS = sys.argv[1:7]
PORT, NTICKETS, RESTARTS = int(PORT), int(NTICKETS), int(RESTARTS)
PHASES = [("redis", "redis: link up"), ("ready", "ready on port")]


class Daemon:
    def __init__(self):
        self.lines = []          # (monotonic time, line)
        os.makedirs(DATA, exist_ok=True)   # the demo's tokens the load program uses
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "demo-tokens"),
                        os.path.join(DATA, "demo-tokens"))
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([HK, "--data", DATA, "--listen", f"127.0.0.1:{PORT}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = open(os.path.join(DATA, "..", "restart-daemon.log"), "ab", buffering=0)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stderr:
            now = time.monotonic()
            self.log.write(b"%.3f " % now + raw)
            with self.cond:
                self.lines.append((now, raw.decode(errors="replace")))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, text, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, l in self.lines:
                    if text in l:
                        return t, l
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    tail = "".join(l for _, l in self.lines[-5:])
                    raise SystemExit(f"restart: no '{text}' from the daemon within {timeout} s:\n{tail}")
                self.cond.wait(left)

    def when(self, text):
        with self.cond:
            for t, l in self.lines:
                if text in l:
                    return t
        return None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def hello(token="display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", timeout=10):
    """One connection's hello; returns the reply map."""
    async with websockets.connect(f"ws://127.0.0.1:{PORT}/ws", subprotocols=["hall.v1"],
                                  open_timeout=timeout, max_size=None) as ws:
        await ws.send(msgpack.packb({"t": "hello", "id": 1, "token": token, "events": False}))
        while True:
            m = msgpack.unpackb(await asyncio.wait_for(ws.recv(), timeout), raw=False)
            if m.get("id") == 1:
                if m.get("t") != "ok":
                    raise SystemExit(f"restart: hello refused: {m}")
                return m


async def hello_retry(deadline):
    while True:
        try:
            return await hello()
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.002)


def waiting_of(reply):
    """Tickets waiting in the restored hall, from hello's state (display view: ticket codes)."""
    st = reply.get("state") or {}
    q = st.get("queues") or st.get("queue") or {}
    n = 0
    if isinstance(q, dict):
        for v in q.values():
            if isinstance(v, dict):
                w = v.get("waiting")
                n += w if isinstance(w, int) else len(w or v.get("tickets") or [])
            elif isinstance(v, list):
                n += len(v)
    elif isinstance(q, list):
        for v in q:
            w = v.get("waiting") if isinstance(v, dict) else None
            n += w if isinstance(w, int) else len(w or [])
    return n


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def q(xs, p):
    xs = sorted(xs)
    k = max(1, min(len(xs), int(p * len(xs) + 0.999999)))
    return xs[k - 1]


def restarts(d, n, waiting0, label):
    """n times kill -9 + start + hello; returns (daemon, ready_ms, hello_ms, redis_up_ms)."""
    ready, served, redis_up = [], [], []
    for i in range(n):
        time.sleep(0.5)              # let the embedded Redis settle after the previous start
        seq0 = asyncio.run(hello()).get("seq")   # a coalesced queue.changed may follow a change
        t_kill = time.monotonic()
        d.kill9()
        d = Daemon()
        t_ready, line = d.wait_line("ready on port", 60)
        reply = asyncio.run(hello_retry(time.monotonic() + 30))
        t_hello = time.monotonic()
        t_redis = d.when("redis: link up")
        m = re.search(r"(\d+) events restored, seq (\d+)", line)
        rseq, waiting = int(m.group(2)) if m else -1, waiting_of(reply)
        if rseq != seq0 or waiting != waiting0:
            d.stop()
            raise SystemExit(f"restart: restored hall differs: seq {rseq} (want {seq0}), "
                             f"{waiting} waiting (want {waiting0})")
        ready.append((t_ready - t_kill) * 1e3)
        served.append((t_hello - t_kill) * 1e3)
        redis_up.append(((t_redis or t_ready) - t_kill) * 1e3)
        print(f"restart {label} {i + 1}: kill -9 -> redis link up {redis_up[-1]:.0f} ms, ready {ready[-1]:.0f} ms, "
              f"hello answered {served[-1]:.0f} ms ({m.group(1) if m else '?'} events restored, seq {rseq})",
              flush=True)
    return d, ready, served, redis_up


def main():
    d = Daemon()
    d.wait_line("ready on port", 30)
    # the baseline, same run: the same restart with an empty hall (no ticket yet)
    d, e_ready, e_served, e_redis = restarts(d, RESTARTS, 0, "empty")
    t0 = time.monotonic()
    r = subprocess.run([TICKETS_BIN, "--port", str(PORT), "--conns", "100", "--total", str(NTICKETS),
                        "--warmup", "0", "--seconds", "600"], capture_output=True, text=True, timeout=300)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        d.stop()
        raise SystemExit(f"restart: filling the hall failed: {r.stderr.strip()}")
    before = asyncio.run(hello())
    seq0, waiting0 = before.get("seq"), waiting_of(before)
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(DATA) for f in fs)
    print(f"restart: hall filled in {time.monotonic() - t0:.1f} s: seq {seq0}, {waiting0} tickets waiting, "
          f"data dir {size / 1e6:.1f} MB", flush=True)
    try:
        with open(os.path.join(DATA, "redis", "redis.pid")) as f:
            rpid = int(f.read().strip())
    except (OSError, ValueError):
        rpid = None
    hk_rss, redis_rss = rss_kb(d.proc.pid), rss_kb(rpid) if rpid else None
    print(f"restart: with {NTICKETS} tickets: daemon RSS {hk_rss} kB, embedded redis-server RSS {redis_rss} kB")
    if hk_rss:
        print(f"RESULT restart_full_hk_rss_kb {hk_rss}")
    if redis_rss:
        print(f"RESULT restart_full_redis_rss_kb {redis_rss}")
    if waiting0 != NTICKETS:
        d.stop()
        raise SystemExit(f"restart: {waiting0} tickets waiting after the fill, want {NTICKETS}")
    d, ready, served, redis_up = restarts(d, RESTARTS, waiting0, "full")
    d.stop()
    med = statistics.median
    print(f"restart: {NTICKETS} tickets, {RESTARTS} restarts: ready median {med(ready):.0f} ms, "
          f"max {max(ready):.0f} ms; hello answered median {med(served):.0f} ms, "
          f"max {max(served):.0f} ms; Redis link up median {med(redis_up):.0f} ms; "
          f"empty hall: ready median {med(e_ready):.0f} ms")
    for k, xs in (("ready", ready), ("hello", served), ("redis_up", redis_up),
                  ("empty_ready", e_ready), ("empty_hello", e_served)):
        print(f"RESULT restart_{k}_p50_ms {med(xs):.0f}")
        print(f"RESULT restart_{k}_max_ms {max(xs):.0f}")
    print(f"RESULT restart_ratio_p50 {med(ready) / med(e_ready):.2f}")
    print(f"RESULT restart_events {seq0}")
    print(f"RESULT restart_tickets {NTICKETS}")


main()
