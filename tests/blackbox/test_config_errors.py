#!/usr/bin/python3
"""Start-up failures (contract.md, Programs): a bad configuration exits with status 2 and one line
"FILE:LINE: message"; a port in use exits non-zero with one line naming the port; SIGTERM and
SIGINT stop cleanly with status 0."""
import asyncio
import os
import re
import signal
import socket

import hk
from hk import check


def demo_lines(**kw):
    return hk.demo_config(**kw).split("\n")


def line_of(lines, needle):
    for i, l in enumerate(lines):
        if needle in l:
            return i + 1
    raise AssertionError("no line with %r" % needle)


async def refuses(text, lineno, words, status=2, listen=None):
    """Starts the daemon on a config with text; asserts exit status, one-line stderr
    'PATH:LINE: ...' mentioning every word."""
    path = hk.write_config(text)
    d = hk.Daemon(config=path, listen=listen)
    rc, err = await d.start_expect_exit(timeout=20)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == status, "exit status %s, expected %s; stderr: %r" % (rc, status, err[-800:]))
    check(len(lines) == 1, "stderr has %d lines, expected one: %r" % (len(lines), err[-800:]))
    m = re.search(re.escape(path) + r":(\d+):", lines[0])
    check(m, "stderr %r does not say %s:LINE:" % (lines[0], path))
    if lineno is not None:
        check(int(m.group(1)) == lineno, "error reported at line %s, the fault is on line %d: %r"
              % (m.group(1), lineno, lines[0]))
    for w in words:
        check(w.lower() in lines[0].lower(), "message %r does not mention %r" % (lines[0], w))
    check(not hk.redis_pids_on(d.redis_sock()), "a redis-server was left running for a refused config")
    return lines[0]


async def test_unknown_top_level_key():
    lines = demo_lines()
    lines.insert(2, "colour: red")
    await refuses("\n".join(lines), 3, ["unknown key", "colour"])


async def test_unknown_key_in_window():
    lines = demo_lines()
    n = line_of(lines, "{ id: 2, name: 2号窗口")
    lines[n - 1] = "  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall, colour: blue }"
    await refuses("\n".join(lines), n, ["unknown key", "colour"])


async def test_unknown_category_in_window():
    lines = demo_lines()
    n = line_of(lines, "{ id: 3, name: 3号窗口")
    lines[n - 1] = "  - { id: 3, name: 3号窗口, categories: [B, Z], zone: hall }"
    await refuses("\n".join(lines), n, ["unknown category", "Z"])


async def test_bad_listen():
    for bad in ("nonsense", "127.0.0.1:99999", "127.0.0.1:", ":abc"):
        text = hk.demo_config(listen=bad)
        n = line_of(text.split("\n"), "http:")
        await refuses(text, n, ["listen"], listen=False)


async def test_yaml_syntax_error():
    lines = demo_lines()
    n = line_of(lines, "categories:")
    lines.insert(n, "  - { id: E, name: [unclosed")
    msg = await refuses("\n".join(lines), None, [])
    check(re.search(r":(\d+):", msg), "no line number in %r" % msg)


async def test_duplicate_window_id():
    lines = demo_lines()
    n = line_of(lines, "{ id: 4, name: 4号窗口")
    lines[n - 1] = "  - { id: 1, name: 4号窗口, categories: [D, C, A], zone: hall }"
    await refuses("\n".join(lines), n, ["duplicate", "1"])


async def test_token_for_unknown_staff():
    lines = demo_lines()
    n = line_of(lines, '"staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"')
    lines[n - 1] = '  - { token: "staff-0009.Rk3Wq8Zp1Ly6Tn4Vx9Bm2Hc7Jd5Gf0Sa",   role: staff, staff: "0009" }'
    await refuses("\n".join(lines), n, ["0009"])


async def test_missing_config_file():
    d = hk.Daemon(config=os.path.join(hk.tmpdir("none"), "no-such.yaml"))
    rc, err = await d.start_expect_exit(timeout=20)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == 2, "exit %s for a missing config file (expected 2): %r" % (rc, err[-500:]))
    check(len(lines) == 1 and "no-such.yaml" in lines[0], "stderr %r" % err[-500:])


async def test_port_in_use():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    port = s.getsockname()[1]
    try:
        d = hk.Daemon(listen="127.0.0.1:%d" % port)
        rc, err = await d.start_expect_exit(timeout=20)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc not in (0, None), "exit status %s with the port in use" % rc)
        check(len(lines) == 1, "stderr has %d lines, expected one: %r" % (len(lines), err[-800:]))
        check(str(port) in lines[0], "message %r does not name port %d" % (lines[0], port))
        check(not hk.redis_pids_on(d.redis_sock()), "a redis-server was left running")
        # the same through the config's http.listen
        path = hk.write_config(hk.demo_config(listen="127.0.0.1:%d" % port))
        d = hk.Daemon(config=path, listen=False)
        rc, err = await d.start_expect_exit(timeout=20)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc not in (0, None) and len(lines) == 1 and str(port) in lines[0],
              "config listen on a busy port: exit %s, stderr %r" % (rc, err[-800:]))
    finally:
        s.close()


async def test_sigterm_exit_0():
    d = hk.Daemon()
    await d.start()
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await c.ok("ticket.issue", category="A")
    pid = d.redis_pid()
    await d.stop()                      # SIGTERM: exit 0 within 10 s, asserted by the harness
    check(await c.wait_closed(5), "the client connection stayed open after the daemon stopped")
    if pid:
        check(not hk.pid_alive(pid), "embedded redis-server %d outlived the daemon" % pid)


async def test_sigint_exit_0():
    d = hk.Daemon()
    await d.start()
    d.proc.send_signal(signal.SIGINT)
    rc = None
    for _ in range(100):
        rc = d.proc.poll()
        if rc is not None:
            break
        await asyncio.sleep(0.1)
    check(rc == 0, "exit status %s after SIGINT (expected 0 within 10 s)" % rc)


async def test_config_file_runs():
    """The harness's demo config file itself is accepted (so the refusals above are about the fault)."""
    path = hk.write_config(hk.demo_config())
    d = hk.Daemon(config=path)
    await d.start()
    c = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await c.ok("window.open", window=1)
    await c.close()
    await d.stop()


async def test_external_redis_url():
    """With redis.url the daemon uses that Redis and starts no child of its own."""
    r = hk.Redis()
    await r.start()
    path = hk.write_config(hk.demo_config(redis_url=r.url))
    d = hk.Daemon(config=path)
    await d.start()
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await k.ok("ticket.issue", category="B")
    await k.close()
    check(not os.path.exists(d.redis_sock()), "an embedded redis socket appeared although redis.url was given")
    kids = [p for p, pp, comm, _ in hk._procs() if pp == d.proc.pid and "redis" in comm]
    check(not kids, "the daemon started a redis child %r although redis.url was given" % kids)
    keys = await r.command("DBSIZE")
    check(keys.startswith(b":") and int(keys[1:]) > 0, "nothing written to the external Redis (DBSIZE %r)" % keys)
    await d.stop()
    await r.stop()


hk.run([test_unknown_top_level_key, test_unknown_key_in_window, test_unknown_category_in_window, test_bad_listen,
        test_yaml_syntax_error, test_duplicate_window_id, test_token_for_unknown_staff, test_missing_config_file,
        test_port_in_use, test_sigterm_exit_0, test_sigint_exit_0, test_config_file_runs, test_external_redis_url])
