#!/usr/bin/python3
"""The embedded Redis (contract.md): with no redis.url the daemon runs its own redis-server child
on DATA/redis.sock, restarts it if it dies, keeps the hall working meanwhile (nothing acknowledged
is lost), and stops it on exit."""
import asyncio
import os

import hk
from hk import check


async def issuer(d, acked, stop, errors, category):
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    try:
        while not stop.is_set():
            try:
                r = await c.request("ticket.issue", category=category, timeout=40)
            except Exception as e:
                errors.append("ticket.issue: %s" % e)
                return
            if r.get("t") == "ok":
                acked.append(r["ticket"]["code"])
            else:
                errors.append("ticket.issue -> %r" % r)
                await asyncio.sleep(0.05)
    finally:
        await c.close()


async def wait_new_redis(d, old, timeout=20):
    for _ in range(int(timeout * 10)):
        pid = d.redis_pid()
        if pid and pid != old and hk.pid_alive(pid):
            return pid
        await asyncio.sleep(0.1)
    return None


async def waiting_total(d):
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    st = (await c.ok("state.get"))["state"]
    await c.close()
    return sum(q["waiting"] for q in st["queues"].values())


async def test_child_runs_on_data_socket():
    d = hk.Daemon()
    await d.start()
    pid = d.redis_pid()
    check(pid and hk.pid_alive(pid), "no redis-server child found for %s" % d.data)
    check(os.path.exists(d.redis_sock()), "no socket %s" % d.redis_sock())
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await k.ok("ticket.issue", category="A")
    await k.close()
    await d.stop()
    for _ in range(50):
        if not hk.pid_alive(pid):
            break
        await asyncio.sleep(0.1)
    check(not hk.pid_alive(pid), "redis-server child %d still runs after the daemon stopped" % pid)
    check(not hk.redis_pids_on(d.redis_sock()), "a redis-server still serves %s" % d.redis_sock())


async def test_kill9_redis_while_issuing():
    d = hk.Daemon()
    await d.start()
    disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    acked, errors = [], []
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(issuer(d, acked, stop, errors, cat)) for cat in "ABC"]
    await hk.until("tickets before the first kill", lambda: len(acked) >= 10 or errors, 20)
    kills = []
    for rnd in range(3):
        old = d.redis_pid()
        check(old, "round %d: no redis-server child" % rnd)
        n_before = len(acked)
        os.kill(old, 9)
        kills.append(old)
        new = await wait_new_redis(d, old)
        check(d.alive(), "round %d: the daemon died with its redis-server" % rnd)
        check(new, "round %d: the daemon did not restart redis-server within 20 s (old pid %d)" % (rnd, old))
        # requests keep completing: more tickets are acknowledged after the restart
        for _ in range(200):
            if len(acked) > n_before + 5 or errors:
                break
            await asyncio.sleep(0.1)
        check(not errors, "round %d: %s" % (rnd, errors[:3]))
        check(len(acked) > n_before + 5, "round %d: no ticket acknowledged since redis-server was killed "
              "(%d before, %d now)" % (rnd, n_before, len(acked)))
    stop.set()
    await asyncio.gather(*tasks)
    check(not errors, "errors: %s" % errors[:3])
    check(len(set(acked)) == len(acked), "a code was acknowledged twice")
    # nothing acknowledged is lost: every reply came, so the waiting count is exactly the acked count
    total = await waiting_total(d)
    check(total == len(acked), "%d tickets waiting, %d acknowledged" % (total, len(acked)))
    ok = await disp.wait_for(lambda c: sum(1 for e in c.events if e.get("ev") == "ticket.issued") >= len(acked), 10)
    check(ok, "the display saw %d ticket.issued, %d acknowledged"
          % (sum(1 for e in disp.events if e.get("ev") == "ticket.issued"), len(acked)))
    # no event meant for the display is missing: each one's prev is the one before it (the Redis
    # fault events between them are for the hall's people, docs/protocol.md "Numbering")
    evs = disp.events
    check(all(b["seq"] > a["seq"] and b.get("prev") == a["seq"] for a, b in zip(evs, evs[1:])),
          "the display lost an event across the redis restarts: %r" %
          [(a["seq"], b["seq"], b.get("prev")) for a, b in zip(evs, evs[1:]) if b.get("prev") != a["seq"]][:5])
    await disp.close()
    # and it is durable: a clean restart of the daemon restores every acknowledged ticket
    last = d.redis_pid()
    await d.stop()
    for _ in range(50):
        if not last or not hk.pid_alive(last):
            break
        await asyncio.sleep(0.1)
    check(not last or not hk.pid_alive(last), "redis-server %s outlived the daemon's SIGTERM" % last)
    for pid in kills:
        check(not hk.pid_alive(pid), "killed redis-server %d still alive (zombie not reaped?)" % pid)
    await d.start()
    total2 = await waiting_total(d)
    check(total2 == len(acked), "after a restart %d tickets waiting, %d were acknowledged" % (total2, len(acked)))
    await d.stop()


async def test_redis_stopped_for_a_while():
    """SIGSTOP the child (Redis hangs rather than dies): the hall keeps answering, and once it is
    continued, nothing acknowledged meanwhile is lost."""
    d = hk.Daemon()
    await d.start()
    pid = d.redis_pid()
    check(pid, "no redis-server child")
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    os.kill(pid, 19)     # SIGSTOP
    acked = []
    try:
        for _ in range(10):
            try:
                r = await k.request("ticket.issue", category="D", timeout=15)
            except hk.CheckFailed as e:
                raise hk.CheckFailed("%s while redis-server hangs (SIGSTOP); contract: Redis going away does "
                                     "not stop the hall (local journal)" % e)
            if r.get("t") == "ok":
                acked.append(r["ticket"]["code"])
            else:
                raise hk.CheckFailed("ticket.issue while redis hangs -> %r" % r)
    finally:
        os.kill(pid, 18)  # SIGCONT
    await k.close()

    async def caught_up():     # Redis has what the journal acknowledged meanwhile
        h = await (await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")).ok("health")
        return h["redis_up"] and h["pending"] == 0
    await hk.until("Redis caught up after SIGCONT", caught_up, 20)
    check(await waiting_total(d) == len(acked), "waiting count differs from %d acknowledged" % len(acked))
    await d.stop()
    await d.start()
    check(await waiting_total(d) == len(acked), "after restart, waiting count differs from %d acknowledged"
          % len(acked))
    await d.stop()


async def test_redis_emptied_restored_from_journal():
    """Redis loses everything (its append-only file deleted while the daemon was down): the daemon
    gives it the day back from its own local journal; nothing acknowledged is lost."""
    import shutil
    d = hk.Daemon()
    await d.start()
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    codes = [(await kiosk.ok("ticket.issue", category="AB"[i % 2]))["ticket"]["code"] for i in range(12)]
    called = (await staff.ok("call.next"))["ticket"]["code"]
    seq = (await (await hk.connect(d)).hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj"))["seq"]
    before = (await kiosk.ok("state.get"))["state"]
    rpid = d.redis_pid()
    await d.kill()
    # the redis-server child ends with its parent (SIGTERM): gone before its files are
    await hk.until("the redis-server child exits", lambda: not rpid or not hk.pid_alive(rpid))
    shutil.rmtree(os.path.join(d.data, "redis"))
    await d.start()
    check("restored from the local" in d.stderr_text(), "no journal restore in the log")
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    h = await admin.request("state.get")
    after = h["state"]
    for cat in "AB":
        check(after["queues"][cat]["waiting"] == before["queues"][cat]["waiting"],
              "category %s: %r waiting before, %r after" % (cat, before["queues"][cat], after["queues"][cat]))
    w1 = [w for w in after["windows"] if w["id"] == 1][0]
    check(w1["current"] and w1["current"]["code"] == called, "window 1 after the restore: %r" % w1)
    new = (await kiosk_again(d)).get("ticket", {}).get("code")
    check(new not in codes, "code %s issued again after the restore" % new)
    h2 = await (await hk.connect(d)).hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    check(h2["seq"] > seq, "seq did not continue: %s then %s" % (seq, h2["seq"]))
    await d.stop()


async def kiosk_again(d):
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    return await k.ok("ticket.issue", category="A")


hk.run([test_redis_emptied_restored_from_journal, test_child_runs_on_data_socket, test_kill9_redis_while_issuing, test_redis_stopped_for_a_while],
       timeout=150)
