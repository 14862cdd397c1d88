#!/usr/bin/python3
"""Durability (contract.md): every acknowledged change survives kill -9 of the daemon; a restart
on the same data dir restores the queue (same waiting tickets, same order), the windows, the
recent calls; ticket codes are never reused and seq continues."""
import asyncio
import random
import re

import hk
from hk import check

STAFF = {1: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 2: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", 3: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"}


def window_of(state, wid):
    return next(w for w in state["windows"] if w["id"] == wid)


def code_num(code):
    m = re.match(r"^[A-Z](\d+)$", code)
    check(m, "code %r is not LETTER+digits" % code)
    return int(m.group(1))


async def drain(d, windows=(1, 2, 3), reopen=True):
    """Calls every waiting ticket through windows 1-3 (they cover A-D); returns [(code, category)]."""
    called = []
    staff = {}
    for wid in windows:
        s = await hk.connect(d, STAFF[wid])
        if reopen:
            r = await s.request("window.open", window=wid)
            r2 = await s.request("window.resume")        # a window left paused
            check(r.get("t") == "ok" or r2.get("t") == "ok", "staff cannot take window %d: %r / %r" % (wid, r, r2))
        staff[wid] = s
    for wid, s in staff.items():
        for _ in range(100000):
            r = await s.request("call.next")
            if r.get("t") == "err" and r.get("code") == "queue_empty":
                break
            check(r.get("t") == "ok", "call.next at window %d -> %r" % (wid, r))
            t = r["ticket"]
            called.append((t["code"], t["category"]))
            await s.ok("ticket.noshow")
    for s in staff.values():
        await s.close()
    return called


async def test_restart_restores_everything():
    d = hk.Daemon()
    await d.start()
    disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    s1 = await hk.connect(d, STAFF[1])
    s2 = await hk.connect(d, STAFF[2])
    s3 = await hk.connect(d, STAFF[3])
    acked = []                                   # every ok reply, in order
    for wid, s in ((1, s1), (2, s2), (3, s3)):
        acked.append(await s.ok("window.open", window=wid))
    issued = []
    for i in range(20):
        r = await kiosk.ok("ticket.issue", category="ABCDAB"[i % 6])
        acked.append(r)
        issued.append((r["ticket"]["code"], r["ticket"]["category"]))
    r = await s1.ok("call.next"); acked.append(r); done_code = r["ticket"]["code"]
    acked.append(await s1.ok("ticket.start"))
    acked.append(await s1.ok("ticket.finish", outcome="承诺件"))
    acked.append(await kiosk.ok("ticket.rate", code=done_code, score=4))
    r = await s1.ok("call.next"); acked.append(r); cur1 = r["ticket"]["code"]
    acked.append(await s1.ok("call.recall"))
    r = await s3.ok("call.next"); acked.append(r); cur3 = r["ticket"]["code"]
    acked.append(await s3.ok("ticket.start"))
    acked.append(await s2.ok("window.pause", reason="系统维护"))
    called = {done_code, cur1, cur3}
    waiting = [(c, cat) for c, cat in issued if c not in called]
    before = (await disp.ok("state.get"))["state"]
    await disp.wait_for(lambda c: any(e.get("ev") == "window.changed" and e["window"].get("status") == "paused"
                                      for e in c.events), 5)
    last_seq = max(e["seq"] for e in disp.events)
    redis_before = d.redis_pid()

    await d.kill()                                # kill -9, the daemon alone
    for c in (disp, kiosk, s1, s2, s3):
        await c.close()
    await d.start()

    disp = await hk.connect(d)
    h = await disp.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    check(h.get("t") == "ok", "hello after restart %r" % h)
    check(h["seq"] >= last_seq, "seq after restart %s < last seen %s" % (h["seq"], last_seq))
    after = h["state"]
    for cat in hk.DEMO_CATEGORIES:
        want = sum(1 for _, c in waiting if c == cat)
        check(after["queues"][cat]["waiting"] == want, "queue %s waiting %s after restart, %s before"
              % (cat, after["queues"][cat]["waiting"], want))
        check(after["queues"][cat]["waiting"] == before["queues"][cat]["waiting"], "queue %s differs" % cat)
    for wb in before["windows"]:
        wa = window_of(after, wb["id"])
        for k in ("status", "staff", "pause_reason"):
            check(wa.get(k) == wb.get(k), "window %s %s: %r before, %r after" % (wb["id"], k, wb.get(k), wa.get(k)))
        cb, ca = wb.get("current"), wa.get("current")
        check((cb is None) == (ca is None), "window %s current %r before, %r after" % (wb["id"], cb, ca))
        if cb:
            for k in ("code", "category", "state", "recalls"):
                check(ca.get(k) == cb.get(k), "window %s current.%s %r before, %r after" % (wb["id"], k, cb.get(k), ca.get(k)))
    check(window_of(after, 1)["current"]["code"] == cur1 and window_of(after, 3)["current"]["state"] == "serving",
          "current tickets after restart %r / %r" % (window_of(after, 1)["current"], window_of(after, 3)["current"]))
    rb = [(x["code"], x["window"], bool(x["recall"])) for x in before["recent_calls"]]
    ra = [(x["code"], x["window"], bool(x["recall"])) for x in after["recent_calls"]]
    check(ra == rb, "recent_calls %r before, %r after" % (rb, ra))

    # the day goes on: seq continues, codes continue, the restored window can finish its ticket
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    r = await kiosk.ok("ticket.issue", category="A")
    new = r["ticket"]["code"]
    check(new not in [c for c, _ in issued], "code %s reused after restart" % new)
    max_a = max(code_num(c) for c, cat in issued if cat == "A")
    check(code_num(new) > max_a, "A code %s after restart does not continue after A%03d" % (new, max_a))
    a_waiting = sum(1 for _, c in waiting if c == "A")
    check(r["ticket"].get("ahead") == a_waiting, "ahead %r after restart, %d A tickets were waiting"
          % (r["ticket"].get("ahead"), a_waiting))
    ev = await disp.wait_event("ticket.issued", lambda e: e.get("code") == new)
    check(ev["seq"] > last_seq, "first new event seq %s <= %s (seen before the kill)" % (ev["seq"], last_seq))
    check(disp.events[0]["seq"] == h["seq"] + 1, "seq after restart: hello said %s, next event %s"
          % (h["seq"], disp.events[0]["seq"]))
    s3 = await hk.connect(d, STAFF[3])
    r = await s3.request("window.open", window=3)
    check(r.get("t") == "ok", "staff 0003 cannot take back window 3 after restart: %r" % r)
    r = await s3.ok("ticket.finish", outcome="即办件")
    check(r["ticket"]["code"] == cur3, "finish after restart finished %r, expected %s" % (r["ticket"], cur3))
    s1 = await hk.connect(d, STAFF[1])
    await s1.ok("window.open", window=1)
    await s1.ok("ticket.noshow")
    await s1.close()
    await s3.close()
    await kiosk.close()

    # call.next order continues: every waiting ticket comes out, each category in issue order
    out = await drain(d)
    waiting.append((new, "A"))
    check(sorted(out) == sorted(waiting), "tickets called after restart %r, waiting before %r" % (out, waiting))
    for cat in hk.DEMO_CATEGORIES:
        got = [c for c, k in out if k == cat]
        want = [c for c, k in waiting if k == cat]
        check(got == want, "category %s called in order %r, issued in order %r" % (cat, got, want))
    await disp.close()
    if redis_before:
        check(not hk.pid_alive(redis_before) or redis_before == d.redis_pid(),
              "the redis-server of the killed daemon (pid %d) still runs next to the new one (pid %s)"
              % (redis_before, d.redis_pid()))
    await d.stop()


async def burst(d, n_clients=3):
    """n_clients kiosks issue tickets as fast as they can until the connection dies."""
    acked = []
    sent = [0]
    stop = asyncio.Event()

    async def client(i):
        try:
            c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        except Exception:
            return
        try:
            while not stop.is_set():
                batch = []
                for j in range(4):
                    sent[0] += 1
                    batch.append(asyncio.ensure_future(c.request("ticket.issue", category="ABCD"[(i + j) % 4], timeout=15)))
                results = await asyncio.gather(*batch, return_exceptions=True)
                for r in results:
                    if isinstance(r, dict) and r.get("t") == "ok":
                        acked.append(r["ticket"]["code"])
                    elif isinstance(r, dict):
                        raise hk.CheckFailed("ticket.issue during the burst -> %r" % r)
                if any(isinstance(r, BaseException) for r in results):
                    return
        finally:
            await c.close()

    tasks = [asyncio.ensure_future(client(i)) for i in range(n_clients)]
    return tasks, acked, sent, stop


async def test_kill9_during_burst_5_times():
    d = hk.Daemon()
    await d.start()
    all_acked = []
    sent_total = 0
    for rnd in range(5):
        tasks, acked, sent, stop = await burst(d)
        # kill in the middle of the burst (requests in flight), after a random number of acks
        target = random.randint(50, 300)
        for _ in range(3000):
            if len(acked) >= target or all(t.done() for t in tasks):
                break
            await asyncio.sleep(0.005)
        await d.kill()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=False)
        check(acked, "round %d: no ticket was acknowledged before the kill" % rnd)
        all_acked += acked
        sent_total += sent[0]
        check(len(set(all_acked)) == len(all_acked), "round %d: a code was acknowledged twice: %r"
              % (rnd, sorted(c for c in set(all_acked) if all_acked.count(c) > 1)))
        await d.start()
        c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        st = (await c.ok("state.get"))["state"]
        waiting = sum(q["waiting"] for q in st["queues"].values())
        check(waiting >= len(all_acked), "round %d: %d tickets waiting after restart, %d were acknowledged"
              % (rnd, waiting, len(all_acked)))
        check(waiting <= sent_total, "round %d: %d waiting, only %d requested" % (rnd, waiting, sent_total))
        await c.close()
    out = await drain(d)
    codes = [c for c, _ in out]
    check(len(set(codes)) == len(codes), "a code was called twice: %r" % sorted(c for c in set(codes) if codes.count(c) > 1))
    lost = set(all_acked) - set(codes)
    check(not lost, "%d acknowledged tickets lost: %r" % (len(lost), sorted(lost)[:20]))
    await d.stop()


async def test_no_orphan_redis_after_kill9():
    """After kill -9 of the daemon and a restart on the same data dir, one redis-server serves the
    data dir (the embedded child of the killed daemon does not linger next to the new one)."""
    d = hk.Daemon()
    await d.start()
    old = d.redis_pid()
    if old is None:
        raise hk.Skip("cannot find the embedded redis-server child")
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await k.ok("ticket.issue", category="A")
    await k.close()
    await d.kill()
    await d.start()
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await k.ok("ticket.issue", category="A")
    await k.close()
    for _ in range(100):
        if not hk.pid_alive(old) or old == d.redis_pid():
            break
        await asyncio.sleep(0.1)
    new = d.redis_pid()
    check(not hk.pid_alive(old) or old == new,
          "redis-server pid %d of the killed daemon still runs; the new daemon uses pid %s" % (old, new))
    await d.stop()


async def test_kill9_with_a_large_log():
    """A busy day: thousands of events in Redis. After kill -9 the restarted daemon must wait for
    Redis to finish loading its append-only file (Redis answers LOADING meanwhile) and come up
    with everything restored, not give up."""
    d = hk.Daemon()
    await d.start()
    ks = [await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq") for _ in range(4)]
    acked = 0
    while acked < 30000:
        rs = await asyncio.gather(*(ks[i % 4].ok("ticket.issue", category="ABCD"[i % 4], timeout=30)
                                    for i in range(200)))
        acked += len(rs)
    for k in ks:
        await k.close()
    await d.kill()
    await d.start(timeout=30)
    check(await_total(await waiting_state(d)) == acked, "tickets waiting after restart differ from %d acked" % acked)
    await d.stop()
    await d.start(timeout=30)          # and a clean restart loads the same file again
    check(await_total(await waiting_state(d)) == acked, "tickets waiting after a clean restart differ from %d acked"
          % acked)
    await d.stop()


async def waiting_state(d):
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    st = (await c.ok("state.get"))["state"]
    await c.close()
    return st


def await_total(st):
    return sum(q["waiting"] for q in st["queues"].values())


hk.run([test_restart_restores_everything, test_kill9_during_burst_5_times, test_no_orphan_redis_after_kill9,
        test_kill9_with_a_large_log],
       timeout=150)
