#!/usr/bin/python3
"""The web edge (docs/security.md "The web edge"): security headers on every HTTP response, pages
without inline scripts or styles (the CSP allows none), the hall's host names (http.hosts)
checked on Host and Origin against DNS rebinding, hallctl over wss:// with --cafile, and a
warning when the daemon serves plain HTTP beyond loopback."""
import asyncio
import glob
import os
import re
import socket
import subprocess
import time

import hk
from hk import check


def http_opts(opts, listen="127.0.0.1:8080"):
    return hk.write_config(hk.demo_config(listen=listen, http=opts))


def raw_request(port, path="/", host=None, origin=None, upgrade=False):
    """(status line, headers dict lower-cased) of one HTTP/1.1 request with the given Host."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (path, host or "127.0.0.1:%d" % port)
    if origin:
        req += "Origin: %s\r\n" % origin
    if upgrade:
        req = req.replace("Connection: close", "Connection: Upgrade")
        req += ("Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hall.v1\r\n")
    s.sendall((req + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return head[0], headers


async def test_security_headers_on_every_response():
    d = await hk.daemon()
    for path in ("/", "/kiosk", "/security", "/js/hall.js", "/css/hall.css", "/no-such-page"):
        status, h = await asyncio.to_thread(raw_request, d.port, path)
        csp = h.get("content-security-policy", "")
        check("frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp,
              "%s (%s): CSP %r" % (path, status, csp))
        check(h.get("x-frame-options") == "DENY", "%s: X-Frame-Options %r" % (path, h.get("x-frame-options")))
        check(h.get("x-content-type-options") == "nosniff", "%s: X-Content-Type-Options" % path)
        check(h.get("referrer-policy") == "no-referrer", "%s: Referrer-Policy %r" % (path, h.get("referrer-policy")))


async def test_pages_have_no_inline_code():
    for page in glob.glob(os.path.join(hk.PAGES, "*.html")):
        text = open(page, encoding="utf-8").read()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", text)
        check(not inline, "%s has inline code the CSP refuses: %r" % (os.path.basename(page), inline))


async def test_hosts_checked_against_rebinding():
    d = await hk.daemon()                          # listens on 127.0.0.1: localhost and 127.0.0.1
    status, _ = await asyncio.to_thread(raw_request, d.port, "/kiosk", host="evil.example:%d" % d.port)
    check(" 403" in status, "a page under a foreign Host: %s" % status)
    status, _ = await asyncio.to_thread(raw_request, d.port, "/kiosk", host="localhost:%d" % d.port)
    check(" 200" in status, "a page under localhost: %s" % status)
    # a rebound name: Origin and Host agree with each other, but are not the hall's
    status, _ = await asyncio.to_thread(raw_request, d.port, "/ws", host="evil.example:%d" % d.port,
                                        origin="http://evil.example:%d" % d.port, upgrade=True)
    check(" 101" not in status, "a WebSocket under a rebound name was accepted: %s" % status)
    status, _ = await asyncio.to_thread(raw_request, d.port, "/ws", origin="http://evil.example", upgrade=True)
    check(" 101" not in status, "a WebSocket from a foreign Origin was accepted: %s" % status)
    status, _ = await asyncio.to_thread(raw_request, d.port, "/ws", origin="http://localhost:%d" % d.port, upgrade=True)
    check(" 101" in status, "a WebSocket from the hall's own page was refused: %s" % status)
    async with hk.fresh(config=http_opts('hosts: [hall.example, 127.0.0.1]')) as d2:
        status, _ = await asyncio.to_thread(raw_request, d2.port, "/ws", host="hall.example:%d" % d2.port,
                                            origin="http://hall.example:%d" % d2.port, upgrade=True)
        check(" 101" in status, "a WebSocket under a configured host: %s" % status)
        status, _ = await asyncio.to_thread(raw_request, d2.port, "/", host="localhost:%d" % d2.port)
        check(" 403" in status, "localhost is not in this hall's hosts: %s" % status)
    path = http_opts('hosts: ["hall.example:8080"]')
    line = next(i for i, l in enumerate(open(path), 1) if "hall.example:8080" in l)
    rc, err = await hk.Daemon(config=path).start_expect_exit()
    check(rc == 2 and ("hall.yaml:%d: 'hosts' in http" % line) in err, "a host with a port: rc %s, %s" % (rc, err[-300:]))


async def test_hallctl_over_wss():
    cert, key = hk.self_signed()
    async with hk.fresh(config=http_opts('tls_cert: "%s", tls_key: "%s"' % (cert, key))) as d:
        url = "wss://127.0.0.1:%d/ws" % d.port
        env = dict(os.environ, HALL_TOKEN=hk.DEMO_TOKENS["kiosk"])
        env.pop("HALL_CAFILE", None)
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", url, "--cafile", cert, "--json", "ticket", "A"], env=env)
        check(rc == 0 and '"code":"A' in out.replace(" ", ""), "hallctl over wss: rc %s %r %r" % (rc, out, err))
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", url, "state"], env=env)   # not our CA: refused
        check(rc != 0 and "certificate" in err, "an unknown certificate was accepted: rc %s %r" % (rc, err))
        other, _ = hk.self_signed()
        rc, out, err = await hk.run_cmd([hk.CTL, "--url", url, "--cafile", other, "state"], env=env)
        check(rc != 0 and "certificate" in err, "a certificate of another CA was accepted: rc %s %r" % (rc, err))
        check("serving without TLS" not in d.stderr_text(), "TLS warning with TLS on")


async def test_plain_http_beyond_loopback_warns():
    port = hk.free_port()
    async with hk.fresh(listen="0.0.0.0:%d" % port) as d:
        check("serving without TLS on 0.0.0.0:%d" % port in d.stderr_text(), "no warning: %s" % d.stderr_text()[-500:])
    d = await hk.daemon()
    check("serving without TLS" not in d.stderr_text(), "a warning on loopback")


hk.run([test_security_headers_on_every_response, test_pages_have_no_inline_code, test_hosts_checked_against_rebinding,
        test_hallctl_over_wss, test_plain_http_beyond_loopback_warns])
