#!/usr/bin/python3
"""Who may do what (docs/security.md "Trust boundaries"): with posts configured, a staff member
opens (and so serves) only a window where they hold a post (`forbidden`, as staff.checkin), also
a window left open for them before the posts were configured (a tablet re-opens its window after
every reconnect); a window without posts stays open to all staff. A device (token) issues tickets at most http.issue_per_min a minute (default 30,
bursts of 10: a queue of people at a kiosk never reaches it), and a category with daily_cap stops
at that many tickets a day; both answer `unavailable` with a message naming the key."""
import asyncio

import hk
from hk import check

POSTS = {1: '{ a: "0001", b: "0002" }', 3: '{ a: "0003" }'}


def config(with_posts):
    text = hk.demo_config()
    for wid, posts in POSTS.items():
        old = "  - { id: %d, name: %d号窗口, " % (wid, wid)
        check(old in text, "demo config has no window %d line" % wid)
        if with_posts:
            line = next(l for l in text.split("\n") if l.startswith(old))
            text = text.replace(line, line[:-2] + ", posts: %s }" % posts)
    return text


async def test_no_post_no_window():
    async with hk.fresh(config=hk.write_config(config(True))) as d:
        s3 = await hk.connect(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
        r = await s3.err("window.open", "forbidden", window=1)
        check("holds no post at window 1" in r["msg"], "window.open without a post: %r" % r)
        await s3.err("staff.checkin", "forbidden", window=1)
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        st = (await disp.ok("state.get"))["state"]
        check(next(w for w in st["windows"] if w["id"] == 1)["status"] == "closed", "window 1 opened: %r" % st)
        await s3.ok("window.open", window=3)            # its own post
        s2 = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
        await s2.ok("window.open", window=1)            # post b of window 1
        await (await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")).ok("window.open", window=2)   # no posts: anyone


async def test_posts_added_later():
    d = hk.Daemon(config=hk.write_config(config(False)))
    await d.start()
    try:
        s3 = await hk.connect(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
        await s3.ok("window.open", window=1)
        await (await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")).ok("ticket.issue", category="A")
        await d.stop()
        d = hk.Daemon(config=hk.write_config(config(True)), data=d.data)
        await d.start()
        s3 = await hk.connect(d, "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD")
        await s3.err("window.open", "forbidden", window=1)   # re-opening it on a new tablet
        await s3.ok("window.open", window=3)
        disp = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        st = (await disp.ok("state.get"))["state"]
        check(st["queues"]["A"]["waiting"] == 1, "the ticket was served: %r" % st["queues"])
    finally:
        await d.stop()


def limits_config():
    text = hk.demo_config().replace(", issue_per_min: 0", "")          # the default limit
    text = text.replace('  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",', '  - { token: "kiosk-2.Rq7Hn2Wc9Vx4Lb6Tk1Zp8Md3Gs5Fy0Ja",   role: kiosk }\n  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",')
    cat = "  - { id: B, name: 不动产登记, weight: 1.0 }"
    check(cat in text, "demo config has no category B line")
    return text.replace(cat, cat[:-2] + ", daily_cap: 3 }")


async def test_issue_rate_and_daily_cap():
    async with hk.fresh(config=hk.write_config(limits_config())) as d:
        kiosk = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events=False)
        # a queue of ten people, one after the other, all get their ticket
        for _ in range(10):
            await kiosk.ok("ticket.issue", category="A")
        # a script pipelining 300 gets almost none
        rs = await asyncio.gather(*(kiosk.request("ticket.issue", category="A") for _ in range(300)))
        ok = [r for r in rs if r.get("t") == "ok"]
        refused = [r for r in rs if r.get("t") == "err"]
        check(len(ok) <= 5, "%d of 300 pipelined tickets issued after a burst of 10" % len(ok))
        check(refused and all(r.get("code") == "unavailable" and "http.issue_per_min" in r.get("msg", "")
                              for r in refused), "refusals: %r" % refused[:2])
        staff = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp")
        st = (await staff.ok("state.get"))["state"]
        check(st["queues"]["A"]["waiting"] == 10 + len(ok), "waiting %r" % st["queues"]["A"])
        # another device is not held back
        kiosk2 = await hk.connect(d, "kiosk-2.Rq7Hn2Wc9Vx4Lb6Tk1Zp8Md3Gs5Fy0Ja", events=False)
        for _ in range(3):
            await kiosk2.ok("ticket.issue", category="B")
        r = await kiosk2.err("ticket.issue", "unavailable", category="B")
        check("daily_cap" in r["msg"] and "不动产登记" in r["msg"], "daily cap: %r" % r)
        await staff.err("ticket.issue", "unavailable", category="B")     # for every issuer
        await kiosk2.ok("ticket.issue", category="C")                     # other categories go on


hk.run([test_no_post_no_window, test_posts_added_later, test_issue_rate_and_daily_cap])
