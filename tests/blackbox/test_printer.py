#!/usr/bin/python3
"""The kiosk's ticket printer (docs/printer.md), with a Python TCP server on loopback standing in
for a network ESC/POS printer (raw port 9100): a kiosk ticket arrives as ESC/POS with the code and
a GS v 0 QR raster; staff tickets are not printed; the printer going away raises a "printer" fault
while the kiosk still gets its tickets; the printer coming back clears it."""
import asyncio

import hk
from hk import check


class FakePrinter:
    """Accepts connections and keeps what each one sent (empty ones are the daemon's probes)."""
    def __init__(self, port):
        self.port = port
        self.jobs = []
        self.server = None
        self.cond = asyncio.Condition()

    async def start(self):
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()

    async def _conn(self, reader, writer):
        data = await reader.read()          # to EOF: the daemon shuts its side down after a ticket
        writer.close()
        if data:
            async with self.cond:
                self.jobs.append(data)
                self.cond.notify_all()

    async def wait_job(self, pred, timeout=10):
        async def waiter():
            async with self.cond:
                while True:
                    for j in self.jobs:
                        if pred(j):
                            return j
                    await self.cond.wait()
        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            raise hk.CheckFailed("no print job matching within %ss (%d jobs)" % (timeout, len(self.jobs)))


def raster_size(job):
    at = job.find(b"\x1d\x76\x30\x00")
    check(at >= 0, "no GS v 0 raster in the job")
    wb = job[at + 4] | job[at + 5] << 8
    h = job[at + 6] | job[at + 7] << 8
    check(len(job) >= at + 8 + wb * h, "raster of %dx%d is cut short" % (wb, h))
    return wb, h


async def test_print_fault_and_recovery():
    port = hk.free_port()
    pr = FakePrinter(port)
    await pr.start()
    cfg = hk.demo_config() + '\nprinter: { tcp: "127.0.0.1:%d", width_mm: 58, timeout_ms: 1500 }\n' % port
    async with hk.fresh(config=hk.write_config(cfg)) as d:
        admin = await hk.connect_role(d, "admin")
        kiosk = await hk.connect_role(d, "kiosk")
        t = (await kiosk.ok("ticket.issue", category="A"))["ticket"]
        job = await pr.wait_job(lambda j: t["code"].encode() in j)
        check(job.startswith(b"\x1b\x40"), "job does not start with ESC @")
        wb, h = raster_size(job)
        check(wb * 8 <= 384 and h > 21, "QR raster %dx%d does not fit 58 mm paper" % (wb * 8, h))
        check("测试政务服务中心".encode("gb18030") in job, "hall name (GB18030) not in the job")
        check(job.endswith(b"\x1d\x56\x42\x00"), "job does not end with a cut")
        # a counter ticket is not printed
        s = (await (await hk.connect_role(d, "staff")).ok("ticket.issue", category="B"))["ticket"]
        # jobs print in order: once a later kiosk ticket is out, the staff ticket's turn is past
        after = (await kiosk.ok("ticket.issue", category="C"))["ticket"]
        await pr.wait_job(lambda j: after["code"].encode() in j)
        check(not any(s["code"].encode() in j for j in pr.jobs), "a staff ticket was printed")

        # the printer goes away: the kiosk still gets its ticket, a fault is raised
        await pr.stop()
        n = len(pr.jobs)
        t2 = (await kiosk.ok("ticket.issue", category="A", qr=True))["ticket"]
        check(t2["code"] and t2.get("qr_svg"), "no ticket for the kiosk while the printer is away")
        ev = await admin.wait_event("fault", lambda e: e.get("kind") == "printer" and e.get("active"), timeout=10)
        check(ev.get("grade") == "III" and "127.0.0.1:%d" % port in ev.get("detail", ""), "fault %r" % ev)
        h = await admin.ok("health")
        check(any(f["kind"] == "printer" for f in h["faults"]) and h["status"] == "degraded", "health %r" % h)
        t3 = (await kiosk.ok("ticket.issue", category="A"))["ticket"]
        check(t3["code"], "no third ticket")

        # it comes back: the next ticket prints and the fault ends (or the probe ends it first)
        pr2 = FakePrinter(port)
        await pr2.start()
        t4 = (await kiosk.ok("ticket.issue", category="A"))["ticket"]
        await pr2.wait_job(lambda j: t4["code"].encode() in j)
        ev = await admin.wait_event("fault", lambda e: e.get("kind") == "printer" and not e.get("active"), timeout=10)
        h = await admin.ok("health")
        check(not any(f["kind"] == "printer" for f in h["faults"]), "printer fault still listed: %r" % h["faults"])
        # tickets issued while it was away are not printed late
        check(not any(t2["code"].encode() in j for j in pr2.jobs + pr.jobs[n:]), "a stale ticket was printed")
        await pr2.stop()


async def test_offline_at_start_is_reported():
    port = hk.free_port()   # nothing listens there
    cfg = hk.demo_config() + '\nprinter: { tcp: "127.0.0.1:%d", width_mm: 80 }\n' % port
    async with hk.fresh(config=hk.write_config(cfg)) as d:
        admin = await hk.connect_role(d, "admin")
        # the start-up probe fails before the hub is up; the next probe (5 s) publishes it
        ok = await admin.wait_for(lambda c: any(e["ev"] == "fault" and e.get("kind") == "printer" for e in c.events),
                                  timeout=12)
        if not ok:
            st = (await admin.ok("state.get"))["state"]
            check(any(f["kind"] == "printer" for f in st["faults"]), "no printer fault for an offline printer")
        kiosk = await hk.connect_role(d, "kiosk")
        await kiosk.ok("ticket.issue", category="A")


async def test_hanging_printer_times_out_without_blocking():
    # a listener whose accept queue is full: connects to it hang, as to a printer that is wedged
    import socket
    import time
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(f)
    cfg = hk.demo_config() + '\nprinter: { tcp: "127.0.0.1:%d", width_mm: 80, timeout_ms: 1000 }\n' % port
    try:
        async with hk.fresh(config=hk.write_config(cfg)) as d:
            admin = await hk.connect_role(d, "admin")
            kiosk = await hk.connect_role(d, "kiosk")
            for _ in range(3):
                t0 = time.monotonic()
                t = (await kiosk.ok("ticket.issue", category="C"))["ticket"]
                took = time.monotonic() - t0
                check(t["code"] and took < 0.5, "ticket.issue took %.2f s while the printer hangs" % took)
            ev = await admin.wait_event("fault", lambda e: e.get("kind") == "printer" and e.get("active"), timeout=12)
            check("no answer from 127.0.0.1:%d within 1000 ms" % port in ev.get("detail", ""), "detail %r" % ev)
    finally:
        for f in fillers:
            f.close()
        lsock.close()


async def test_bad_printer_configs():
    for text, want in (('printer: { width_mm: 58 }', "exactly one of 'device'"),
                       ('printer: { tcp: "printer.local:9100" }', "no host names"),
                       ('printer: { device: /dev/usb/lp0, width_mm: 76 }', "58 or 80"),
                       ('printer: { device: lp0 }', "absolute path"),
                       ('printer: { device: /dev/usb/lp0, paper: 58 }', "unknown key 'paper'"),
                       ('mobile: { public_url: "ftp://x" }', "'public_url' in mobile")):
        d = hk.Daemon(config=hk.write_config(hk.demo_config() + "\n" + text + "\n"))
        rc, err = await d.start_expect_exit()
        check(rc == 2 and want in err, "%s -> rc %s, %r" % (text, rc, err[-300:]))


if __name__ == "__main__":
    hk.run([test_print_fault_and_recovery, test_offline_at_start_is_reported,
            test_hanging_printer_times_out_without_blocking, test_bad_printer_configs])
