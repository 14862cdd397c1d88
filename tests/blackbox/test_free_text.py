#!/usr/bin/python3
"""Free text (docs/protocol.md "Free text"): every string argument is valid UTF-8 without control
characters, within its field's limit, or the command gets err bad_request and changes nothing:
a pause reason with terminal escapes or invalid bytes, a 64 KiB clear reason, a 补正 material with
an OSC sequence. hallctl never prints a control character it received (a hall.v1 peer sending
them is played here by a small server)."""
import asyncio
import os

import msgpack
import websockets

import hk
from hk import check

ESC = "\x1b[2J\x1b]0;pwned\x07"


async def raw_request(c, t, field, raw, **args):
    """A request whose `field` is a msgpack str holding the bytes `raw` (invalid UTF-8 included)."""
    rid = c.new_id()
    msg = {"t": t, "id": rid, field: "\u2603" * 8}
    msg.update(args)
    data = msgpack.packb(msg, use_bin_type=True)
    marker = b"\xb8" + "\u2603".encode() * 8          # fixstr of 24 bytes
    check(data.count(marker) == 1, "marker not found in %r" % data)
    head = bytes([0xa0 | len(raw)]) if len(raw) < 32 else b"\xd9" + bytes([len(raw)])
    fut = asyncio.get_running_loop().create_future()
    c._waiters[rid] = fut
    await c.send_raw(data.replace(marker, head + raw))
    return await asyncio.wait_for(fut, 10)


async def test_bad_text_is_refused():
    async with hk.fresh() as d:
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        sec = await hk.connect(d, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await staff.ok("window.open", window=1)
        r = await staff.err("window.pause", "bad_request", reason="午休" + ESC)
        check("control characters" in r["msg"], "pause with escapes: %r" % r)
        r = await raw_request(staff, "window.pause", "reason", b"lunch \xff\xfe")
        check(r.get("t") == "err" and r.get("code") == "bad_request" and "UTF-8" in r.get("msg", ""),
              "pause with invalid UTF-8: %r" % r)
        r = await raw_request(staff, "window.pause", "reason", "午休\u009b2J".encode())   # C1 CSI
        check(r.get("code") == "bad_request", "pause with a C1 control: %r" % r)
        r = await staff.err("window.pause", "bad_request", reason="x" * 121)
        check("120 bytes" in r["msg"], "long pause reason: %r" % r)
        st = (await disp.ok("state.get"))["state"]
        w1 = next(w for w in st["windows"] if w["id"] == 1)
        check(w1["status"] == "open", "a refused pause paused the window: %r" % w1)
        await staff.ok("window.pause", reason="午休 12:00-13:00")
        await staff.ok("window.resume")
        # a clear reason is a line of the incident log, not a file
        await sec.ok("emergency.trigger", playbook="illness")
        r = await sec.err("emergency.clear", "bad_request", reason="已送医" * 200)
        check("500 bytes" in r["msg"], "long clear reason: %r" % r)
        st = (await sec.ok("state.get"))["state"]
        check(st["emergency"].get("active") is True, "a refused clear cleared: %r" % st["emergency"])
        await sec.ok("emergency.clear", reason="已送医" * 20)
        # a list's strings too: the materials of a 补正 notice
        await kiosk.ok("ticket.issue", category="A")
        await staff.ok("call.next")
        r = await staff.err("ticket.finish", "bad_request", outcome="补正", missing=["户口本", "结婚证" + ESC])
        await staff.ok("ticket.finish", outcome="补正", missing=["户口本", "结婚证"])
        # nothing with a control character ever reached the display
        await disp.wait_event("ticket.finished")
        for e in disp.events:
            check(not any(ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 for ch in repr(e) if ch not in "\n"),
                  "the display got %r" % e)


async def fake_hall(ws, path=None):
    """Answers hello and state.get with control characters in every text a hall can carry."""
    async for data in ws:
        req = msgpack.unpackb(data, raw=False)
        if req.get("t") == "hello":
            rep = {"t": "ok", "id": req["id"], "role": "admin", "hall": {"id": "x", "name": "h"}, "seq": 1, "state": {}}
        else:
            win = {"id": 1, "name": "1号\x1b[2J窗口", "status": "paused", "staff": "0001",
                   "staff_name": "张三\x07", "pause_reason": "午休" + ESC + "\u009b31m", "categories": ["A"]}
            rep = {"t": "ok", "id": req["id"], "state": {
                "hall": {"id": "x", "name": "大厅\x1b]0;t\x07"}, "open": True, "windows": [win],
                "queues": {"A": {"name": "社保\x1b[1m", "waiting": 1, "est_wait_s": 60}},
                "recent_calls": [{"code": "A001\x1b[K", "window": 1, "window_name": "1号\x1b[2J", "at": 0}],
                "emergency": {"active": False, "incidents": []}}}
        await ws.send(msgpack.packb(rep, use_bin_type=True))


async def test_hallctl_escapes_what_it_received():
    check(os.path.exists(hk.CTL), "HK_CTL %s does not exist" % hk.CTL)
    port = hk.free_port()
    async with websockets.serve(fake_hall, "127.0.0.1", port, subprotocols=["hall.v1"]):
        env = dict(os.environ, HALL_URL="ws://127.0.0.1:%d/ws" % port, HALL_TOKEN="t")
        rc, out, err = await hk.run_cmd([hk.CTL, "state"], env=env, timeout=20)
        check(rc == 0, "hallctl state: exit %s, stderr %r" % (rc, err))
        check("1号" in out and "午休" in out and "A001" in out, "hallctl state printed %r" % out)
        bad = [ch for ch in out if (ord(ch) < 0x20 and ch != "\n") or 0x7f <= ord(ch) < 0xa0]
        check(not bad, "hallctl printed control characters %r in %r" % (bad, out))
        check("\\x1b" in out, "the escapes are not shown as \\x1b: %r" % out)
        # --json keeps the text, escaped as JSON
        rc, out, err = await hk.run_cmd([hk.CTL, "--json", "state"], env=env, timeout=20)
        check(rc == 0 and "\\u001b" in out and "\x1b" not in out, "hallctl --json state: %r" % out)


hk.run([test_bad_text_is_refused, test_hallctl_escapes_what_it_received])
