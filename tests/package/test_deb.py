#!/usr/bin/python3
"""test_deb.py DEB: the Debian package, installed as an operator would (scripts/package.sh --check).

Makes a fresh Debian 12 root (debootstrap minbase with systemd, as on any Debian 12 box, but not
running: these containers have no systemd as PID 1; cached in build-pkg/bookworm-root, copied for
each run), installs DEB there with apt (which pulls its dependencies from the mirror), checks what
the maintainer scripts made (user, groups, data directory, config permissions, unit enabled),
verifies the unit with the root's `systemd-analyze verify`, starts the installed daemon in the root
as the unit would (its ExecStart, as User=hallkeeper, no HALL_PAGES: the installed pages) on a
free port, says hello and fetches a page, stops it with SIGTERM, then purges the package and
checks what is left (docs/pi.md). Needs root (chroot, mount). Not part of ctest: it takes minutes.
"""
import asyncio
import grp
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
if len(sys.argv) != 2 or not sys.argv[1].endswith(".deb"):
    sys.exit("usage: tests/package/test_deb.py hallkeeper_VERSION_ARCH.deb")
DEB = os.path.abspath(sys.argv[1])
CACHE = os.environ.get("HK_PKG_ROOT_CACHE") or os.path.join(os.path.dirname(DEB), "bookworm-root")
MIRROR = os.environ.get("HK_DEBIAN_MIRROR") or "http://deb.debian.org/debian"   # as in apt's sources
ROOT = None     # the fresh root of this run (not under the harness's temp dir, which it removes
                # with whatever is in it: this root has /proc and /dev mounted while it runs)

sys.path.insert(0, os.path.join(SRC, "tests", "blackbox"))
import hk                                  # noqa: E402
from hk import check                       # noqa: E402


def sh(argv, **kw):
    """Runs argv, fails the test with its output if it fails; returns its stdout."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)
    check(p.returncode == 0, "%s -> %d\n%s%s" % (" ".join(argv), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return p.stdout


def in_root(*argv):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"}
    return sh(["chroot", ROOT] + list(argv), env=env)


def unit_value(key):
    with open(os.path.join(ROOT, "lib/systemd/system/hallkeeper.service")) as f:
        vals = [line.split("=", 1)[1].strip() for line in f if line.startswith(key + "=")]
    check(len(vals) == 1, "the unit has %d %s= lines" % (len(vals), key))
    return vals[0]


class InstalledDaemon(hk.Daemon):
    """The packaged daemon in the fresh root, started as the unit starts it, on a free port."""

    def argv(self):
        self.port = hk.free_port()
        user = unit_value("User")
        groups = ",".join(unit_value("SupplementaryGroups").split())
        return (["chroot", "--userspec=%s:%s" % (user, user), "--groups=" + groups, ROOT]
                + shlex.split(unit_value("ExecStart")) + ["--listen", "127.0.0.1:%d" % self.port])

    def _env(self):                        # what systemd gives a service: no HALL_PAGES
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def make_root():
    global ROOT
    if not os.path.isdir(os.path.join(CACHE, "usr")):
        print("test_deb: debootstrap of bookworm into %s (once; a few minutes)" % CACHE, flush=True)
        shutil.rmtree(CACHE + ".new", ignore_errors=True)     # what an interrupted run left
        sh(["debootstrap", "--variant=minbase", "--include=systemd", "bookworm", CACHE + ".new", MIRROR])
        os.rename(CACHE + ".new", CACHE)
    ROOT = os.path.join(tempfile.mkdtemp(prefix="hk-deb-"), "bookworm")
    sh(["cp", "-a", CACHE, ROOT])
    shutil.copy("/etc/resolv.conf", os.path.join(ROOT, "etc/resolv.conf"))
    sh(["mount", "-t", "proc", "proc", os.path.join(ROOT, "proc")])
    sh(["mount", "--bind", "/dev", os.path.join(ROOT, "dev")])
    hk.BIN = os.path.join(ROOT, "usr/bin/hallkeeper")     # what Daemon checks before it starts


def drop_root(failed):
    if ROOT is None:
        return
    for m in ("dev", "proc"):
        subprocess.run(["umount", os.path.join(ROOT, m)])
    if any(os.path.ismount(os.path.join(ROOT, m)) for m in ("dev", "proc")):
        print("test_deb: %s still has mounts: left in place" % ROOT)
    elif failed:
        print("test_deb: the root is kept in %s" % ROOT)
    else:
        shutil.rmtree(os.path.dirname(ROOT))


async def test_install():
    shutil.copy(DEB, os.path.join(ROOT, "tmp"))
    in_root("apt-get", "update", "-q")
    in_root("apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/" + os.path.basename(DEB))
    groups = in_root("id", "-nG", "hallkeeper").split()
    check({"hallkeeper", "gpio", "audio"} <= set(groups), "hallkeeper's groups: %r" % groups)
    shell = in_root("getent", "passwd", "hallkeeper").strip().split(":")[6]
    check(shell == "/usr/sbin/nologin", "hallkeeper's shell is %s" % shell)
    st = in_root("stat", "-c", "%U:%G %a", "/var/lib/hallkeeper", "/etc/hallkeeper/hall.yaml").split("\n")
    check(st[0] == "hallkeeper:hallkeeper 750", "/var/lib/hallkeeper is %s" % st[0])
    check(st[1] == "root:hallkeeper 640", "/etc/hallkeeper/hall.yaml is %s (it holds the tokens)" % st[1])
    wants = os.path.join(ROOT, "etc/systemd/system/multi-user.target.wants/hallkeeper.service")
    check(os.path.islink(wants), "the unit is not enabled (no %s)" % wants)
    conff = in_root("dpkg-query", "-W", "-f=${Conffiles}", "hallkeeper")
    check("/etc/hallkeeper/hall.yaml" in conff, "hall.yaml is not a conffile: %r" % conff)


async def test_unit_verifies():
    # the root's own systemd-analyze: its units, its users and groups, its /usr/bin/hallkeeper
    p = subprocess.run(["chroot", ROOT, "systemd-analyze", "verify", "hallkeeper.service"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          "systemd-analyze verify: rc %d\n%s" % (p.returncode, p.stdout + p.stderr))


async def test_starts_and_answers_hello():
    d = InstalledDaemon()
    await d.start(timeout=30)
    # the postinst made this box's own tokens at the first install: none of the published ones is left
    with open(os.path.join(ROOT, "etc/hallkeeper/hall.yaml"), encoding="utf-8") as f:
        conf = f.read()
    check("CHANGE-AT-INSTALL-" not in conf, "the published example tokens are still in the config")
    admin = re.search(r'token: "(admin\.[A-Za-z0-9_-]{32})", role: admin', conf)
    check(admin, "no admin token of 32 random characters in the installed config")
    c = await hk.connect(d.port)
    r = await c.hello(admin.group(1))
    check(r.get("t") == "ok" and r.get("role") == "admin", "hello -> %r" % r)
    check(r.get("hall", {}).get("id") == "hall-1", "not the packaged hall: %r" % r.get("hall"))
    await c.close()
    with open(os.path.join(ROOT, "usr/share/hallkeeper/pages/kiosk.html"), "rb") as f:
        want = f.read()
    loop = asyncio.get_running_loop()
    got = await loop.run_in_executor(None, lambda: urllib.request.urlopen(
        "http://127.0.0.1:%d/kiosk" % d.port, timeout=10).read())
    check(got == want, "GET /kiosk is not the installed kiosk page (%d bytes)" % len(got))
    check(os.path.exists(os.path.join(ROOT, "var/lib/hallkeeper/redis.sock")),
          "no embedded redis-server socket in /var/lib/hallkeeper")
    await d.stop()


async def test_purge():
    in_root("apt-get", "purge", "-y", "-q", "hallkeeper")
    for path in ("usr/bin/hallkeeper", "usr/bin/hallctl", "usr/share/hallkeeper", "etc/hallkeeper",
                 "lib/systemd/system/hallkeeper.service", "var/lib/hallkeeper",
                 "etc/systemd/system/multi-user.target.wants/hallkeeper.service"):
        check(not os.path.lexists(os.path.join(ROOT, path)), "/%s is left after purge" % path)
    # the system user stays (Debian's practice for system users: its uid is not reused)
    in_root("getent", "passwd", "hallkeeper")


def main():
    check(os.geteuid() == 0, "test_deb.py needs root (chroot, mount)")
    failed = True
    try:
        make_root()
        hk.run([test_install, test_unit_verifies, test_starts_and_answers_hello, test_purge])
    except SystemExit as e:          # hk.run exits with the result
        failed = bool(e.code)
        raise
    finally:
        drop_root(failed)


if __name__ == "__main__":
    main()
