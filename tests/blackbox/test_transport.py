#!/usr/bin/python3
"""Transport and abuse limits (docs/security.md): TLS on the same port with a self-signed
certificate (pages and wss), the origin check for browsers, hashed tokens in the config, and a client flooding requests is limited while others are served."""
import asyncio
import os
import ssl
import subprocess
import time
import urllib.request

import websockets

import hk
from hk import check


async def test_tls_same_port():
    cert, key = hk.self_signed()
    text = hk.demo_config(http='tls_cert: "%s", tls_key: "%s"' % (cert, key))
    async with hk.fresh(config=hk.write_config(text)) as d:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ws = await websockets.connect("wss://127.0.0.1:%d/ws" % d.port, subprotocols=["hall.v1"], ssl=ctx)
        c = hk.Client(ws, "wss")
        r = await c.hello("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        check(r.get("t") == "ok", "hello over wss %r" % r)
        r = await c.ok("ticket.issue", category="A")
        check(r["ticket"]["code"].startswith("A"), "ticket over wss %r" % r)
        await c.close()
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen("https://127.0.0.1:%d/kiosk" % d.port, context=ctx, timeout=10).read())
        check(b"<html" in body.lower(), "the kiosk page over https")
        # plain ws on the TLS port does not work
        try:
            await asyncio.wait_for(websockets.connect("ws://127.0.0.1:%d/ws" % d.port, subprotocols=["hall.v1"]), 5)
            check(False, "plain ws accepted on the TLS port")
        except (OSError, websockets.exceptions.InvalidMessage, websockets.exceptions.InvalidHandshake,
                asyncio.TimeoutError, EOFError):
            pass


async def test_origin_check():
    d = await hk.daemon()
    same = "http://127.0.0.1:%d" % d.port
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", origin=same)
    await c.ok("state.get")
    try:
        await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", origin="http://evil.example")
        check(False, "a WebSocket from a foreign Origin was accepted")
    except (websockets.exceptions.InvalidStatusCode, websockets.exceptions.InvalidHandshake, hk.CheckFailed,
            ConnectionError, EOFError):
        pass


async def test_hashed_token():
    h = subprocess.run([hk.CTL, "token", "new", "kiosk"], capture_output=True, text=True)
    lines = dict(l.split(None, 1) for l in h.stdout.splitlines()[:2] if " " in l)
    token, hashed = lines.get("token:", "").strip(), lines.get("hash:", "").strip()
    check(h.returncode == 0 and "$argon2id$" in hashed, "hallctl token new: %r %r" % (h.stdout, h.stderr))
    text = hk.demo_config().replace('token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"', 'token: "%s"' % hashed)
    async with hk.fresh(config=hk.write_config(text)) as d:
        c = await hk.connect(d, token)
        check(c.role == "kiosk", "role %r" % c.role)
        again = await hk.connect(d, token)             # accepted again without a second hash
        check(again.role == "kiosk", "role %r" % again.role)
        bad = await hk.connect(d)
        r = await bad.hello(token.split(".")[0] + ".XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")   # its id, another secret
        check(r.get("code") == "unauthenticated", "another secret under the same id was accepted: %r" % r)
        bad = await hk.connect(d)
        r = await bad.hello(hashed)          # the hash itself is not a token
        check(r.get("code") == "unauthenticated", "the stored hash was accepted as a token: %r" % r)
    bad_cfg = hk.demo_config().replace('token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq"', 'token: "sha256$zz$00"')
    rc, err = await hk.Daemon(config=hk.write_config(bad_cfg)).start_expect_exit()
    check(rc == 2 and "hallctl token hash" in err, "malformed hash: rc %s, %s" % (rc, err[-300:]))


async def test_flood_limited():
    text = hk.demo_config(http="rate_per_connection: 100")
    async with hk.fresh(config=hk.write_config(text)) as d:
        flood = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        other = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        replies = []
        for _ in range(5):      # batches below the 512 frames a client may have queued
            replies += await asyncio.gather(*[flood.request("state.get", timeout=60) for _ in range(400)])
            t0 = time.monotonic()
            await other.ok("state.get")                  # the others are still served at once
            check(time.monotonic() - t0 < 5, "another client waited %.1f s" % (time.monotonic() - t0))
        refused = [r for r in replies if r.get("code") == "unavailable"]
        check(len(refused) > 1000, "only %d of 2000 requests refused at 100/s" % len(refused))
        check("rate limit" in refused[0]["msg"], "refusal %r" % refused[0])


hk.run([test_tls_same_port, test_origin_check, test_hashed_token, test_flood_limited])
