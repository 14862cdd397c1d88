#!/usr/bin/python3
"""Redis Sentinel with passwords: on loopback a master and a replica with `requirepass` (the
replica with `masterauth`), three sentinels with `requirepass` of their own (`sentinel auth-pass`
for the data nodes, `sentinel sentinel-pass` between themselves). A hall configured with
`redis: {sentinels, master, password, sentinel_password}` must AUTH to both, issue tickets, follow
a failover (the master killed with SIGKILL) and leave every acknowledged ticket in the promoted
replica's stream. A wrong or missing password is said plainly and the hall does not start on a
Redis it cannot use; the credentials keys are refused where they make no sense."""
import asyncio
import time

import msgpack

import hk
import resp
from hk import check
from test_sentinel import MASTER, Server, _logged, issue_loop, more_than, sentinel_config, wait_for

PW = "data pass 1"          # a space: AUTH must send it as one argument
SPW = "sentinel-secret"


async def acmd(addr, pw, *args):
    c = await resp.connect(addr)
    try:
        await c.cmd("AUTH", pw)
        return await c.cmd(*args)
    finally:
        await c.close()


class AuthServer(Server):
    """A Server whose clients must AUTH with pw (sentinel_conf carries its own requirepass)."""

    def __init__(self, name, pw, args=(), sentinel_conf=None):
        if sentinel_conf is None:
            args = ["--requirepass", pw, "--masterauth", PW] + list(args)
        super().__init__(name, args, sentinel_conf)
        self.pw = pw

    async def start(self, timeout=10):
        with open(self.log, "ab") as lf:
            self.proc = hk._spawn(self.argv, lf, lf)

        async def pong():
            check(self.proc.poll() is None, "redis-server exited: " + open(self.log).read()[-800:])
            return await acmd(self.addr, self.pw, "PING") == b"PONG"
        await wait_for("redis-server on port %d answering" % self.port, pong, timeout)
        return self


async def setup_cluster():
    master = await AuthServer("master", PW).start()
    replica = await AuthServer("replica", PW, ["--replicaof", "127.0.0.1", str(master.port)]).start()

    async def in_sync():
        return b"master_link_status:up" in await acmd(replica.addr, PW, "INFO", "replication")
    await wait_for("the replica in sync", in_sync, 15)
    conf = ("requirepass %s\n"
            "sentinel monitor %s 127.0.0.1 %d 2\n"
            "sentinel auth-pass %s \"%s\"\n"
            "sentinel sentinel-pass %s\n"
            "sentinel down-after-milliseconds %s 1000\n"
            "sentinel failover-timeout %s 4000\n") % (SPW, MASTER, master.port, MASTER, PW, SPW, MASTER, MASTER)
    sentinels = [await AuthServer("sentinel%d" % i, SPW, sentinel_conf=conf).start() for i in range(3)]

    async def all_known():
        for s in sentinels:
            if len(await acmd(s.addr, SPW, "SENTINEL", "replicas", MASTER)) < 1:
                return False
            if len(await acmd(s.addr, SPW, "SENTINEL", "sentinels", MASTER)) < 2:
                return False
        return True
    await wait_for("sentinels that know the replica and each other", all_known, 20)
    return master, replica, sentinels


def auth_config(hall_id, sentinels, password=PW, sentinel_password=SPW):
    extra = ""
    if password is not None:
        extra += ', password: "%s"' % password
    if sentinel_password is not None:
        extra += ', sentinel_password: "%s"' % sentinel_password
    return hk.write_config(sentinel_config(hall_id, sentinels, extra=extra))


async def test_auth_and_failover():
    master, replica, sentinels = await setup_cluster()

    # wrong credentials: said plainly, and the hall does not come up on a Redis it cannot use
    for what, cfg, want in (
            ("no sentinel_password", auth_config("bad1", sentinels, sentinel_password=None),
             "NOAUTH Authentication required. (the sentinels want a password: set sentinel_password in redis)"),
            ("no password", auth_config("bad4", sentinels, password=None), "it wants a password: set password in redis"),
            ("a wrong sentinel_password", auth_config("bad2", sentinels, sentinel_password="nope"),
             "AUTH refused (check sentinel_password)"),
            ("a wrong password", auth_config("bad3", sentinels, password="nope"), "AUTH on 127.0.0.1:%d" % master.port)):
        d = hk.Daemon(config=cfg)
        d._launch()
        await wait_for("the daemon's complaint about %s" % what, lambda: _logged(d, want), 10)
        check("ready on port" not in d.stderr_text(), "ready with %s:\n%s" % (what, d.stderr_text()[-1500:]))
        check(PW not in d.stderr_text() and SPW not in d.stderr_text(), "a password is in the log")
        await d.kill_group()

    d = hk.Daemon(config=auth_config("authd", sentinels))
    await d.start()
    check("link up (127.0.0.1:%d (master %s))" % (master.port, MASTER) in d.stderr_text(),
          "not on the master:\n" + d.stderr_text()[-1500:])
    acked, errors, stop = [], [], asyncio.Event()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")   # hears the queue.changed of the last ticket
    task = asyncio.create_task(issue_loop(d, acked, stop, errors))
    await wait_for("tickets before the failover", lambda: more_than(acked, 5), 20)
    check(len(acked) > 5, "only %d tickets before the failover" % len(acked))
    await master.kill()
    followed = "link up (127.0.0.1:%d (master %s))" % (replica.port, MASTER)
    t0 = time.monotonic()
    await wait_for("the daemon on the promoted replica", lambda: _logged(d, followed), 25)
    print("  followed the failover in %.1f s with AUTH on sentinels and master" % (time.monotonic() - t0))
    t_new = time.monotonic()
    await wait_for("tickets on the new master", lambda: more_than(acked, 5, t_new), 20)
    stop.set()
    await task
    check(not errors, "ticket.issue failed: %r" % errors[:3])
    await admin.queue_settled()   # its seq is the hall's last before health is asked

    async def drained():
        h = await (await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")).ok("health")
        return h["redis_up"] and h["pending"] == 0 and h
    h = await wait_for("everything confirmed by the new master", drained, 15)
    rows = resp.stream_entries(await acmd(replica.addr, PW, "XRANGE", "hall:{authd}:events", "-", "+"))
    seqs = [int(f[b"seq"]) for _, f in rows]
    check(seqs == list(range(1, h["seq"] + 1)), "the new master's stream is not 1..%d: %s..." % (h["seq"], seqs[:5]))
    codes = set(msgpack.unpackb(f[b"data"], raw=False).get("code") for _, f in rows if f[b"ev"] == b"ticket.issued")
    missing = set(c for _, c in acked) - codes
    check(not missing, "%d acknowledged tickets are not on the new master: %s" % (len(missing), sorted(missing)[:5]))
    check(PW not in d.stderr_text() and SPW not in d.stderr_text(), "a password is in the log")
    await d.stop()


async def test_config_errors():
    cases = [
        ('redis: { url: "redis://127.0.0.1:6379/0", password: x }',
         "'password' in redis goes with 'sentinels'; with 'url' the credentials are part of the URL"),
        ('redis: { password: x }', "'password' in redis goes with 'sentinels' (the embedded redis-server"),
        ('redis: { sentinel_password: x }', "'sentinel_password' in redis goes with 'sentinels'"),
        ('redis: { sentinels: ["127.0.0.1:26379"], master: m, username: u }', "'username' in redis needs 'password'"),
        ('redis: { sentinels: ["127.0.0.1:26379"], master: m, password: "" }', "'password' in redis must not be empty"),
        ('redis: { sentinels: ["127.0.0.1:26379"], master: m, password: [a] }', "'password' in redis must be a string"),
    ]
    for line, want in cases:
        text = hk.demo_config().replace("\nhours:", "\n" + line + "\nhours:", 1)
        d = hk.Daemon(config=hk.write_config(text))
        rc, err = await d.start_expect_exit(10)
        check(rc == 2 and want in err and "hall.yaml:3:" in err, "%s: rc %s, stderr %r" % (line, rc, err))


if __name__ == "__main__":
    hk.run([test_config_errors, test_auth_and_failover], timeout=60)
