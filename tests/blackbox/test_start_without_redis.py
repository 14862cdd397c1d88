#!/usr/bin/python3
"""A hall that starts without Redis (issue 13, section 1; docs/redis.md "Starting without Redis"):
(a) an external Redis killed before the start, with an active fire emergency and a day of tickets:
the daemon is ready within a second from its local copy (state, emergency, graded fault), issues
and calls; once Redis is back the stream holds every event exactly once, in seq order, and a
restart (also from Redis alone) restores the same day. (b) the embedded Redis cannot start (a
damaged append-only file): the daemon starts and serves. (c) Redis holds a newer history another
controller wrote: the daemon refuses to merge, says why, and goes on from its own copy."""
import asyncio
import glob
import os
import time

import hk
from hk import check


async def redis_entries(sock, key="hall:{demo}:events"):
    """The stream's entry IDs, in order (redis-cli)."""
    p = await asyncio.create_subprocess_exec("redis-cli", "-s", sock, "XRANGE", key, "-", "+",
                                             stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    lines = out.decode("utf-8", "replace").split("\n")
    return [int(l.strip()[2:]) for l in lines if l.strip().startswith("0-") and l.strip()[2:].isdigit()]


async def wait_stream_top(sock, seq, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = await redis_entries(sock)
        if ids and ids[-1] >= seq:
            return ids
        await asyncio.sleep(0.1)
    raise hk.CheckFailed("Redis's stream did not reach seq %d within %ds" % (seq, timeout))


async def day_of(d):
    """What a restart must give back: seq, waiting tickets per queue, windows' tickets, emergency."""
    a = await hk.connect(d)
    r = await a.request("hello", token="admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    st = r["state"]
    await a.close()
    queues = {k: q["waiting"] for k, q in st["queues"].items()}
    wins = [(w.get("id"), (w.get("ticket") or {}).get("code") if isinstance(w.get("ticket"), dict) else w.get("ticket"))
            for w in st["windows"]]
    return {"queues": queues, "windows": wins, "emergency": bool(st["emergency"].get("active"))}, r["seq"]


async def issue(d, n, category):
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    codes = [(await k.ok("ticket.issue", category=category))["ticket"]["code"] for _ in range(n)]
    await k.close()
    return codes


def _ms(stamp):
    h, m, rest = stamp.split(":")
    return (int(h) * 3600 + int(m) * 60) * 1000 + int(round(float(rest) * 1000))


async def start_timed(d):
    """Starts d and connects (the caller says hello); returns the display client and how long the daemon took from its
    first log line to "ready" by its own clock (the machine's load on Python and exec aside)."""
    await d.start()
    c = await hk.connect(d)
    lines = [l for l in d.stderr_text().splitlines() if l[:2].isdigit() and l[8:9] == "."]
    ready = next(l for l in lines if "ready on port" in l)
    took = (_ms(ready.split()[0]) - _ms(lines[0].split()[0])) % (24 * 3600 * 1000) / 1000.0
    return c, took


async def wait_fault(d, kind, active, timeout=30):
    """The fault of that kind as the security console's hello shows it, once it is (not) active."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = await hk.connect(d)
        st = (await c.request("hello", token="security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u"))["state"]
        await c.close()
        f = fault(st, kind)
        if bool(f) == active:
            return f
        await asyncio.sleep(0.1)
    raise hk.CheckFailed("the %s fault is %s after %ds" % (kind, "not raised" if active else "still active", timeout))


def fault(state, kind):
    return next((f for f in state["faults"] if f.get("kind") == kind), None)


async def test_external_redis_killed_before_start():
    r = hk.Redis()
    await r.start()
    d = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url)))
    await d.start()
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    codes = [(await kiosk.ok("ticket.issue", category="AB"[i % 2]))["ticket"]["code"] for i in range(8)]
    called = (await staff.ok("call.next"))["ticket"]["code"]
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    await admin.ok("emergency.trigger", playbook="fire")
    before, seq0 = await day_of(d)
    check(before["emergency"], "the fire is active before the kill")
    await d.kill()          # kill -9 of the daemon
    await r.kill()          # and of Redis: it may lose its last second (appendfsync everysec)

    disp, took = await start_timed(d)
    print("  ready from the local copy %.0f ms after the daemon's first log line" % (took * 1000))
    check(took < 1.0, "ready %.2f s after the daemon's first log line, wanted within 1 s" % took)
    check("starts from its local copy" in d.stderr_text(), "no local start in the log")
    hello = await disp.request("hello", token="display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    check(hello["state"]["emergency"].get("active") is True, "display's hello without the emergency: %r"
          % hello["state"]["emergency"])
    check(hello["seq"] >= seq0, "seq %d after the local start, %d before" % (hello["seq"], seq0))
    after, _ = await day_of(d)
    check(after == before, "the day from the local copy %r differs from before the kill %r" % (after, before))
    sec = await hk.connect(d)
    f = fault((await sec.request("hello", token="security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u"))["state"], "redis")
    check(f and f.get("grade"), "no graded redis fault from the start: %r" % f)
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await kiosk.err("ticket.issue", "frozen", category="A")     # the evacuation holds
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    await admin.ok("emergency.clear", reason="drill over")
    codes += [(await kiosk.ok("ticket.issue", category="B"))["ticket"]["code"] for _ in range(3)]
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    await staff.ok("ticket.noshow")
    second = (await staff.ok("call.next"))["ticket"]["code"]
    check(second != called, "the same ticket called twice")

    # kill -9 again while Redis is away: the second local start has everything acknowledged
    mid, seq1 = await day_of(d)
    await d.kill()
    await start_timed(d)
    again, seq2 = await day_of(d)
    check(again == mid and seq2 >= seq1, "second local start lost something: %r, was %r" % (again, mid))

    await r.start()         # Redis back: the local copy goes to the stream, in order, once
    await wait_fault(d, "redis", False)
    _, seq3 = await day_of(d)
    ids = await wait_stream_top(r.sock, seq3)
    check(ids == list(range(1, seq3 + 1)), "stream after the replay: %d entries, not 1..%d in order: %r"
          % (len(ids), seq3, ids[:5] + ["..."] + ids[-5:]))
    await d.stop()
    await d.start()         # restart with Redis up: the same day
    check((await day_of(d)) == (mid, seq3), "restart with Redis up differs from the day before")
    await d.stop()
    os.remove(os.path.join(d.data, "events.journal"))
    await d.start()         # and from Redis alone
    check((await day_of(d)) == (mid, seq3), "restart from Redis alone differs from the day")
    check(await redis_entries(r.sock) == list(range(1, seq3 + 1)), "the stream changed on restart")
    await d.stop()
    await r.stop()


async def test_local_start_from_the_checkpoint():
    """After a rollover the journal is compacted to the day's checkpoint; a start without Redis
    rebuilds the hall from that checkpoint and the events after it."""
    r = hk.Redis()
    await r.start()
    d = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url)), args=["--test-clock"])
    await d.start()
    await issue(d, 4, "A")
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    await admin.ok("clock.advance", ms=24 * 3600 * 1000)     # past the rollover: day.checkpoint
    deadline = time.monotonic() + 30
    while "now starts at the checkpoint" not in d.stderr_text():
        check(time.monotonic() < deadline, "the journal was not compacted after the rollover")
        await asyncio.sleep(0.1)
    await issue(d, 3, "B")
    before, seq0 = await day_of(d)
    await d.kill()
    await r.kill()
    await start_timed(d)
    check("starts from its local copy" in d.stderr_text(), "no local start in the log")
    after, seq1 = await day_of(d)
    check(after == before and seq1 >= seq0, "the day from the compacted journal %r differs from %r" % (after, before))
    await r.start()
    await wait_fault(d, "redis", False)
    _, seq2 = await day_of(d)
    ids = await wait_stream_top(r.sock, seq2)
    check(ids == list(range(1, seq2 + 1)), "stream not 1..%d in order after the replay" % seq2)
    await d.stop()
    await r.stop()


async def test_embedded_redis_damaged_aof():
    d = hk.Daemon()
    await d.start()
    await issue(d, 5, "A")
    before, _ = await day_of(d)
    await d.kill_group()    # the daemon and its redis-server, as a crash of the service
    aofs = [p for p in glob.glob(os.path.join(d.data, "redis", "**", "*.aof"), recursive=True)
            if os.path.getsize(p) > 0]
    check(aofs, "no append-only file under %s/redis" % d.data)
    for p in aofs:          # a damaged file, not a torn tail: redis-server refuses to load it
        with open(p, "r+b") as f:
            f.seek(0)
            f.write(b"#garbage\x00\xff not a command\r\n")
    disp, took = await start_timed(d)
    print("  ready with a damaged AOF %.0f ms after the daemon's first log line" % (took * 1000))
    check(took < 1.0, "ready %.2f s after the daemon's first log line, wanted within 1 s" % took)
    check((await day_of(d))[0] == before, "the day differs from before the crash")
    sec = await hk.connect(d)
    check(fault((await sec.request("hello", token="security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u"))["state"], "redis"), "no redis fault")
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await kiosk.ok("ticket.issue", category="B")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    await staff.ok("call.next")
    # the damaged files moved away: the restarted redis-server is empty and gets the whole day
    aofdir = os.path.join(d.data, "redis", "appendonlydir")
    os.rename(aofdir, aofdir + ".damaged")
    await wait_fault(d, "redis", False)
    _, seq = await day_of(d)
    ids = await wait_stream_top(d.redis_sock(), seq)
    check(ids == list(range(1, seq + 1)), "the new Redis's stream is not 1..%d in order" % seq)
    await d.stop()


async def test_foreign_history_is_not_merged():
    r = hk.Redis()
    await r.start()
    cfg = hk.write_config(hk.demo_config(redis_url=r.url))
    d1 = hk.Daemon(config=cfg)
    await d1.start()
    await issue(d1, 3, "A")
    ours, our_seq = await day_of(d1)
    await wait_stream_top(r.sock, our_seq)
    await d1.kill()
    # another controller (its own data dir) takes the hall over from Redis and goes on
    d2 = hk.Daemon(config=cfg)
    await d2.start()
    await issue(d2, 2, "D")
    _, their_seq = await day_of(d2)
    await d2.stop()
    foreign = await redis_entries(r.sock)
    await r.stop()

    await d1.start()        # Redis away: from the local copy
    check((await day_of(d1))[0] == ours, "local start differs from our day")
    kiosk = await hk.connect(d1, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await kiosk.ok("ticket.issue", category="B")
    await r.start()         # Redis back with the other controller's newer history
    f = await wait_fault(d1, "redis_history", True)
    check("beyond the local copy" in f.get("detail", ""), "fault without the reason: %r" % f)
    check("not merging the local copy" in d1.stderr_text(), "no log line saying why")
    h = await (await hk.connect(d1, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")).ok("health")
    check(h["status"] == "degraded" and not h["redis_up"], "health while not merged: %r" % h)
    await kiosk.ok("ticket.issue", category="B")      # the hall goes on from its own copy
    check(await redis_entries(r.sock) == foreign, "Redis's history was changed")
    mine, _ = await day_of(d1)

    await d1.kill()         # kill -9, restart with Redis up: still refused, still serving our day
    await d1.start()
    text = d1.stderr_text()
    check("not merging the local copy" in text, "restart with Redis up merged: %s" % text[-1500:])
    check((await day_of(d1))[0] == mine, "the restart lost our local tickets")
    await wait_fault(d1, "redis_history", True)
    check(await redis_entries(r.sock) == foreign, "Redis's history was changed by the restart")
    check(their_seq > our_seq, "the other controller's seq %d is beyond ours %d" % (their_seq, our_seq))
    await d1.stop()
    await r.stop()


hk.run([test_external_redis_killed_before_start, test_local_start_from_the_checkpoint, test_embedded_redis_damaged_aof,
        test_foreign_history_is_not_merged], timeout=240)
