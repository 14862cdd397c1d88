#!/usr/bin/python3
"""A simulated busy day, accelerated: HK_SOAK_TICKETS tickets (default 6000, a big city hall's
day) issued by 4 kiosks over HK_SOAK_MINUTES, 3 windows call, start, finish, the visitors rate,
50 displays watch; the daemon's RSS is sampled every 5 s. Prints the curve and the growth after
warm-up (the first quarter). The hall keeps the day's tickets in memory (for ratings, waits and
restarts), so growth is expected in proportion to the tickets; anything beyond that is a leak.
HK_SOAK_TICKETS=0 issues as fast as possible (a stress run). Used by scripts/soak memory."""
import asyncio
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "blackbox"))
import hk  # noqa: E402

MINUTES = float(os.environ.get("HK_SOAK_MINUTES", "10"))
TICKETS = int(os.environ.get("HK_SOAK_TICKETS", "6000"))     # per simulated day
DAYS = int(os.environ.get("HK_SOAK_DAYS", "3"))   # the hall's clock moves a day forward between them
issued = [0]
STAFF = {1: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", 2: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", 3: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", 4: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD"}


async def kiosk(d, stop):
    c = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    gap = 4 * MINUTES * 60 / DAYS / TICKETS if TICKETS else 0.01   # 4 kiosks share a day's tickets
    while not stop.is_set():
        r = await c.request("ticket.issue", category=random.choice("ABCD"))
        if r.get("t") == "ok":
            issued[0] += 1
        c.events.clear()
        await asyncio.sleep(gap)


async def window(d, wid, stop):
    c = await hk.connect(d, "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" if wid == 1 else STAFF[wid])
    await c.request("window.open", window=wid)
    rater = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    while not stop.is_set():
        r = await c.request("call.next")
        c.events.clear()
        rater.events.clear()
        if r.get("t") != "ok":
            await asyncio.sleep(0.05)
            continue
        await c.request("ticket.start")
        await c.request("ticket.finish", outcome=random.choice(["即办件", "承诺件", "补正"]))
        await rater.request("ticket.rate", code=r["ticket"]["code"], score=random.randint(1, 5))


async def display(d, stop):
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    while not stop.is_set():
        await asyncio.sleep(1)
        c.events.clear()


async def main():
    d = hk.Daemon(args=["--test-clock"])
    await d.start()
    admin = await hk.connect(d, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", events=False)
    day_len = MINUTES * 60 / DAYS
    next_day = day_len
    stop = asyncio.Event()
    tasks = [asyncio.create_task(kiosk(d, stop)) for _ in range(4)]
    tasks += [asyncio.create_task(window(d, w, stop)) for w in (1, 2, 3)]
    tasks += [asyncio.create_task(display(d, stop)) for _ in range(50)]
    samples, t0 = [], time.monotonic()
    while time.monotonic() - t0 < MINUTES * 60:
        samples.append((time.monotonic() - t0, hk.rss_kb(d.proc.pid)))
        print("%7.0f s  RSS %6d KiB" % samples[-1], flush=True)
        await asyncio.sleep(5)
        if time.monotonic() - t0 >= next_day and next_day < MINUTES * 60 - 1:
            await admin.ok("clock.advance", ms=86400000)     # the next day: its first ticket closes this one
            print("        -- next day --", flush=True)
            next_day += day_len
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    probe = await hk.connect(d)
    seq = (await probe.hello("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"))["seq"]
    await d.stop()
    warm = samples[len(samples) // 4][1]
    print("%d events, %d tickets; RSS after warm-up %d KiB, at the end %d KiB, growth %+d KiB (%.0f bytes per ticket)"
          % (seq, issued[0], warm, samples[-1][1], samples[-1][1] - warm,
             (samples[-1][1] - warm) * 1024.0 / max(1, issued[0] * 3 // 4)))


asyncio.run(main())
