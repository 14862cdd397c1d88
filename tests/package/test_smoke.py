#!/usr/bin/python3
"""test_smoke.py: start, hello and a ticket's way through the hall, for a daemon that is not the
usual build (HK_BIN: scripts/arm64.sh points it at a wrapper that runs the arm64 build under
qemu-user). The daemon uses a Redis of the test's own (redis.url): under qemu-user without binfmt
it cannot start its embedded redis-server, whose launcher is the daemon's own binary."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blackbox"))
import hk                                  # noqa: E402
from hk import check                       # noqa: E402


async def test_start_hello_ticket_stop():
    r = hk.Redis()
    await r.start()
    d = hk.Daemon(config=hk.write_config(hk.demo_config(redis_url=r.url)))
    await d.start(timeout=90)                # emulated: several times slower than native
    kiosk = await hk.connect(d, token=hk.DEMO_TOKENS["kiosk"])
    staff = await hk.connect(d, token=hk.DEMO_TOKENS["staff"])
    await staff.ok("window.open", window=1)
    code = (await kiosk.ok("ticket.issue", category="A"))["ticket"]["code"]
    called = (await staff.ok("call.next"))["ticket"]
    check(called.get("code") == code, "call.next called %r, not the ticket issued (%s)" % (called, code))
    await kiosk.close()
    await staff.close()
    await d.stop(timeout=30)
    await r.stop()


hk.run([test_start_hello_ticket_stop], timeout=300)
