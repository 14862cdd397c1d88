#!/usr/bin/python3
"""Redis Sentinel (issue #8, item 2): on loopback a master, a replica and three sentinels
(quorum 2); a hall configured with `redis: {sentinels, master}` issues tickets continuously while
the master is killed with SIGKILL. The daemon must follow the failover to the promoted replica,
the hall must keep issuing meanwhile (local journal), and afterwards the new master's stream must
hold every acknowledged ticket, seq 1..N without a gap or a duplicate. Also: the config errors."""
import asyncio
import os
import time

import hk
import resp
from hk import check

MASTER = "hallmaster"


class Server:
    """A redis-server on 127.0.0.1 (data node or, with sentinel=True, a sentinel)."""

    def __init__(self, name, args=(), sentinel_conf=None):
        self.dir = hk.tmpdir(name)
        self.port = hk.free_port()
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = None
        if sentinel_conf is not None:
            conf = os.path.join(self.dir, "sentinel.conf")
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\ndir %s\n%s" % (self.port, self.dir, sentinel_conf))
            self.argv = ["redis-server", conf, "--sentinel", "--daemonize", "no"]
        else:
            self.argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                         "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize",
                         "no"] + list(args)

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    async def start(self, timeout=10):
        with open(self.log, "ab") as lf:
            self.proc = hk._spawn(self.argv, lf, lf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, "redis-server exited: " + open(self.log).read()[-800:])
            try:
                if await resp.cmd(self.addr, "PING") == b"PONG":
                    return self
            except (OSError, ConnectionError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.05)
        raise hk.CheckFailed("redis-server on port %d not answering" % self.port)

    async def kill(self):
        self.proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, self.proc.wait)


async def wait_for(what, pred, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = await pred()
            if v:
                return v
        except (OSError, ConnectionError, asyncio.TimeoutError, resp.RedisError):
            pass
        check(time.monotonic() < deadline, "not within %ss: %s" % (timeout, what))
        await asyncio.sleep(0.1)


def sentinel_config(hall_id, sentinels, master=MASTER, extra=""):
    text = hk.demo_config(hall_id=hall_id)
    line = "redis: { sentinels: [%s], master: %s%s }" % (", ".join('"127.0.0.1:%d"' % s.port for s in sentinels),
                                                       master, extra)
    return text.replace("\nhours:", "\n" + line + "\nhours:", 1)


async def setup_cluster():
    master = await Server("master").start()
    replica = await Server("replica", ["--replicaof", "127.0.0.1", str(master.port)]).start()
    await wait_for("the replica in sync", lambda: _in_sync(replica), 15)
    conf = ("sentinel monitor %s 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds %s 1000\n"
            "sentinel failover-timeout %s 4000\n"
            "sentinel parallel-syncs %s 1\n") % (MASTER, master.port, MASTER, MASTER, MASTER)
    sentinels = [await Server("sentinel%d" % i, sentinel_conf=conf).start() for i in range(3)]

    async def all_known():
        for s in sentinels:
            if len(await resp.cmd(s.addr, "SENTINEL", "replicas", MASTER)) < 1:
                return False
            if len(await resp.cmd(s.addr, "SENTINEL", "sentinels", MASTER)) < 2:
                return False
        return True
    await wait_for("sentinels that know the replica and each other", all_known, 20)
    return master, replica, sentinels


async def _in_sync(replica):
    info = await resp.cmd(replica.addr, "INFO", "replication")
    return b"master_link_status:up" in info


async def more_than(acked, n, since=0.0):
    """More than n of the acknowledged (time, code) pairs since the monotonic time `since`."""
    return sum(1 for t, _ in acked if t >= since) > n


async def issue_loop(d, acked, stop, errors):
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False)
    while not stop.is_set():
        r = await c.request("ticket.issue", category="AB"[len(acked) % 2], timeout=30)
        if r.get("t") == "ok":
            acked.append((time.monotonic(), r["ticket"]["code"]))
        else:
            errors.append(r)
        await asyncio.sleep(0.02)


async def test_failover_follows_the_new_master():
    master, replica, sentinels = await setup_cluster()
    d = hk.Daemon(config=hk.write_config(sentinel_config("senti", sentinels)))
    await d.start()
    check("says master %s is at 127.0.0.1:%d" % (MASTER, master.port) in d.stderr_text(),
          "the daemon did not log the master the sentinels named:\n" + d.stderr_text()[-1500:])
    acked, errors, stop = [], [], asyncio.Event()
    tasks = [asyncio.create_task(issue_loop(d, acked, stop, errors)) for _ in range(2)]
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    await wait_for("tickets before the failover", lambda: more_than(acked, 5), 20)
    before = len(acked)
    check(before > 5, "only %d tickets before the failover" % before)

    t_kill = time.monotonic()
    await master.kill()
    followed = "link up (127.0.0.1:%d (master %s))" % (replica.port, MASTER)
    await wait_for("the daemon on the promoted replica", lambda: _logged(d, followed), 40)
    t_follow = time.monotonic() - t_kill
    during = sum(1 for t, _ in acked if t_kill <= t <= t_kill + t_follow)
    t_new = time.monotonic()          # and a few more on the new master
    await wait_for("tickets on the new master", lambda: more_than(acked, 5, t_new), 20)
    stop.set()
    await asyncio.gather(*tasks)
    check(not errors, "ticket.issue failed during the failover: %r" % errors[:3])
    check(during > 0, "no ticket was issued while the master was away (%.1f s)" % t_follow)

    await admin.queue_settled()       # the last coalesced queue.changed (within 200 ms) is out

    async def drained():
        h = await (await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")).ok("health")
        return h["redis_up"] and h["pending"] == 0 and h
    h = await wait_for("everything confirmed by the new master", drained, 20)
    role = await resp.cmd(replica.addr, "ROLE")
    check(role[0] == b"master", "the replica was not promoted: %r" % role)
    events = await resp.hall_events(replica.addr, "senti")
    seqs = [e[0] for e in events]
    check(seqs == list(range(1, len(seqs) + 1)), "the new master's stream has gaps or duplicates: %s..."
          % [s for i, s in enumerate(seqs) if s != i + 1][:5])
    check(seqs[-1] == h["seq"], "the new master ends at %d, the hall at %d" % (seqs[-1], h["seq"]))
    codes = [e[3]["code"] for e in events if e[1] == "ticket.issued"]
    check(len(codes) == len(set(codes)), "a ticket.issued is stored twice")
    missing = set(c for _, c in acked) - set(codes)
    check(not missing, "%d acknowledged tickets are not in the new master's stream: %s"
          % (len(missing), sorted(missing)[:5]))
    log = d.stderr_text()
    check("failover" in log and "moved from 127.0.0.1:%d to 127.0.0.1:%d" % (master.port, replica.port) in log,
          "the failover was not logged:\n" + log[-2000:])
    print("  followed the failover in %.1f s; %d tickets acknowledged meanwhile, %d in all; new master holds "
          "seq 1..%d" % (t_follow, during, len(acked), seqs[-1]))

    # a restart restores the day from the new master (the sentinels now name it)
    await d.stop()
    os.remove(os.path.join(d.data, "events.journal"))
    await d.start()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")
    st = (await admin.ok("state.get"))["state"]
    waiting = sum(q["waiting"] for q in st["queues"].values())
    check(waiting == len(acked), "after a restart from the new master: %d waiting, %d acknowledged"
          % (waiting, len(acked)))

    # the old master comes back (as a replica), then a manual failover demotes the current master
    # under load: the daemon sees its link killed or its writes refused (-READONLY) and follows
    await master.start()

    async def old_is_replica():
        for r in await resp.cmd(sentinels[0].addr, "SENTINEL", "replicas", MASTER):
            f = dict(zip(r[::2], r[1::2]))
            if int(f[b"port"]) == master.port and b"s_down" not in f[b"flags"] and \
                    f.get(b"master-link-status") == b"ok":
                return True
        return False
    await wait_for("the old master back as a synced replica", old_is_replica, 40)
    acked2, stop = [], asyncio.Event()
    tasks = [asyncio.create_task(issue_loop(d, acked2, stop, errors)) for _ in range(2)]
    await wait_for("tickets before the manual failover", lambda: more_than(acked2, 5), 20)
    t0 = time.monotonic()

    async def failover():      # NOGOODSLAVE while the sentinel has not yet judged the replica fit
        return await resp.cmd(sentinels[1].addr, "SENTINEL", "FAILOVER", MASTER) == b"OK"
    await wait_for("SENTINEL FAILOVER accepted", failover, 15)
    back = "link up (127.0.0.1:%d (master %s))" % (master.port, MASTER)
    await wait_for("the daemon back on the old master", lambda: _logged(d, back), 40)
    t_back = time.monotonic() - t0
    t_old = time.monotonic()
    await wait_for("tickets on the old master", lambda: more_than(acked2, 5, t_old), 20)
    stop.set()
    await asyncio.gather(*tasks)
    await admin.queue_settled()       # the last coalesced queue.changed is out
    check(not errors, "ticket.issue failed during the manual failover: %r" % errors[:3])
    h = await wait_for("everything confirmed", drained, 20)
    events = await resp.hall_events(master.addr, "senti")
    seqs = [e[0] for e in events]
    check(seqs == list(range(1, h["seq"] + 1)), "after the manual failover the stream (%d entries, the hall at %d) "
          "differs from 1..N at %s" % (len(seqs), h["seq"], [(i + 1, s) for i, s in enumerate(seqs) if s != i + 1][:5]))
    codes = set(e[3]["code"] for e in events if e[1] == "ticket.issued")
    missing = set(c for _, c in acked + acked2) - codes
    check(not missing, "%d acknowledged tickets lost in the manual failover: %s" % (len(missing), sorted(missing)[:5]))
    print("  manual failover back to the old master followed in %.1f s; %d more tickets, stream 1..%d intact"
          % (t_back, len(acked2), seqs[-1]))
    await d.stop()


async def _logged(d, text):
    return text in d.stderr_text()


async def test_config_errors():
    cases = [
        ('redis: { url: "redis://127.0.0.1:6379/0", sentinels: ["127.0.0.1:26379"], master: m }',
         "'url' and 'sentinels' in redis are mutually exclusive"),
        ('redis: { sentinels: ["127.0.0.1:26379"] }', "missing required key 'master' in redis"),
        ('redis: { sentinels: [], master: m }', "'sentinels' in redis must list at least one"),
        ('redis: { sentinels: ["sentinel.example:26379"], master: m }',
         "HOST an IP address or localhost"),
        ('redis: { sentinels: ["127.0.0.1:26379", "127.0.0.1:26379"], master: m }', "twice"),
        ('redis: { master: m }', "'master' in redis needs 'sentinels'"),
        ('redis: { url: "redis://127.0.0.1:6379/0", db: 2 }', "'db' in redis goes with 'sentinels'"),
        ('redis: { sentinels: ["127.0.0.1:26379"], master: m, db: -1 }', "'db' in redis must be an integer"),
    ]
    for line, want in cases:
        text = hk.demo_config().replace("\nhours:", "\n" + line + "\nhours:", 1)
        d = hk.Daemon(config=hk.write_config(text))
        rc, err = await d.start_expect_exit(10)
        check(rc == 2 and want in err and "hall.yaml:3:" in err, "%s: rc %s, stderr %r" % (line, rc, err))


async def test_unknown_master_name_keeps_asking():
    """Sentinels that do not know the name: the daemon says so and keeps trying, it does not fall
    back to anything else (and does not start an embedded redis-server)."""
    sentinels = []
    conf = "sentinel monitor other 127.0.0.1 1 2\n"
    sentinels.append(await Server("lonely", sentinel_conf=conf).start())
    d = hk.Daemon(config=hk.write_config(sentinel_config("lost", sentinels, master="nosuch")))
    d._launch()
    await wait_for("the daemon's complaint", lambda: _logged(d, "does not monitor a master of that name"), 10)
    check(d.redis_pid() in (None, 0), "an embedded redis-server was started")
    await d.stop()


if __name__ == "__main__":
    hk.run([test_config_errors, test_unknown_master_name_keeps_asking, test_failover_follows_the_new_master],
           timeout=90)
