#!/usr/bin/python3
"""City-level consumer (issue #8, item 3): two halls on one Redis and `hallctl city --json`
following both through a consumer group. An emergency in one hall shows within a second or so
(measured; asserted under a generous 3 s); waiting counts and ratings follow; a consumer that is
stopped and started again resumes from its group: it never reports an acknowledged entry again,
and it does report what happened while it was away."""
import asyncio
import json
import os
import time

import hk
import resp
from hk import check

GROUP = "citytest"


class City:
    def __init__(self, redis_url, halls, extra=()):
        self.argv = [hk.CTL, "--redis", redis_url, "--json", *extra, "city", *halls]
        self.lines = []
        self.proc = None
        self.new = asyncio.Event()

    async def start(self):
        env = dict(os.environ, HALL_CITY_GROUP=GROUP, HALL_CITY_CONSUMER="test")
        self.proc = await asyncio.create_subprocess_exec(*self.argv, stdout=asyncio.subprocess.PIPE,
                                                         stderr=asyncio.subprocess.PIPE, env=env,
                                                         start_new_session=True)
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            self.lines.append((time.monotonic(), json.loads(line)))
            self.new.set()

    async def wait(self, pred, timeout=10, what="a city update"):
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for t, m in self.lines[seen:]:
                if pred(m):
                    return t, m
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0:
                err = b""
                if self.proc.returncode is not None:
                    err = await self.proc.stderr.read()
                raise hk.CheckFailed("no %s within %ss; lines: %s %s" % (what, timeout, self.lines[-5:], err))
            self.new.clear()
            try:
                await asyncio.wait_for(self.new.wait(), left)
            except asyncio.TimeoutError:
                pass

    def updates(self):
        return [m for _, m in self.lines if not m.get("snapshot")]

    async def stop(self):
        self.proc.terminate()
        self.stderr = (await self.proc.stderr.read()).decode("utf-8", "replace")
        await self.proc.wait()
        await self.reader


async def quiet(city, seconds=1.0):
    """Waits until the consumer printed nothing for a while (it acknowledges right after printing)."""
    n = -1
    while n != len(city.lines):
        n = len(city.lines)
        await asyncio.sleep(seconds)


async def test_city_follows_two_halls_and_resumes():
    r = hk.Redis()
    await r.start()
    east = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url, hall_id="east")))
    west = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url, hall_id="west")), args=["--test-clock"])
    await east.start()
    await west.start()
    kw = await hk.connect(west, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    for cat in "AAB":
        await kw.ok("ticket.issue", category=cat)

    async def queue_stored():      # queue.changed is coalesced: it follows within 200 ms
        evs = await resp.hall_events(r.url, "west")
        return any(e[1] == "queue.changed" and sum(q["waiting"] for q in e[3]["queues"].values()) == 3
                   for e in evs)
    await hk.until("west's queue.changed of 3 waiting in Redis", queue_stored, 30)

    city = await City(r.url, ["east", "west"]).start()
    _, snap = await city.wait(lambda m: m.get("snapshot") and m["hall"] == "west", what="west's snapshot")
    check(snap["waiting"] == 3 and snap["queues"]["A"]["waiting"] == 2,
          "the snapshot should show west's 3 waiting tickets: %r" % snap)
    _, snap = await city.wait(lambda m: m.get("snapshot") and m["hall"] == "east", what="east's snapshot")
    check(snap["waiting"] == 0 and not snap["emergency"]["active"], "east's snapshot %r" % snap)

    # an emergency in one hall, seen by the city
    sec = await hk.connect(east, "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u")
    t0 = time.monotonic()
    await sec.ok("emergency.trigger", playbook="fire", drill=True)
    t1, m = await city.wait(lambda m: m["hall"] == "east" and m.get("ev") == "emergency.changed"
                            and m["emergency"]["active"], timeout=10, what="east's emergency")
    latency = t1 - t0
    print("  emergency in hall east seen by hallctl city after %.0f ms" % (latency * 1000))
    check(latency < 3.0, "the city saw the emergency only after %.1f s" % latency)
    check(m["emergency"]["playbook"] == "fire" and m["emergency"]["drill"] is True, "emergency %r" % m)
    check(not any(u["hall"] == "west" and u["emergency"]["active"] for u in city.updates()),
          "west shows east's emergency")

    # waiting counts and a rating in the other hall
    staff = await hk.connect(west, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
    await staff.ok("window.open", window=1)
    code = (await staff.ok("call.next"))["ticket"]["code"]
    await staff.ok("ticket.start")
    await staff.ok("ticket.finish", outcome="即办件")
    await kw.ok("ticket.rate", code=code, score=4)
    await city.wait(lambda m: m["hall"] == "west" and m.get("ev") == "queue.changed" and m["waiting"] == 2,
                    what="west's queue after a call")
    await city.wait(lambda m: m["hall"] == "west" and m.get("ev") == "ticket.rated" and m["rated"] == 1
                    and m["avg_score"] == 4.0, what="west's rating")

    await quiet(city)
    await city.stop()
    first = city.updates()
    last_seen = {h: max([u["seq"] for u in first if u["hall"] == h] or [0]) for h in ("east", "west")}
    for h in ("east", "west"):
        pend = await resp.cmd(r.url, "XPENDING", "hall:{%s}:events" % h, GROUP)
        check(pend[0] == 0, "%d entries of %s read but not acknowledged: %r" % (pend[0], h, pend))

    # while the consumer is away: the emergency is cleared, west gets a ticket
    await sec.ok("emergency.clear", reason="演练结束")
    await kw.ok("ticket.issue", category="D")

    city2 = await City(r.url, ["east", "west"]).start()
    _, snap = await city2.wait(lambda m: m.get("snapshot") and m["hall"] == "east", what="east's snapshot")
    check(snap["emergency"]["active"] is True, "the snapshot is the picture at the group's position: %r" % snap)
    _, snap = await city2.wait(lambda m: m.get("snapshot") and m["hall"] == "west", what="west's snapshot")
    check(snap["rated"] == 1 and snap["waiting"] == 2, "west's snapshot after a restart %r" % snap)
    await city2.wait(lambda m: m["hall"] == "east" and m.get("ev") == "emergency.changed"
                     and not m["emergency"]["active"], what="the clear made while away")
    await city2.wait(lambda m: m["hall"] == "west" and m.get("ev") == "queue.changed" and m["waiting"] == 3,
                     what="the ticket issued while away")
    await quiet(city2)

    # Redis restarts under the consumer: it reconnects and carries on from its group
    await r.restart()
    t0 = time.monotonic()
    async def triggered():
        r2 = await sec.request("emergency.trigger", playbook="earthquake", drill=True, timeout=20)
        return r2.get("t") == "ok"
    check(await triggered(), "emergency.trigger after the Redis restart failed")
    await city2.wait(lambda m: m["hall"] == "east" and m.get("ev") == "emergency.changed"
                     and m["emergency"]["active"] and m["emergency"]["playbook"] == "earthquake",
                     timeout=20, what="an emergency after Redis restarted")
    print("  after a Redis restart the consumer reported again within %.1f s" % (time.monotonic() - t0))

    # ratings are per day: a new day in west (its clock moved on) starts them afresh
    await (await hk.connect(west, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6")).ok("clock.advance", ms=86400000)
    _, m = await city2.wait(lambda m: m["hall"] == "west" and m.get("ev") == "day.closed", what="west's day.closed")
    check(m["rated"] == 0 and m["avg_score"] is None, "ratings after day.closed %r" % m)
    await quiet(city2)
    await city2.stop()
    check("lost the connection to Redis" in city2.stderr and "reconnecting" in city2.stderr,
          "the consumer did not say it reconnected: %r" % city2.stderr)
    again = [u for u in city2.updates() if u["seq"] <= last_seen[u["hall"]]]
    check(not again, "acknowledged entries reported again: %r" % again)
    print("  restarted consumer: %d new updates, none of the %d acknowledged ones again"
          % (len(city2.updates()), len(first)))
    await east.stop()
    await west.stop()
    await r.stop()


async def test_city_usage_errors():
    cases = [([hk.CTL, "city", "east"], "usage: hallctl city"),
             ([hk.CTL, "--url", "unix:///nonexistent/redis.sock", "city"], "at least one hall"),
             ([hk.CTL, "--redis", "unix:///nonexistent/redis.sock", "city", "bad hall"], "not a hall id"),
             ([hk.CTL, "--redis", "unix:///x.sock", "state"], "--redis is only for city"),
             ([hk.CTL, "--url", "redis://127.0.0.1:notaport/0", "city", "east"], "Redis URL must be")]
    env = dict(os.environ)
    env.pop("HALL_REDIS_URL", None)
    for argv, want in cases:
        rc, out, err = await hk.run_cmd(argv, timeout=10, env=env)
        check(rc == 2 and want in err, "%s: rc %s, stderr %r" % (argv[1:], rc, err))
    rc, out, err = await hk.run_cmd([hk.CTL, "--url", "unix:///nonexistent/redis.sock", "city", "east"],
                                    timeout=10, env=env)
    check(rc == 3 and "cannot connect to Redis" in err, "no Redis: rc %s, stderr %r" % (rc, err))


if __name__ == "__main__":
    hk.run([test_city_usage_errors, test_city_follows_two_halls_and_resumes], timeout=90)
