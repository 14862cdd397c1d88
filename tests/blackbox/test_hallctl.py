"""test_hallctl.py: hallctl (HK_CTL) against the real daemon (HK_BIN) running the demo hall.

Covers the readable and --json outputs of state/ticket/call, the window commands, raw, watch,
and the exit statuses: 0 ok, 1 err reply (bad token, forbidden), 2 usage, 3 connection failure.
The tests share one daemon and run in order: tickets issued early are called later.
"""
import asyncio
import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hk  # noqa: E402
from hk import check  # noqa: E402

T = hk.DEMO_TOKENS
issued = {}   # what earlier tests issued, for the later ones


def ctl_env(url=None, token=None):
    env = {k: v for k, v in os.environ.items() if k not in ("HALL_URL", "HALL_TOKEN")}
    if url:
        env["HALL_URL"] = url
    if token:
        env["HALL_TOKEN"] = token
    return env


async def ctl(*args, url=None, token=None, timeout=20):
    """Runs hallctl; returns (rc, stdout, stderr)."""
    check(os.path.exists(hk.CTL), "HK_CTL %s does not exist" % hk.CTL)
    rc, out, err = await hk.run_cmd([hk.CTL] + list(args), timeout=timeout, env=ctl_env(url, token))
    check(rc is not None, "hallctl %s did not finish within %ss" % (" ".join(args), timeout))
    return rc, out, err


def expect(res, rc, what):
    check(res[0] == rc, "%s: exit %s, expected %s; stdout=%r stderr=%r" % (what, res[0], rc, res[1], res[2]))


async def test_usage_errors():
    for args, needle in [((), "missing COMMAND"),
                         (("--token", "x", "bogus"), 'unknown command "bogus"'),
                         (("--token", "x", "ticket"), "ticket CATEGORY"),
                         (("--token", "x", "call", "one"), "WINDOW must be a window number"),
                         (("--token", "x", "gpio", "set", "door_main", "2"), "0 or 1"),
                         (("--token", "x", "--timeout", "soon", "state"), "bad --timeout"),
                         (("--token", "x", "--frobnicate", "state"), "unknown option --frobnicate"),
                         (("--token", "x", "raw", "echo", "novalue"), "KEY=VALUE"),
                         (("--token", "x", "state", "--priority"), "--priority is only for ticket"),
                         (("state",), "no token")]:
        # A refused port as URL: a usage error must be reported before any connection is tried.
        res = await ctl(*args, url="ws://127.0.0.1:%d/ws" % hk.free_port())
        expect(res, 2, "hallctl %s" % " ".join(args))
        check(needle in res[2], "hallctl %s: stderr lacks %r: %r" % (" ".join(args), needle, res[2]))
        check("usage: hallctl" in res[2], "hallctl %s: no usage text on stderr" % " ".join(args))
        check(res[1] == "", "hallctl %s: usage error printed on stdout: %r" % (" ".join(args), res[1]))
    res = await ctl("--help")
    expect(res, 0, "hallctl --help")
    check("usage: hallctl" in res[1] and "emergency trigger" in res[1], "--help output: %r" % res[1])


async def test_bad_url():
    port = hk.free_port()
    url = "ws://127.0.0.1:%d/ws" % port
    res = await ctl("--url", url, "--token", T["display"], "state")
    expect(res, 3, "refused port")
    check(res[2].strip() == "cannot connect to %s: Connection refused" % url, "stderr: %r" % res[2])
    check(res[1] == "", "stdout on connection failure: %r" % res[1])

    res = await ctl("--url", "http://127.0.0.1:%d/ws" % port, "--token", T["display"], "state")
    expect(res, 2, "http:// url")
    check("ws://" in res[2], "stderr: %r" % res[2])

    # Something that speaks HTTP but does not upgrade: the 101 status is checked.
    async def plain_http(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        await writer.drain()
        writer.close()
    srv = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    hport = srv.sockets[0].getsockname()[1]
    try:
        res = await ctl("--url", "ws://127.0.0.1:%d/ws" % hport, "--token", T["display"], "state")
    finally:
        srv.close()
        await srv.wait_closed()
    expect(res, 3, "plain HTTP server")
    check("HTTP 200" in res[2], "stderr: %r" % res[2])


async def test_bad_token():
    d = await hk.daemon()
    res = await ctl("state", url=d.url, token="not-a-token")
    expect(res, 1, "bad token from HALL_TOKEN")
    check(res[2].startswith("error: unauthenticated: "), "stderr: %r" % res[2])
    res = await ctl("--json", "--url", d.url, "--token", "not-a-token", "state")
    expect(res, 1, "bad token --json")
    reply = json.loads(res[1])
    check(reply.get("t") == "err" and reply.get("code") == "unauthenticated" and reply.get("id") == 1,
          "json reply: %r" % reply)
    check(d.alive(), "daemon died")


async def test_state_text():
    d = await hk.daemon()
    res = await ctl("state", url=d.url, token=T["display"])
    expect(res, 0, "state")
    out = res[1]
    for needle in ["示例政务服务中心 (demo)", "windows:", "queues:", "recent calls:", "emergency: none"]:
        check(needle in out, "state output lacks %r:\n%s" % (needle, out))
    for wid in range(1, 5):
        check(re.search(r"^\s+%d\s+%d号窗口\s+closed" % (wid, wid), out, re.M),
              "window %d not listed as closed:\n%s" % (wid, out))
    for cat, name in hk.DEMO_CATEGORIES.items():
        check(re.search(r"^\s+%s\s+%s\s+waiting\s+0\s+est 0 min$" % (cat, name), out, re.M),
              "queue %s not listed empty:\n%s" % (cat, out))


TICKET_RE = re.compile(r"^([A-Z])(\d{3})  (\S+)  ahead (\d+)  est (\d+) min\n$")


async def test_ticket_text():
    d = await hk.daemon()
    r1 = await ctl("--url", d.url, "--token", T["kiosk"], "ticket", "A")
    expect(r1, 0, "ticket A")
    m1 = TICKET_RE.match(r1[1])
    check(m1 and m1.group(1) == "A" and m1.group(3) == "社保医保", "ticket output: %r" % r1[1])
    r2 = await ctl("ticket", "A", url=d.url, token=T["kiosk"])
    expect(r2, 0, "second ticket A")
    m2 = TICKET_RE.match(r2[1])
    check(m2, "ticket output: %r" % r2[1])
    check(int(m2.group(2)) == int(m1.group(2)) + 1, "codes %s then %s" % (r1[1], r2[1]))
    check(int(m2.group(4)) == int(m1.group(4)) + 1, "ahead %s then %s" % (m1.group(4), m2.group(4)))
    issued["A"] = [m1.group(1) + m1.group(2), m2.group(1) + m2.group(2)]

    # The daemon agrees: two tickets waiting in A.
    c = await hk.connect(d, T["display"])
    st = (await c.ok("state.get"))["state"]
    await c.close()
    check(st["queues"]["A"]["waiting"] == 2, "queues: %r" % st["queues"])

    res = await ctl("ticket", "Z", url=d.url, token=T["kiosk"])
    expect(res, 1, "ticket in an unknown category")
    check(res[2].startswith("error: "), "stderr: %r" % res[2])


async def test_ticket_json():
    d = await hk.daemon()
    # priority tickets come from a guide (a staff token); a kiosk is refused (queue.priority_roles)
    res = await ctl("ticket", "C", "--priority", url=d.url, token=T["kiosk"])
    expect(res, 1, "ticket C --priority with a kiosk token")
    check("queue.priority_roles" in res[2], "stderr: %r" % res[2])
    res = await ctl("--json", "ticket", "C", "--priority", url=d.url, token=T["staff3"])
    expect(res, 0, "ticket C --priority --json")
    lines = res[1].splitlines()
    check(len(lines) == 1, "expected one JSON line: %r" % res[1])
    reply = json.loads(lines[0])
    check(reply.get("t") == "ok" and reply.get("id") == 2, "reply: %r" % reply)
    tk = reply.get("ticket") or {}
    check(tk.get("code", "").startswith("C") and tk.get("category") == "C", "ticket: %r" % tk)
    check(tk.get("priority") == "priority", "ticket not priority: %r" % tk)
    check(isinstance(tk.get("est_wait_s"), int) and isinstance(tk.get("ahead"), int), "ticket: %r" % tk)
    issued["C"] = tk["code"]


async def test_call():
    d = await hk.daemon()
    check("A" in issued, "needs test_ticket_text")
    res = await ctl("call", "1", url=d.url, token=T["staff"])
    expect(res, 0, "call 1")
    first = issued["A"][0]
    check(res[1].startswith(first + "  社保医保  called  window 1 1号窗口"), "call output: %r" % res[1])

    c = await hk.connect(d, T["display"])
    st = (await c.ok("state.get"))["state"]
    await c.close()
    w1 = [w for w in st["windows"] if w["id"] == 1][0]
    check(w1["status"] == "open" and w1["staff"] == "0001", "window 1: %r" % w1)
    check((w1.get("current") or {}).get("code") == first, "window 1 current: %r" % w1)
    check(st["recent_calls"] and st["recent_calls"][0]["code"] == first, "recent: %r" % st["recent_calls"])

    res = await ctl("state", url=d.url, token=T["display"])
    expect(res, 0, "state after call")
    check(re.search(r"^\s+1\s+1号窗口\s+open\s+staff 0001 张三\s+now %s called" % first, res[1], re.M),
          "window 1 line:\n%s" % res[1])
    check(re.search(r"^\s+\S+\s+%s\s+-> window 1 1号窗口$" % first, res[1], re.M), "recent calls:\n%s" % res[1])

    # Window 3 serves B and D: nothing waiting there (its post a is staff 0003).
    res = await ctl("call", "3", url=d.url, token=T["staff3"])
    expect(res, 0, "call 3 with an empty queue")
    check(res[1] == "queue empty\n", "output: %r" % res[1])
    res = await ctl("--json", "call", "3", url=d.url, token=T["staff3"])
    expect(res, 0, "call 3 --json with an empty queue")
    reply = json.loads(res[1])
    check(reply.get("t") == "err" and reply.get("code") == "queue_empty", "reply: %r" % reply)

    res = await ctl("call", "2", url=d.url, token=T["kiosk"])
    expect(res, 1, "call with a kiosk token")
    check(res[2].startswith("error: forbidden: "), "stderr: %r" % res[2])


async def test_window_commands():
    d = await hk.daemon()
    check("A" in issued, "needs test_ticket_text")
    first = issued["A"][0]
    res = await ctl("start", "1", url=d.url, token=T["staff"])
    expect(res, 0, "start 1")
    check(res[1].startswith(first + "  社保医保  serving"), "start output: %r" % res[1])
    res = await ctl("finish", "1", "即办件", url=d.url, token=T["staff"])
    expect(res, 0, "finish 1")
    check(res[1].startswith(first) and "outcome 即办件" in res[1], "finish output: %r" % res[1])
    res = await ctl("pause", "1", "午休", url=d.url, token=T["staff"])
    expect(res, 0, "pause 1")
    check(res[1].startswith("window 1 1号窗口  paused") and "(午休)" in res[1], "pause output: %r" % res[1])
    res = await ctl("resume", "1", url=d.url, token=T["staff"])
    expect(res, 0, "resume 1")
    check(res[1].startswith("window 1 1号窗口  open"), "resume output: %r" % res[1])
    # Window 1 belongs to staff 0001 now: another staff member cannot take it over.
    res = await ctl("call", "1", url=d.url, token=T["staff2"])
    expect(res, 1, "call 1 by another staff member")
    check(res[2].startswith("error: "), "stderr: %r" % res[2])


async def test_rate_reason():
    """rate CODE SCORE [REASON [TEXT]]: a score of 1 or 2 needs a reason, which the daemon names."""
    d = await hk.daemon()
    check("A" in issued, "needs test_ticket_text")
    first = issued["A"][0]   # finished by test_window_commands
    res = await ctl("rate", first, "2", url=d.url, token=T["kiosk"])
    expect(res, 1, "rate 2 without a reason")
    check(res[2].startswith("error: bad_request: ") and "needs a reason" in res[2] and "办事效率低" in res[2],
          "stderr: %r" % res[2])
    res = await ctl("rate", first, "2", "办事效率低", "等了很久", url=d.url, token=T["kiosk"])
    expect(res, 0, "rate 2 with a reason and a text")
    check(res[1].startswith(first) and "score 2" in res[1], "rate output: %r" % res[1])
    res = await ctl("rate", first, "5", "a", "b", "c", url=d.url, token=T["kiosk"])
    expect(res, 2, "rate with too many words")
    check("rate CODE SCORE [REASON [TEXT]]" in res[2], "stderr: %r" % res[2])


async def test_raw():
    d = await hk.daemon()
    res = await ctl("--json", "raw", "state.get", url=d.url, token=T["admin"])
    expect(res, 0, "raw state.get --json")
    reply = json.loads(res[1])
    check(reply.get("t") == "ok" and reply["state"]["hall"]["id"] == "demo", "reply: %r" % reply)
    check(reply["state"]["hall"]["name"] == "示例政务服务中心", "UTF-8 not passed through: %r" % res[1])

    res = await ctl("raw", "ticket.issue", "category=D", url=d.url, token=T["kiosk"])
    expect(res, 0, "raw ticket.issue")
    check(re.search(r"^t: ok$", res[1], re.M) and re.search(r"^  code: D\d{3}$", res[1], re.M),
          "raw output:\n%s" % res[1])

    res = await ctl("--json", "raw", "ticket.rate", "code=D999", "score=5", url=d.url, token=T["kiosk"])
    expect(res, 1, "raw ticket.rate of an unknown ticket")
    reply = json.loads(res[1])
    check(reply.get("t") == "err" and reply.get("code") in ("not_found", "bad_request"), "reply: %r" % reply)

    res = await ctl("raw", "no.such.command", "x=1", url=d.url, token=T["admin"])
    expect(res, 1, "raw unknown command")
    check(res[2].startswith("error: bad_request: "), "stderr: %r" % res[2])
    check(d.alive(), "daemon died")


async def test_watch():
    d = await hk.daemon()
    p = await asyncio.create_subprocess_exec(
        hk.CTL, "--url", d.url, "--token", T["display"], "watch",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=ctl_env())
    try:
        line = await asyncio.wait_for(p.stderr.readline(), 10)
        check(b"watching" in line, "watch did not start: %r" % line)
        c = await hk.connect(d, T["kiosk"])
        tk = (await c.ok("ticket.issue", category="B"))["ticket"]
        await c.close()
        seen = []
        while True:
            out = (await asyncio.wait_for(p.stdout.readline(), 10)).decode()
            check(out, "watch ended early; saw %r" % seen)
            seen.append(out)
            if "ticket.issued" in out:
                break
        check(re.match(r"^\d\d:\d\d:\d\d  #\d+  ticket\.issued  code=%s  category=B" % tk["code"], out),
              "event line: %r" % out)
        p.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(p.wait(), 10)
        check(rc == 0, "watch exit %s after SIGINT" % rc)
    finally:
        if p.returncode is None:
            p.kill()
            await p.wait()

    # --json --count 1: one event, as one JSON line, then exit 0. Issue tickets until it sees one.
    p = await asyncio.create_subprocess_exec(
        hk.CTL, "--json", "--count", "1", "--url", d.url, "--token", T["display"], "watch",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=ctl_env())
    try:
        c = await hk.connect(d, T["kiosk"])
        for _ in range(40):
            if p.returncode is not None:
                break
            await c.ok("ticket.issue", category="D")
            try:
                await asyncio.wait_for(p.wait(), 0.25)
            except asyncio.TimeoutError:
                pass
        await c.close()
        out, err = await asyncio.wait_for(p.communicate(), 10)
        check(p.returncode == 0, "watch --count 1 exit %s: %r" % (p.returncode, err))
        lines = out.decode().splitlines()
        check(len(lines) == 1, "expected one line: %r" % lines)
        ev = json.loads(lines[0])
        check(ev.get("t") == "ev" and isinstance(ev.get("seq"), int) and ev.get("ev"), "event: %r" % ev)
    finally:
        if p.returncode is None:
            p.kill()
            await p.wait()


async def test_gpio_list():
    d = await hk.daemon()
    res = await ctl("gpio", "list", url=d.url, token=T["admin"])
    expect(res, 0, "gpio list")
    check(re.search(r"^\s+NAME\s+DIR\s+VALUE$", res[1], re.M), "header:\n%s" % res[1])
    check(re.search(r"^\s+fire_panel\s+in\s+[01]$", res[1], re.M), "fire_panel:\n%s" % res[1])
    check(re.search(r"^\s+door_main\s+out\s+0$", res[1], re.M), "door_main:\n%s" % res[1])
    res = await ctl("gpio", "list", url=d.url, token=T["kiosk"])
    expect(res, 1, "gpio list as kiosk")
    check(res[2].startswith("error: forbidden: "), "stderr: %r" % res[2])


if __name__ == "__main__":
    hk.run([test_usage_errors, test_bad_url, test_bad_token, test_state_text, test_ticket_text,
            test_ticket_json, test_call, test_window_commands, test_rate_reason, test_raw, test_watch, test_gpio_list])
