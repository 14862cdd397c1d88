"""stalled_clients.py: memory and call latency with displays that never read. Run by
scripts/bench/stalled with Debian's /usr/bin/python3 (websockets, msgpack).

  stalled_clients.py HK PORT DATA STALLED SECONDS RATE

Two runs, each on a fresh daemon (demo hall, embedded Redis) on DATA/<run>:
  base:    10 reading displays, 8 kiosks issuing RATE * SECONDS tickets at up to RATE/s, a staff
           tablet calling window 1's next ticket 5 times a second (then marking it no-show)
           and STALLED more displays that read everything (discarded, in a process of their own)
  stalled: the same, but those STALLED displays say hello and never read again (a 4 KiB
           receive buffer), connected before the load starts
and for each: the daemon's RSS (VmRSS) sampled every 0.2 s, its growth (peak - RSS once every
connection is up), the call latency (call.next sent -> the last reading display has its
ticket.called, p50/p99), how many displays the daemon dropped as too slow ("dropped: too slow"
in its log) and how many frames/bytes a reading display received (their mean payload). The
bound the limits imply for the stalled clients: each may hold 1 MiB of payload
(SERVER_MAX_QUEUED_BYTES) plus, per queued frame, its ~40-byte header and an 8-byte ring slot, and
lws keeps at most 64 KiB per connection of a write the socket did not take; the frames are
shared, so that is the worst case (bound_kb), when no two stalled clients hold the same frames;
when they all hold the same broadcasts (they stalled at about the same time), one copy of the
frames plus each client's ring and lws's partial write (bound_shared_kb).
Every wait is bounded; prints RESULT lines.
"""
import asyncio
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import time

import msgpack
import websockets

if sys.argv[1] == "drain":       # the child of the base run: stalled_clients.py drain PORT N
    PORT = int(sys.argv[2])
else:
    HK, PORT, DATA, STALLED, SECONDS, RATE = sys.argv[1:7]
    PORT, STALLED, SECONDS, RATE = int(PORT), int(STALLED), float(SECONDS), float(RATE)
URL = "ws://127.0.0.1:%d/ws" % PORT
READERS, KIOSKS = 10, 8
QUEUE_LIMIT = 1 << 20          # web/server.h SERVER_MAX_QUEUED_BYTES
FRAME_OVERHEAD = 40 + 8        # frame header + LWS_PRE (web/frame.h), the ring slot
LWS_PARTIAL = 64 * 1024        # what lws keeps of a write the socket did not take (server.c)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


class Client:
    """A hall.v1 connection: requests with ids, events counted (and kept, for the readers)."""

    def __init__(self, ws):
        self.ws, self.next_id, self.waiting = ws, 1, {}
        self.frames = self.bytes = 0
        self.called = {}           # ticket code -> monotonic time its ticket.called arrived
        self.task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, token):
        ws = await websockets.connect(URL, subprotocols=["hall.v1"], max_size=None, open_timeout=20)
        c = cls(ws)
        await c.request("hello", token=token)
        return c

    async def _read(self):
        try:
            async for raw in self.ws:
                self.frames += 1
                self.bytes += len(raw)
                m = msgpack.unpackb(raw, raw=False)
                if m.get("t") == "ev":
                    if m.get("ev") == "ticket.called":
                        self.called[m.get("code")] = time.monotonic()
                elif m.get("id") in self.waiting:
                    self.waiting.pop(m["id"]).set_result(m)
        except websockets.ConnectionClosed:
            pass

    async def request(self, t, **args):
        i = self.next_id
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.waiting[i] = fut
        await self.ws.send(msgpack.packb(dict(args, t=t, id=i)))
        r = await asyncio.wait_for(fut, 30)
        if r.get("t") != "ok":
            raise RuntimeError("%s -> %r" % (t, r))
        return r


def raw_display(stall):
    """Says hello as a display over a plain socket. A stalled one never reads again and has a
    small receive buffer, so the daemon's own queue fills rather than the kernel's; the others
    are drained by drain()."""
    s = socket.socket()
    # the segment size of an Ethernet path, not loopback's 64 KiB: the daemon's kernel then sizes
    # the socket's send buffer as it would for a screen on the hall's network (tens of KB, not MB)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1448)
    if stall:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", PORT))
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hall.v1\r\n\r\n"
               % (PORT, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("a stalled display's handshake was refused")
        head += chunk
    payload = msgpack.packb({"t": "hello", "id": 1, "token": "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"})
    mask = os.urandom(4)
    s.sendall(bytes([0x82, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return s


def drain(n):
    """The reading displays of the base run, in a process of their own (so that reading them
    does not slow the measured ones): n displays, read and discarded until stdin closes."""
    sel = selectors.DefaultSelector()
    for _ in range(n):
        x = raw_display(False)
        x.setblocking(False)
        sel.register(x, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select(1):
            if key.fileobj is sys.stdin:
                return
            try:
                if not key.fileobj.recv(1 << 16):
                    sel.unregister(key.fileobj)
            except BlockingIOError:
                pass


async def run(name, stall):
    data = os.path.join(DATA, name)
    os.makedirs(data, exist_ok=True)
    log = open(os.path.join(data, "..", name + ".log"), "wb")
    proc = subprocess.Popen([HK, "--data", data, "--listen", "127.0.0.1:%d" % PORT],
                            stdout=subprocess.DEVNULL, stderr=log)
    logpath = log.name
    try:
        for _ in range(200):
            if "ready on port" in open(logpath, errors="replace").read():
                break
            if proc.poll() is not None:
                raise RuntimeError("the daemon exited: " + open(logpath, errors="replace").read()[-500:])
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the daemon is not ready after 20 s")
        readers = [await Client.open("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj") for _ in range(READERS)]
        kiosks = [await Client.open("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq") for _ in range(KIOSKS)]
        staff = await Client.open("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        await staff.request("window.open", window=1)
        socks = [raw_display(True) for _ in range(STALLED)] if stall else []
        drainer = None
        if not stall:
            drainer = subprocess.Popen([sys.executable, __file__, "drain", str(PORT), str(STALLED)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            line = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, drainer.stdout.readline), 30)
            if line.strip() != b"ready":
                raise RuntimeError("the reading displays did not connect")
        await readers[0].request("state.get")      # every hello (the stalled ones' too) answered
        rss0 = rss_kb(proc.pid)
        peak = rss0
        # both runs issue the same tickets (the hall's own memory grows with them), at RATE/s
        # at most, for SECONDS or up to three times that on a busy machine
        total = int(RATE * SECONDS)
        t_start = time.monotonic()
        stop = t_start + 3 * SECONDS
        done = asyncio.Event()
        lat = []

        issued = 0

        async def kiosk(k):
            nonlocal issued
            period, n = KIOSKS / RATE, 0
            t0 = time.monotonic()
            while time.monotonic() < stop and issued < total:
                issued += 1
                await k.request("ticket.issue", category="A")
                n += 1
                delay = t0 + n * period - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

        async def kiosks_done():
            await asyncio.gather(*(kiosk(k) for k in kiosks))
            done.set()

        async def caller():
            while not done.is_set():
                t0 = time.monotonic()
                try:
                    code = (await staff.request("call.next"))["ticket"]["code"]
                except RuntimeError as e:        # queue_empty before the first tickets
                    if "queue_empty" not in str(e):
                        raise
                    await asyncio.sleep(0.05)
                    continue
                end = t0 + 10
                while time.monotonic() < end and not all(code in r.called for r in readers):
                    await asyncio.sleep(0.001)
                if all(code in r.called for r in readers):
                    lat.append((max(r.called[code] for r in readers) - t0) * 1000)
                await staff.request("ticket.noshow")     # window 1 free for the next call
                await asyncio.sleep(max(0.0, t0 + 0.2 - time.monotonic()))

        async def sampler():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kb(proc.pid))
                await asyncio.sleep(0.2)
            peak = max(peak, rss_kb(proc.pid))

        await asyncio.gather(caller(), sampler(), kiosks_done())
        elapsed = time.monotonic() - t_start
        dropped = len(re.findall(r"dropped: too slow", open(logpath, errors="replace").read()))
        frames = sum(r.frames for r in readers)
        mean = sum(r.bytes for r in readers) / frames if frames else 0
        if drainer:
            drainer.stdin.close()
            drainer.wait(10)
        for x in socks:
            x.close()
        for c in readers + kiosks + [staff]:
            await c.ws.close()
        print("RESULT stalled_%s_tickets %d" % (name, issued))
        print("RESULT stalled_%s_tickets_per_s %.0f" % (name, issued / elapsed))
        print("RESULT stalled_%s_rss_start_kb %d" % (name, rss0))
        print("RESULT stalled_%s_rss_growth_kb %d" % (name, peak - rss0))
        print("RESULT stalled_%s_rss_peak_kb %d" % (name, peak))
        print("RESULT stalled_%s_call_p50_ms %.2f" % (name, pct(lat, 50)))
        print("RESULT stalled_%s_call_p99_ms %.2f" % (name, pct(lat, 99)))
        print("RESULT stalled_%s_calls %d" % (name, len(lat)))
        print("RESULT stalled_%s_dropped %d" % (name, dropped))
        print("RESULT stalled_%s_mean_frame_bytes %.0f" % (name, mean))
        return mean
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def main():
    await run("base", False)
    mean = await run("stalled", True)
    frames = QUEUE_LIMIT / max(mean, 1)            # frames in a full queue
    shared = QUEUE_LIMIT + frames * 40             # the same frames queued for every stalled client
    per = frames * 8 + LWS_PARTIAL                 # and each one's ring slots and lws's partial write
    print("RESULT stalled_bound_shared_kb %d" % ((shared + STALLED * per) / 1024))
    print("RESULT stalled_bound_kb %d" % (STALLED * (QUEUE_LIMIT + frames * FRAME_OVERHEAD + LWS_PARTIAL) / 1024))
    print("RESULT stalled_n %d" % STALLED)


if sys.argv[1] == "drain":
    drain(int(sys.argv[3]))
else:
    asyncio.run(main())
