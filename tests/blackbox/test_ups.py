#!/usr/bin/python3
"""The UPS through Network UPS Tools (docs/wiring.md "UPS"), against a real upsd with the
dummy-ups driver (Debian's nut-server): on battery starts the power-failure playbook (and
announces no evacuation), battery low raises a fault, back on mains the incident is latched and
may be cleared; upsd going away is a `ups` fault and the hall goes on."""
import asyncio
import os
import signal

import hk
from hk import check

DRIVER, UPSD = "/lib/nut/dummy-ups", "/lib/nut/upsd"


class Nut:
    """upsd and a dummy-ups driver on loopback, configured in a temp dir of their own."""
    def __init__(self):
        self.dir = hk.tmpdir("nut")
        self.port = hk.free_port()
        os.makedirs(os.path.join(self.dir, "state"))
        files = {
            "nut.conf": "MODE=standalone\n",
            "ups.conf": "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  pollinterval = 1\n  desc = \"test\"\n",
            "upsd.conf": "LISTEN 127.0.0.1 %d\n" % self.port,
            "upsd.users": "",
        }
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(self.dir, "upsd.users"), 0o600)
        self.set_status("OL", 100)
        self.env = dict(os.environ, NUT_CONFPATH=self.dir, NUT_STATEPATH=os.path.join(self.dir, "state"))
        self.procs = []

    def set_status(self, status, charge):
        path = os.path.join(self.dir, "dummy.dev")
        with open(path + ".new", "w") as f:
            f.write("ups.status: %s\nbattery.charge: %d\n" % (status, charge))
        os.replace(path + ".new", path)

    async def start(self):
        log = open(os.path.join(self.dir, "nut.log"), "ab")
        self.procs.append(hk._spawn([DRIVER, "-a", "dummy", "-u", "root", "-F"], log, log, self.env))
        state = os.path.join(self.dir, "state")
        for _ in range(300):     # the driver's socket appears when it is ready, 15 s at most
            if any(n.startswith("dummy-ups-dummy") for n in os.listdir(state)):
                break
            await asyncio.sleep(0.05)
        check(any(n.startswith("dummy-ups-dummy") for n in os.listdir(state)), "dummy-ups did not start")
        self.procs.append(hk._spawn([UPSD, "-u", "root", "-F"], log, log, self.env))

    def kill_upsd(self):
        hk._kill_group(self.procs[-1])


def config(port):
    return hk.write_config(hk.demo_config() + "ups: { host: 127.0.0.1, port: %d, name: dummy, poll_ms: 300 }\n" % port)


async def test_ups_drives_power_failure():
    check(os.path.exists(UPSD) and os.path.exists(DRIVER), "nut-server is not installed (scripts/deps.sh --test)")
    nut = Nut()
    await nut.start()
    async with hk.fresh(config=config(nut.port)) as d:
        admin = await hk.connect_role(d, "admin")
        sec = await hk.connect_role(d, "security")
        lines = {l["name"]: l for l in (await admin.ok("gpio.list"))["lines"]}
        check(lines["ups_on_battery"]["dir"] == "in", "the UPS input is listed: %r" % lines)
        pbs = {p["id"]: p for p in (await sec.ok("emergency.playbooks"))["playbooks"]}
        check(pbs["power_failure"]["triggers"] == [{"gpio": "ups_on_battery", "value": 1}], "trigger %r" % pbs["power_failure"])
        # mains lost
        nut.set_status("OB", 80)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("active") and e.get("playbook") == "power_failure",
                                  timeout=20)
        check(ev.get("triggered_by") == "gpio:ups_on_battery" and ev.get("drill") is False, "incident %r" % ev)
        check(not any(s.get("do") == "display" and s.get("mode") == "evacuation" for s in ev.get("steps", [])),
              "a UPS input evacuates by itself: %r" % ev)
        # the battery runs low
        nut.set_status("OB LB", 9)
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "ups_battery" and e.get("active"), timeout=20)
        check("9 %" in f.get("detail", ""), "battery fault %r" % f)
        # mains back: the battery fault ends; the incident stays, latched, until security clears it
        nut.set_status("OL", 60)
        await admin.wait_event("fault", lambda e: e.get("kind") == "ups_battery" and e.get("active") is False, timeout=20)
        ev = await sec.wait_event("emergency.changed", lambda e: e.get("playbook") == "power_failure" and e.get("latched"),
                                  timeout=20)
        check(ev.get("active"), "back on mains ended the incident by itself: %r" % ev)
        await sec.ok("emergency.clear", reason="市电恢复")
        # upsd goes away: a fault, and the hall goes on
        nut.kill_upsd()
        f = await admin.wait_event("fault", lambda e: e.get("kind") == "ups" and e.get("active"), timeout=20)
        check("upsd" in f.get("detail", ""), "ups fault %r" % f)
        kiosk = await hk.connect_role(d, "kiosk")
        await kiosk.ok("ticket.issue", category="A")


async def test_bad_ups_config():
    text = hk.demo_config() + 'ups: { host: 127.0.0.1, name: "bad name" }\n'
    line = text.count("\n")            # the ups line is the last one
    bad = hk.write_config(text)
    p = await asyncio.create_subprocess_exec(hk.BIN, "--config", bad, "--data", hk.tmpdir("data"),
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(p.communicate(), 30)
    check(p.returncode != 0 and b"'name' in ups" in err and (":%d:" % line).encode() in err, "rc %r, %r" % (p.returncode, err))
    both = hk.demo_config().replace("gpio:\n  backend: sim\n  lines:\n",
                                    "gpio:\n  backend: sim\n  lines:\n    - { name: ups_on_battery, chip: gpiochip0, offset: 3, dir: in }\n")
    p = await asyncio.create_subprocess_exec(hk.BIN, "--config", hk.write_config(both + "ups: { name: dummy }\n"),
                                             "--data", hk.tmpdir("data"),
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(p.communicate(), 30)
    check(p.returncode != 0 and b"comes from the UPS" in err, "rc %r, %r" % (p.returncode, err))


hk.run([test_ups_drives_power_failure, test_bad_ups_config])
