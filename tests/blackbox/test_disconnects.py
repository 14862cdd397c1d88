#!/usr/bin/python3
"""Clients that vanish: abrupt closes and resets at every stage of a connection, interleaved with
normal work, and a client that never reads while thousands of events are broadcast. The daemon
stays up, keeps answering, and the slow client is dropped when 1 MiB of payload waits for it (its
send queue is bounded in bytes) while the others keep receiving every event."""
import asyncio
import re
import socket
import struct

import msgpack

import hk
from hk import check


def pack(o):
    return msgpack.packb(o, use_bin_type=True)


def rst(sock):
    """Close with a TCP RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


async def abrupt(port, variant):
    """One misbehaving client; variant picks the stage at which it goes away and how."""
    how_rst = variant % 2 == 1
    stage = (variant // 2) % 6
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(s, ("127.0.0.1", port)), 10)
        if stage == 0:
            pass                                              # TCP only
        elif stage == 1:
            await loop.sock_sendall(s, hk.ws_handshake_bytes(port)[:40])   # half a handshake
        else:
            await loop.sock_sendall(s, hk.ws_handshake_bytes(port))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await asyncio.wait_for(loop.sock_recv(s, 4096), 10)
                if not chunk:
                    raise hk.CheckFailed("handshake: connection closed by the daemon")
                head += chunk
            check(head.startswith(b"HTTP/1.1 101"), "handshake refused: %r" % head[:100])
            hello = hk.ws_frame(pack({"t": "hello", "id": 1, "token": "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"}))
            issue = hk.ws_frame(pack({"t": "ticket.issue", "id": 2, "category": "C"}))
            big = hk.ws_frame(pack({"t": "state.get", "id": 3, "pad": "y" * 3000}))
            if stage == 2:
                await loop.sock_sendall(s, big[:len(big) // 2])        # half a frame
            elif stage == 3:
                await loop.sock_sendall(s, hello[:3])                  # a header cut short
            elif stage == 4:
                await loop.sock_sendall(s, hello + issue)              # a request in flight
            elif stage == 5:
                await loop.sock_sendall(s, hello + hk.ws_frame(pack({"t": "state.get", "id": 4})) + big[:10])
        if how_rst:
            rst(s)
    finally:
        s.close()


async def read_frame(loop, sock):
    """Reads one unmasked binary server frame (after the handshake's headers) and decodes it."""
    buf = b""

    async def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
            check(chunk, "the connection closed while reading a frame")
            buf += chunk
    await need(4)
    if buf.startswith(b"HTTP/"):
        while b"\r\n\r\n" not in buf:
            await need(len(buf) + 1)
        buf = buf[buf.index(b"\r\n\r\n") + 4:]
    await need(2)
    n, head = buf[1] & 0x7f, 2
    if n == 126:
        await need(4)
        n, head = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        await need(10)
        n, head = struct.unpack(">Q", buf[2:10])[0], 10
    await need(head + n)
    return msgpack.unpackb(buf[head:head + n], raw=False)


async def test_200_abrupt_disconnects():
    d = await hk.daemon()
    disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    issued = []
    for batch in range(20):
        await asyncio.gather(*(abrupt(d.port, batch * 10 + i) for i in range(10)))
        r = await kiosk.ok("ticket.issue", category="A")
        issued.append(r["ticket"]["code"])
        await disp.ok("state.get")
        check(d.alive(), "daemon died after %d abrupt disconnects" % ((batch + 1) * 10))
    check(not disp.closed and not kiosk.closed, "a well-behaved client was dropped")
    # the events of the tickets issued by the kiosk all reached the display, in seq order
    ok = await disp.wait_for(lambda c: issued[-1] in [e.get("code") for e in c.events
                                                      if e.get("ev") == "ticket.issued"], 10)
    check(ok, "the display missed ticket.issued of %s" % issued[-1])
    seqs = [e["seq"] for e in disp.events]
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "display event seqs have gaps")
    fresh = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    await fresh.ok("state.get")
    await fresh.close()


async def test_abrupt_during_broadcast():
    """Clients that vanish while events are being pushed to them."""
    d = await hk.daemon()
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    doomed = [await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj") for _ in range(20)]
    tasks = [asyncio.ensure_future(kiosk.ok("ticket.issue", category="B")) for _ in range(30)]
    for i, c in enumerate(doomed):
        tr = c.ws.transport
        if i % 2:
            sock = tr.get_extra_info("socket")
            if sock is not None:
                rst(sock)
        tr.abort()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    check(d.alive(), "daemon died")
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    await c.ok("state.get")
    await c.close()


async def test_slow_reader_dropped():
    # the load comes from a few kiosks as fast as they can: no rate limit in the way here
    text = hk.demo_config(http="rate_per_connection: 1000000")
    d = hk.Daemon(config=hk.write_config(text))
    await d.start()
    good = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    kiosks = [await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False) for _ in range(4)]
    # the slow one: a small receive buffer, says hello, then never reads again
    loop = asyncio.get_running_loop()
    sock = await hk.raw_open(d.port, rcvbuf=4096)
    await loop.sock_sendall(sock, hk.ws_frame(pack({"t": "hello", "id": 1, "token": "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"})))
    reply = await read_frame(loop, sock)         # its hello answered: broadcasts go to it from now
    check(reply.get("t") == "ok", "the slow client's hello: %r" % reply)
    await good.ok("state.get")
    n0 = len(good.events)
    my_port = sock.getsockname()[1]
    check(hk.tcp_state(d.port, my_port) == "ESTABLISHED", "the slow client is not connected")
    # broadcast at least 2000 events, and more until the daemon gives up on the slow client: the
    # kernel's socket buffers absorb a few MB before the daemon's own queue (1 MiB of payload)
    # fills
    sent = 0
    dropped = False
    while sent < 80000:
        await asyncio.gather(*(k.ok("ticket.issue", category="ABCD"[i % 4], timeout=30)
                               for k in kiosks for i in range(100)))
        sent += 100 * len(kiosks)
        if len(good.events) - n0 >= 2000 and hk.tcp_state(d.port, my_port) != "ESTABLISHED":
            dropped = True
            break
    ok = await good.wait_for(lambda c: len(c.events) - n0 >= 2000, 20)
    check(ok, "the good display got %d events (expected >= 2000) after %d tickets"
          % (len(good.events) - n0, sent))
    check(d.alive(), "daemon died during the broadcast")
    check(not good.closed, "the good display was dropped (code %s)" % good.close_code)
    seqs = [e["seq"] for e in good.events]
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the good display saw a gap in seq")
    check(dropped, "the client that never read is still connected (server side %s) after %d tickets, "
          "%d events" % (hk.tcp_state(d.port, my_port), sent, len(good.events) - n0))
    # it was dropped at the byte limit: the next frame would have taken the payload waiting for it
    # past 1 MiB (a frame is at most 64 KiB), whatever the number of frames
    m = re.search(r"dropped: too slow: (\d+) bytes in (\d+) frames wait for it \(limit (\d+)\)", d.stderr_text())
    check(m, "the daemon's log does not say how much waited for the dropped client:\n" + d.stderr_text()[-2000:])
    waited, frames, limit = (int(g) for g in m.groups())
    check(limit == 1 << 20, "the send queue's limit is %d bytes, docs/security.md says 1 MiB" % limit)
    check(limit - 65536 < waited <= limit, "dropped with %d bytes waiting, not at the 1 MiB limit" % waited)
    print("  (dropped with %d bytes in %d frames waiting)" % (waited, frames))
    # the slow client: reading now must hit the end of its stream (it was dropped), not block forever
    total = 0
    dropped = False
    try:
        while True:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 15)
            if not chunk:
                dropped = True
                break
            total += len(chunk)
    except asyncio.TimeoutError:
        pass
    except (ConnectionResetError, OSError):
        dropped = True
    sock.close()
    print("  (slow client: server side closed after %d tickets / %d events; it then read %d bytes before the end)"
          % (sent, len(good.events) - n0, total))
    check(dropped, "the client that never read was not dropped (read %d bytes, then the stream stayed open)" % total)
    # and the hall keeps serving
    await good.ok("state.get")
    await kiosks[0].ok("ticket.issue", category="A")
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    await c.ok("state.get")
    await c.close()
    await d.stop()


async def test_many_idle_connections_closed_at_once():
    d = await hk.daemon()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    base = (await admin.ok("health"))["clients"]
    conns = await asyncio.gather(*(hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj") for _ in range(100)))
    for c in conns:
        c.ws.transport.abort()

    async def all_closed():
        return (await admin.ok("health"))["clients"] <= base
    await hk.until("the daemon closed the 100 aborted connections", all_closed, 20)
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await k.ok("ticket.issue", category="D")
    await k.close()
    check(d.alive(), "daemon died")


hk.run([test_200_abrupt_disconnects, test_abrupt_during_broadcast, test_slow_reader_dropped,
        test_many_idle_connections_closed_at_once])
