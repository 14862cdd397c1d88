#!/usr/bin/python3
"""Sign-in (docs/security.md "Sign-in"): a penalised address has every hello refused, the right
token too, and the penalty grows; one hello per connection, and nothing after a failed hello is
read; the whole token is compared (a NUL inside is a byte); weak tokens are refused at load;
the demo hall makes its own tokens; a connection that does not sign in is closed, the ones not
signed in are capped, and failed hellos are logged in aggregate."""
import asyncio
import os
import re
import time

import hk
from hk import check

KIOSK = hk.DEMO_TOKENS["kiosk"]


def http_opts(opts):
    return hk.write_config(hk.demo_config(http=opts))


async def failed_hello(d, token="wrong.token"):
    c = await hk.connect(d)
    r = await c.hello(token)
    check(r.get("code") == "unauthenticated", "hello %r -> %r" % (token, r))
    check(await c.wait_closed(5), "connection open after a failed hello")
    return r


async def penalty_refusal(d):
    """The right token's answer while the address is penalised (its seconds), or None."""
    c = await hk.connect(d)
    r = await c.hello(KIOSK)
    if r.get("t") == "ok":
        await c.close()
        return None
    m = re.search(r"another (\d+) s", r.get("msg", ""))
    check(r.get("code") == "unauthenticated" and m, "right token while penalised -> %r" % r)
    check(await c.wait_closed(5), "connection open after a refused hello")
    return int(m.group(1))


async def wait_penalty_over(d, bound=30):
    deadline = time.monotonic() + bound
    while await penalty_refusal(d) is not None:
        check(time.monotonic() < deadline, "still penalised after %d s" % bound)
        await asyncio.sleep(0.25)


async def test_penalised_address_refuses_right_token_and_grows():
    async with hk.fresh() as d:
        for _ in range(4):
            await failed_hello(d)
        c = await hk.connect(d, KIOSK)            # four failures: not penalised yet
        await c.close()
        await failed_hello(d)                     # the fifth: every hello refused for a while
        first = await penalty_refusal(d)
        check(first is not None and first >= 1, "the right token was accepted right after the fifth failure")
        await wait_penalty_over(d)
        c = await hk.connect(d, KIOSK)            # a success does not reset the count ...
        await c.close()
        await failed_hello(d)                     # ... so the next failure penalises again, longer
        second = await penalty_refusal(d)
        check(second is not None and second > first, "penalty did not grow: %r then %r" % (first, second))


async def test_one_hello_per_connection():
    d = await hk.daemon()
    c = await hk.connect(d, hk.DEMO_TOKENS["display"])
    r = await c.hello(hk.DEMO_TOKENS["admin"])
    check(r.get("t") == "err" and r.get("code") == "bad_request", "a second hello -> %r" % r)
    r = await c.err("gpio.list", "forbidden")     # still the display it signed in as
    await c.ok("state.get")
    await c.close()


def server_frames(data):
    """The msgpack maps in a stream of (unmasked) server frames; stops at a close frame."""
    out = []
    while len(data) >= 2:
        op, n, at = data[0] & 0x0f, data[1] & 0x7f, 2
        if n == 126:
            n, at = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(data[2:10], "big"), 10
        if op == 0x8 or len(data) < at + n:
            break
        out.append(hk.msgpack.unpackb(data[at:at + n], raw=False))
        data = data[at + n:]
    return out


async def test_nothing_read_after_failed_hello():
    d = await hk.daemon()
    s = await hk.raw_open(d.port)
    loop = asyncio.get_running_loop()
    # pipelined in one write: a wrong hello, then the right one and a request
    frames = [{"t": "hello", "id": 1, "token": "wrong.token"}, {"t": "hello", "id": 2, "token": KIOSK},
              {"t": "ticket.issue", "id": 3, "category": "A"}]
    await loop.sock_sendall(s, b"".join(hk.ws_frame(hk.msgpack.packb(f)) for f in frames))
    data = b""
    deadline = time.monotonic() + 10
    while True:
        check(time.monotonic() < deadline, "the connection was not closed after a failed hello")
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(s, 65536), 10)
        except ConnectionError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    got = server_frames(data)
    check(len(got) == 1 and got[0].get("id") == 1 and got[0].get("code") == "unauthenticated",
          "frames after a failed hello were answered: %r" % got)


async def test_token_compared_whole():
    d = await hk.daemon()
    for bad in (KIOSK + "\0anything", KIOSK[:-1], KIOSK + "x"):
        await failed_hello(d, bad)
    c = await hk.connect(d, KIOSK)
    await c.close()


async def test_weak_token_refused_at_load():
    text = hk.demo_config().replace('"%s"' % hk.DEMO_TOKENS["staff"], '"staff-0001-pin"')
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "staff-0001-pin" in l)
    rc, err = await hk.Daemon(config=hk.write_config(text)).start_expect_exit()
    check(rc == 2 and ("hall.yaml:%d: token is too weak" % line) in err, "weak token: rc %s, %s" % (rc, err[-300:]))


async def test_demo_tokens_made_at_first_start():
    data = hk.tmpdir("demo")
    d = hk.Daemon(data=data, demo_tokens=False)
    await d.start()
    with open(os.path.join(data, "demo-tokens")) as f:
        tokens = dict(l.split() for l in f if l.strip() and not l.startswith("#"))
    check(oct(os.stat(os.path.join(data, "demo-tokens")).st_mode & 0o777) == "0o600", "demo-tokens readable by others")
    check(set(tokens) == {"kiosk", "display", "staff:0001", "staff:0002", "staff:0003", "security", "admin"},
          "demo tokens %r" % tokens)
    check(tokens["kiosk"] != KIOSK, "the demo made the published test token")
    with open(d.stdout_path) as f:
        banner = f.read()
    check("/kiosk#token=%s" % tokens["kiosk"] in banner, "the banner does not give the kiosk's URL: %s" % banner[:600])
    c = await hk.connect(d, tokens["admin"])
    await c.close()
    await d.stop()
    await d.start()                                # kept across restarts
    c = await hk.connect(d, tokens["admin"])
    await c.close()
    await d.stop()


async def test_connection_without_hello_closed():
    async with hk.fresh(config=http_opts("hello_timeout_s: 2")) as d:
        c = await hk.connect(d)
        t0 = time.monotonic()
        check(await c.wait_closed(15), "a connection without hello is still open after 15 s")
        check(time.monotonic() - t0 >= 1.5, "closed before its hello_timeout_s")
        ok = await hk.connect(d, KIOSK)            # signed in: never closed for it
        await asyncio.sleep(0)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and not ok.closed:
            await ok.ok("state.get")
            await asyncio.sleep(0.5)
        check(not ok.closed, "a signed-in connection was closed by the hello deadline")
        await ok.close()
    d = await hk.daemon()                          # the default: 10 s
    c = await hk.connect(d)
    t0 = time.monotonic()
    check(await c.wait_closed(20), "a connection without hello is still open after 20 s")
    check(8 <= time.monotonic() - t0 <= 20, "closed after %.1f s, not about 10" % (time.monotonic() - t0))


async def test_cap_on_connections_not_signed_in():
    async with hk.fresh(config=http_opts("max_unauthenticated: 3")) as d:
        waiting = [await hk.connect(d) for _ in range(3)]
        over = await hk.connect(d)
        check(await over.wait_closed(5), "a 4th connection not signed in is still open")
        r = await waiting[0].hello(KIOSK)          # one signs in: room for another
        check(r.get("t") == "ok", "hello %r" % r)
        nxt = await hk.connect(d, KIOSK)
        await nxt.ok("state.get")
        for c in waiting + [nxt]:
            await c.close()
        deadline = time.monotonic() + 10
        while "refused 1 connections" not in d.stderr_text():
            check(time.monotonic() < deadline, "the refusal is not logged")
            await asyncio.sleep(0.2)


async def test_failed_hellos_logged_in_aggregate():
    async with hk.fresh() as d:
        for i in range(30):
            c = await hk.connect(d)
            await c.hello("wrong.%d" % i)
        deadline = time.monotonic() + 20
        while "more failed hellos" not in d.stderr_text():
            check(time.monotonic() < deadline, "no aggregated line within 20 s")
            await asyncio.sleep(0.2)
        text = d.stderr_text()
        singles = text.count("failed hello (")
        check(singles <= 2, "%d single failed-hello lines for 30 failures" % singles)
        m = re.search(r"(\d+) more failed hellos and (\d+) refused", text)
        check(m and int(m.group(1)) + int(m.group(2)) == 29, "aggregated counts: %r" % (m and m.group(0)))


async def test_systemd_unit_file_limit():
    with open(os.path.join(hk.SRC, "scripts", "systemd", "hallkeeper.service")) as f:
        unit = f.read()
    m = re.search(r"^LimitNOFILE=(\d+)", unit, re.M)
    check(m and int(m.group(1)) >= 16384, "LimitNOFILE for 5000 displays (two descriptors each, and room): %r"
          % (m and m.group(0)))


hk.run([test_penalised_address_refuses_right_token_and_grows, test_one_hello_per_connection,
        test_nothing_read_after_failed_hello, test_token_compared_whole, test_weak_token_refused_at_load,
        test_demo_tokens_made_at_first_start, test_connection_without_hello_closed,
        test_cap_on_connections_not_signed_in, test_failed_hellos_logged_in_aggregate, test_systemd_unit_file_limit])
