#!/usr/bin/python3
"""Slow and abusive clients (reliability issue, item 6): 1000 connections that never read while
events are broadcast: the daemon's memory stays bounded and a normal display still gets every
call promptly; 1000 abrupt resets; one address may not hold more than 256 connections (loopback
is exempt, so the test connects from 127.0.0.2)."""
import asyncio
import resource
import socket
import struct
import time

import msgpack
import websockets

import hk
from hk import check

# 1000 sockets here and as many in the daemon (a child: it inherits the limit)
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(_soft, min(_hard, 8192)), _hard))


async def test_1000_never_reading():
    text = hk.demo_config(http="rate_per_connection: 1000000")
    d = hk.Daemon(config=hk.write_config(text))
    await d.start()
    loop = asyncio.get_running_loop()
    hello = hk.ws_frame(msgpack.packb({"t": "hello", "id": 1, "token": "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"}))
    socks = []
    for i in range(1000):
        s = await hk.raw_open(d.port, rcvbuf=4096)
        await loop.sock_sendall(s, hello)
        socks.append(s)
    good = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False)
    rss0 = hk.rss_kb(d.proc.pid)
    lat = []
    for rnd in range(60):
        await asyncio.gather(*(kiosk.ok("ticket.issue", category="A") for _ in range(20)))
        t0 = time.monotonic()
        code = (await staff.ok("call.next", timeout=30))["ticket"]["code"]
        await good.wait_event("ticket.called", lambda e, c=code: e.get("code") == c, timeout=30)
        lat.append(time.monotonic() - t0)
        await staff.ok("ticket.noshow")
    rss1 = hk.rss_kb(d.proc.pid)
    lat.sort()
    print("  1000 silent clients: RSS %d -> %d KiB; call -> good display p50 %.1f ms, max %.1f ms"
          % (rss0, rss1, lat[len(lat) // 2] * 1000, lat[-1] * 1000))
    check(rss1 - rss0 < 200 * 1024, "memory grew by %d KiB with 1000 clients that never read" % (rss1 - rss0))
    check(lat[len(lat) // 2] < 1.0, "the good display waited %.2f s (median) for a call" % lat[len(lat) // 2])
    check(d.alive(), "daemon died")
    for s in socks:
        s.close()
    await d.stop()


async def test_1000_resets():
    d = await hk.daemon()
    loop = asyncio.get_running_loop()
    hello = hk.ws_frame(msgpack.packb({"t": "hello", "id": 1, "token": "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"}))
    for i in range(1000):
        s = await hk.raw_open(d.port)
        if i % 2:
            await loop.sock_sendall(s, hello[: len(hello) // 2])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # RST on close
        s.close()
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await c.ok("ticket.issue", category="B")
    check(d.alive(), "daemon died")


async def test_per_address_cap():
    d = await hk.daemon()
    conns = []
    refused = None
    try:
        for i in range(300):
            try:
                ws = await websockets.connect(d.url.replace("127.0.0.1", "127.0.0.1"), subprotocols=["hall.v1"],
                                              local_addr=("127.0.0.2", 0), open_timeout=10)
                conns.append(ws)
            except (websockets.exceptions.InvalidStatusCode, websockets.exceptions.InvalidHandshake,
                    ConnectionError, EOFError) as e:
                refused = (i, e)
                break
        check(refused and refused[0] == 256, "connections from one address: refused at %r (expected the 257th)"
              % (refused,))
        c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")        # other addresses are not affected
        await c.ok("state.get")
    finally:
        for ws in conns:
            await ws.close()


hk.run([test_1000_never_reading, test_1000_resets, test_per_address_cap], timeout=300)
