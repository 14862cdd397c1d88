"""emergency_edges.py: drives fire_panel edges through one admin connection and prints what the
daemon measured of them (stats.get edge_to_outputs: edge read -> every output set, measured
inside the daemon, so the speed of this driver does not bias it).

  /usr/bin/python3 emergency_edges.py --port P --edges N --name CASE [--deadline S] [--redis-up yes|no]
                                      [--wait-down S]

A cycle is two edges: gpio.sim.set fire_panel 1 (the fire playbook fires: doors, power, siren
change), wait for emergency.changed active true; gpio.sim.set fire_panel 0, wait for its gpio.changed (the
edge is read by the loop after the reply); emergency.clear, wait
for emergency.changed active false. The config must give fire_panel debounce_ms 0, so each
gpio.sim.set is one edge at once. The daemon must be fresh: its stats cover its last 16384 edges.
--wait-down S (Redis was stopped with SIGSTOP by the caller): the daemon notices a hung Redis only
when a command of its goes unanswered for 5 s (an idle link is not probed), so first one cycle
is made, then stats.get is polled until redis_up is false (at most S seconds); those 2 edges are
in the daemon's figures too.
Prints RESULT lines (emergency_CASE_edge_{n,p50_us,p99_us,max_us}, emergency_CASE_driver_edges_per_s).
"""
import argparse
import asyncio
import sys
import time

import msgpack
import websockets


class Conn:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.active = None          # `active` of the last emergency.changed seen
        self.panel = None           # fire_panel's value in the last gpio.changed seen

    async def request(self, t, timeout=10, **args):
        self.next_id += 1
        rid = self.next_id
        await self.ws.send(msgpack.packb(dict(t=t, id=rid, **args)))
        return await self._until(lambda m: m.get("t") in ("ok", "err") and m.get("id") == rid, timeout)

    async def wait_active(self, want, timeout=10):
        if self.active is not want:
            await self._until(lambda m: False, timeout, want)

    async def wait_panel(self, value, timeout=10):
        if self.panel != value:
            await self._until(lambda m: self.panel == value, timeout)

    async def _until(self, done, timeout, want=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no answer within %s s" % timeout)
            m = msgpack.unpackb(await asyncio.wait_for(self.ws.recv(), left), raw=False)
            if m.get("t") == "ev" and m.get("ev") == "gpio.changed" and m.get("line") == "fire_panel":
                self.panel = m.get("value")
                if done(m):
                    return m
            elif m.get("t") == "ev" and m.get("ev") == "emergency.changed":
                self.active = bool(m.get("active"))
                if want is not None and self.active is want:
                    return m
            elif done(m):
                return m


async def ok(c, t, timeout=10, **args):
    r = await c.request(t, timeout, **args)
    if r.get("t") != "ok":
        raise RuntimeError("%s: %s %s" % (t, r.get("code"), r.get("msg")))
    return r


async def cycle(c, timeout=10):
    """fire_panel 1 -> the fire playbook is active; fire_panel 0 and emergency.clear -> not."""
    await ok(c, "gpio.sim.set", timeout=timeout, line="fire_panel", value=1)
    await c.wait_active(True, timeout)
    c.panel = None
    await ok(c, "gpio.sim.set", timeout=timeout, line="fire_panel", value=0)
    # gpio.sim.set answers once the level is injected; the edge itself is read by the loop
    # afterwards (as a real one would be), so the clear waits for the input's gpio.changed
    await c.wait_panel(0, timeout)
    await ok(c, "emergency.clear", timeout=timeout, reason="scripts/bench/emergency")
    await c.wait_active(False, timeout)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--edges", type=int, default=10000)
    ap.add_argument("--name", default="healthy")
    ap.add_argument("--deadline", type=float, default=300)
    ap.add_argument("--redis-up", choices=("yes", "no", "any"), default="any")
    ap.add_argument("--wait-down", type=float, default=0)
    a = ap.parse_args()
    ws = await websockets.connect("ws://127.0.0.1:%d/ws" % a.port, subprotocols=["hall.v1"], max_size=1 << 20)
    c = Conn(ws)
    await ok(c, "hello", token="admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", events=["emergency.changed", "gpio.changed"])
    if a.wait_down > 0:
        await cycle(c, timeout=a.wait_down + 10)
        t = time.monotonic()
        while (await ok(c, "stats.get")).get("redis_up"):
            if time.monotonic() - t > a.wait_down:
                raise RuntimeError("redis_up still true %s s after a change with Redis stopped" % a.wait_down)
            await asyncio.sleep(0.2)
        print("emergency edges (%s): the daemon declared the Redis link lost %.1f s after the first "
              "change made with Redis stopped" % (a.name, time.monotonic() - t), file=sys.stderr)
    st = await ok(c, "stats.get")
    if a.redis_up != "any" and st.get("redis_up") != (a.redis_up == "yes"):
        raise RuntimeError("redis_up is %s, this case wants %s" % (st.get("redis_up"), a.redis_up))
    n0 = st["edge_to_outputs"]["n"]
    t0 = time.monotonic()
    cycles = a.edges // 2
    for i in range(cycles):
        await cycle(c)
        if time.monotonic() - t0 > a.deadline:
            raise RuntimeError("passed --deadline after %d cycles" % i)
    dt = time.monotonic() - t0
    st = await ok(c, "stats.get")
    await ws.close()
    e = st["edge_to_outputs"]
    if e["n"] - n0 != 2 * cycles:
        raise RuntimeError("the daemon counted %d edges, the driver made %d" % (e["n"] - n0, 2 * cycles))
    if n0 + 2 * cycles > 16384:
        print("emergency_edges: note: more than 16384 edges in all; the figures cover the last 16384", file=sys.stderr)
    if a.redis_up != "any" and st.get("redis_up") != (a.redis_up == "yes"):
        raise RuntimeError("redis_up changed during the run (now %s)" % st.get("redis_up"))
    rate = 2 * cycles / dt
    print("emergency edges (%s): %d edges, edge -> every output set p50 %d us  p99 %d us  max %d us "
          "(inside the daemon); driver %.0f edges/s (%.1f s)"
          % (a.name, 2 * cycles, e["p50_us"], e["p99_us"], e["max_us"], rate, dt))
    for k in ("n", "p50_us", "p99_us", "max_us"):
        print("RESULT emergency_%s_edge_%s %s" % (a.name, k, e[k] if k != "n" else 2 * cycles))
    print("RESULT emergency_%s_driver_edges_per_s %.0f" % (a.name, rate))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as ex:
        print("emergency_edges: FAILED: %s" % ex, file=sys.stderr)
        sys.exit(1)
