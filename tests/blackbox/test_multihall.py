#!/usr/bin/python3
"""One Redis, many halls (issue #8, item 1): three daemons with different hall ids share one
redis-server and work at the same time. No hall ever sees another's data: state, seq, ticket
codes and the stream contents (read straight from Redis) are each hall's own; every key a hall
writes is under hall:{ID}: and all of them fall in one Redis Cluster slot; a restarted hall
restores exactly its own day."""
import asyncio
import os
import subprocess

import hk
import resp
from hk import check

# each hall issues only its own categories, so a ticket code tells which hall it came from
HALLS = {"north": "A", "south": "B", "east-2": "D"}


async def work(d, cats, n):
    kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" if "A" in cats or "B" in cats else "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
    await staff.ok("window.open", window=1 if "A" in cats or "B" in cats else 3)
    issued, called = [], []
    for i in range(n):
        issued.append((await kiosk.ok("ticket.issue", category=cats))["ticket"]["code"])
        if i % 3 == 2:
            r = await staff.ok("call.next")
            called.append(r["ticket"]["code"])
            await staff.ok("ticket.noshow")
    return issued, called, kiosk


async def snapshot(d):
    c = await hk.connect(d)
    h = await c.hello("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    return h["seq"], h["state"]


async def test_three_halls_share_one_redis():
    r = hk.Redis()
    await r.start()
    daemons = {}
    for hall in HALLS:
        daemons[hall] = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url, hall_id=hall)))
    await asyncio.gather(*(d.start() for d in daemons.values()))
    results = await asyncio.gather(*(work(daemons[h], HALLS[h], 30 + 5 * i) for i, h in enumerate(HALLS)))
    done = dict(zip(HALLS, results))
    for hall in HALLS:
        await done[hall][2].queue_settled()   # the kiosk's: the last coalesced queue.changed is out

    before = {}
    for hall, d in daemons.items():
        issued, called, kiosk = done[hall]
        seq, st = await snapshot(d)
        before[hall] = (seq, st)
        check(st["hall"]["id"] == hall, "%s answers as hall %r" % (hall, st["hall"]))
        waiting = {c: q["waiting"] for c, q in st["queues"].items() if q["waiting"]}
        check(waiting == {HALLS[hall]: len(issued) - len(called)},
              "%s waiting %r, expected only %s: %d" % (hall, waiting, HALLS[hall], len(issued) - len(called)))
        check(all(code.startswith(HALLS[hall]) for code in issued), "%s issued %r" % (hall, issued[:5]))
        # its own events only, pushed and stored
        foreign = [e for e in kiosk.events if e.get("ev") == "ticket.issued" and e["category"] != HALLS[hall]]
        check(not foreign, "%s pushed another hall's tickets: %r" % (hall, foreign[:3]))
        events = await resp.hall_events(r.url, hall)
        seqs = [e[0] for e in events]
        check(seqs == list(range(1, seq + 1)), "%s: stream seqs 1..%d expected, got %d entries ending %r"
              % (hall, seq, len(seqs), seqs[-3:]))
        codes = [e[3]["code"] for e in events if e[1] == "ticket.issued"]
        check(codes == issued, "%s: stream holds tickets %r..., issued %r..." % (hall, codes[:5], issued[:5]))
        stored_seq = await resp.cmd(r.url, "GET", "hall:{%s}:seq" % hall)
        check(int(stored_seq) == seq, "%s: hall:{%s}:seq is %r, the hall is at %d" % (hall, hall, stored_seq, seq))

    # every key is a hall's, and each hall's keys share one cluster slot
    keys = []
    cursor = b"0"
    while True:
        cursor, batch = await resp.cmd(r.url, "SCAN", cursor, "COUNT", 1000)
        keys += [k.decode() for k in batch]
        if cursor == b"0":
            break
    slots = {}
    for k in keys:
        hall = next((h for h in HALLS if k.startswith("hall:{%s}:" % h)), None)
        check(hall is not None, "key %r is not under hall:{ID}: of a hall" % k)
        slots.setdefault(hall, set()).add(resp.key_slot(k))
    check(set(slots) == set(HALLS), "keys of halls %r only" % sorted(slots))
    for hall, s in slots.items():
        check(s == {resp.key_slot("{%s}" % hall)}, "keys of %s fall in slots %r" % (hall, s))
    # our CRC16 is Redis's: ask a cluster-enabled redis-server (it answers KEYSLOT unconfigured)
    cl = hk.tmpdir("cluster")
    port = hk.free_port()
    while port > 55535:                # the cluster bus listens on port + 10000
        port = hk.free_port()
    p = hk._spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                   "--cluster-config-file", os.path.join(cl, "nodes.conf"), "--dir", cl, "--save", "",
                   "--appendonly", "no", "--logfile", os.path.join(cl, "log")], subprocess.DEVNULL, subprocess.DEVNULL)
    for _ in range(100):
        if p.poll() is not None:
            raise hk.CheckFailed("the cluster-enabled redis-server exited: see %s" % os.path.join(cl, "log"))
        try:
            await resp.cmd(("127.0.0.1", port), "PING")
            break
        except (OSError, ConnectionError):
            await asyncio.sleep(0.05)
    for k in keys + ["hall:{x}:a", "plain", "a{}b", "{}{z}"]:
        want = await resp.cmd(("127.0.0.1", port), "CLUSTER", "KEYSLOT", k)
        check(want == resp.key_slot(k), "slot of %r: Redis says %d, we say %d" % (k, want, resp.key_slot(k)))
    p.kill()
    print("  %d keys, %s; each hall's keys in one slot (%s)"
          % (len(keys), ", ".join("%s seq %d" % (h, before[h][0]) for h in HALLS),
             ", ".join("%s=%d" % (h, min(s)) for h, s in slots.items())))

    # a restart of one hall, from Redis alone, restores its own day and nothing else
    south = daemons["south"]
    await south.stop()
    os.remove(os.path.join(south.data, "events.journal"))
    await south.start()
    seq, st = await snapshot(south)
    check(seq == before["south"][0], "south's seq after restart %d, before %d" % (seq, before["south"][0]))
    check(st["queues"] == before["south"][1]["queues"], "south's queues after restart %r, before %r"
          % (st["queues"], before["south"][1]["queues"]))
    check(st["recent_calls"] == before["south"][1]["recent_calls"], "south's recent calls differ after restart")
    # the others went on undisturbed while it restarted, and still write their own streams
    for hall in ("north", "east-2"):
        k = await hk.connect(daemons[hall], "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
        await k.ok("ticket.issue", category=HALLS[hall])
        seq2, _ = await snapshot(daemons[hall])
        check(seq2 > before[hall][0], "%s did not move on" % hall)
        await k.queue_settled()
    seq3, _ = await snapshot(south)
    check(seq3 == seq, "south's seq moved (%d -> %d) by others' work" % (seq, seq3))

    # all three restarted at once, from Redis alone: each gets exactly its own day back
    before = {h: await snapshot(d) for h, d in daemons.items()}
    for d in daemons.values():
        await d.stop()
        os.remove(os.path.join(d.data, "events.journal"))
    await asyncio.gather(*(d.start() for d in daemons.values()))
    for hall, d in daemons.items():
        seq, st = await snapshot(d)
        check(seq == before[hall][0] and st["queues"] == before[hall][1]["queues"]
              and st["hall"]["id"] == hall,
              "%s after a common restart: seq %d (before %d), queues %r" % (hall, seq, before[hall][0], st["queues"]))
    for d in daemons.values():
        await d.stop()
    await r.stop()


if __name__ == "__main__":
    hk.run([test_three_halls_share_one_redis], timeout=90)
