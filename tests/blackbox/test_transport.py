#!/usr/bin/python3
"""Transport and abuse limits (docs/security.md): TLS on the same port with a self-signed
certificate (pages and wss), the origin check for browsers, hashed tokens in the config, failed
logins slowed per address, and a client flooding requests is limited while others are served."""
import asyncio
import os
import ssl
import subprocess
import time
import urllib.request

import websockets

import hk
from hk import check


def self_signed():
    d = hk.tmpdir("tls")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return cert, key


async def test_tls_same_port():
    cert, key = self_signed()
    text = hk.demo_config(http='tls_cert: "%s", tls_key: "%s"' % (cert, key))
    async with hk.fresh(config=hk.write_config(text)) as d:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ws = await websockets.connect("wss://127.0.0.1:%d/ws" % d.port, subprotocols=["hall.v1"], ssl=ctx)
        c = hk.Client(ws, "wss")
        r = await c.hello("kiosk-1-secret")
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
    c = await hk.connect(d, "display-secret", origin=same)
    await c.ok("state.get")
    try:
        await hk.connect(d, "display-secret", origin="http://evil.example")
        check(False, "a WebSocket from a foreign Origin was accepted")
    except (websockets.exceptions.InvalidStatusCode, websockets.exceptions.InvalidHandshake, hk.CheckFailed,
            ConnectionError, EOFError):
        pass


async def test_hashed_token():
    h = subprocess.run([hk.CTL, "token", "hash", "s3cret-kiosk"], capture_output=True, text=True)
    check(h.returncode == 0 and h.stdout.startswith("sha256$"), "hallctl token hash: %r %r" % (h.stdout, h.stderr))
    text = hk.demo_config().replace('token: "kiosk-1-secret"', 'token: "%s"' % h.stdout.strip())
    async with hk.fresh(config=hk.write_config(text)) as d:
        c = await hk.connect(d, "s3cret-kiosk")
        check(c.role == "kiosk", "role %r" % c.role)
        bad = await hk.connect(d)
        r = await bad.hello(h.stdout.strip())          # the hash itself is not a token
        check(r.get("code") == "unauthenticated", "the stored hash was accepted as a token: %r" % r)
    bad_cfg = hk.demo_config().replace('token: "kiosk-1-secret"', 'token: "sha256$zz$00"')
    rc, err = await hk.Daemon(config=hk.write_config(bad_cfg)).start_expect_exit()
    check(rc == 2 and "hallctl token hash" in err, "malformed hash: rc %s, %s" % (rc, err[-300:]))


async def test_failed_logins_slowed():
    async with hk.fresh() as d:
        times = []
        for i in range(7):
            c = await hk.connect(d)
            t0 = time.monotonic()
            r = await c.hello("wrong-%d" % i)
            times.append(time.monotonic() - t0)
            check(r.get("code") == "unauthenticated", "wrong token %r" % r)
        check(max(times[:4]) < 1.5, "the first failures were slowed: %r" % times)
        check(min(times[5:]) >= 1.5, "failures past the fifth were not slowed: %r" % times)
        t0 = time.monotonic()
        good = await hk.connect(d, "kiosk-1-secret")       # the right token is never held back
        check(time.monotonic() - t0 < 1.5, "a correct hello was slowed")
        await good.ok("state.get")
        check("failed hello" in d.stderr_text(), "failed logins are not logged")


async def test_flood_limited():
    text = hk.demo_config(http="rate_per_connection: 100")
    async with hk.fresh(config=hk.write_config(text)) as d:
        flood = await hk.connect(d, "display-secret")
        other = await hk.connect(d, "display-secret")
        replies = []
        for _ in range(5):      # batches below the 512 frames a client may have queued
            replies += await asyncio.gather(*[flood.request("state.get", timeout=60) for _ in range(400)])
            t0 = time.monotonic()
            await other.ok("state.get")                  # the others are still served at once
            check(time.monotonic() - t0 < 5, "another client waited %.1f s" % (time.monotonic() - t0))
        refused = [r for r in replies if r.get("code") == "unavailable"]
        check(len(refused) > 1000, "only %d of 2000 requests refused at 100/s" % len(refused))
        check("rate limit" in refused[0]["msg"], "refusal %r" % refused[0])


hk.run([test_tls_same_port, test_origin_check, test_hashed_token, test_failed_logins_slowed, test_flood_limited])
