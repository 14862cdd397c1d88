#!/usr/bin/python3
"""Who may do what (docs/security.md "Trust boundaries"): with posts configured, a staff member
opens (and so serves) only a window where they hold a post (`forbidden`, as staff.checkin), also
a window left open for them before the posts were configured (a tablet re-opens its window after
every reconnect); a window without posts stays open to all staff."""
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
        s3 = await hk.connect(d, "staff-0003-pin")
        r = await s3.err("window.open", "forbidden", window=1)
        check("holds no post at window 1" in r["msg"], "window.open without a post: %r" % r)
        await s3.err("staff.checkin", "forbidden", window=1)
        disp = await hk.connect(d, "display-secret")
        st = (await disp.ok("state.get"))["state"]
        check(next(w for w in st["windows"] if w["id"] == 1)["status"] == "closed", "window 1 opened: %r" % st)
        await s3.ok("window.open", window=3)            # its own post
        s2 = await hk.connect(d, "staff-0002-pin")
        await s2.ok("window.open", window=1)            # post b of window 1
        await (await hk.connect(d, "staff-0001-pin")).ok("window.open", window=2)   # no posts: anyone


async def test_posts_added_later():
    d = hk.Daemon(config=hk.write_config(config(False)))
    await d.start()
    try:
        s3 = await hk.connect(d, "staff-0003-pin")
        await s3.ok("window.open", window=1)
        await (await hk.connect(d, "kiosk-1-secret")).ok("ticket.issue", category="A")
        await d.stop()
        d = hk.Daemon(config=hk.write_config(config(True)), data=d.data)
        await d.start()
        s3 = await hk.connect(d, "staff-0003-pin")
        await s3.err("window.open", "forbidden", window=1)   # re-opening it on a new tablet
        await s3.ok("window.open", window=3)
        disp = await hk.connect(d, "display-secret")
        st = (await disp.ok("state.get"))["state"]
        check(st["queues"]["A"]["waiting"] == 1, "the ticket was served: %r" % st["queues"])
    finally:
        await d.stop()


hk.run([test_no_post_no_window, test_posts_added_later])
