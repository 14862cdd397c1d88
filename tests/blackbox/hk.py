"""hk.py: the black-box test harness for hallkeeper.

Starts the real daemon (env HK_BIN) in a fresh temp data dir on a free 127.0.0.1 port, talks
hall.v1 to it over WebSocket (binary msgpack frames), and runs each test script's functions in
order, printing "PASS name" / "FAIL name: reason" and a last line "N passed, N failed".

Public API (also for test_hallctl.py):
  BIN, CTL, SRC                      paths from HK_BIN, HK_CTL, HK_SRC
  Daemon(data=None, config=None, listen=None, args=(), env=None, port=None, demo_tokens=True)
      (listen=None: a free port each start; listen="H:P": that; listen=False: no --listen at all)
      await d.start(timeout=20)      waits for "ready on port"; d.port, d.url, d.data, d.stderr_path
      await d.stop(timeout=10)       SIGTERM; asserts exit 0 within the timeout
      await d.kill()                 SIGKILL of the daemon process only
      await d.kill_group()           SIGKILL of the daemon, its group and its redis-server child
      d.stderr_text(), d.redis_pid(), d.alive()
      await d.start_expect_exit(timeout) -> (rc, stderr)   for daemons that must refuse to start
  await daemon()                     the script's shared demo daemon (stopped and checked at the end)
  async with fresh(**kw) as d:       a daemon of its own, stopped with a clean-exit check at the end
  Redis(dir=None)                    our own redis-server on a unix socket: await r.start(), r.url,
                                     r.sock, await r.stop(), await r.kill(), await r.restart()
  self_signed() -> (cert, key)       a self-signed certificate for 127.0.0.1 (openssl)
  demo_config(redis_url=None, listen="127.0.0.1:8080", hall_id="demo") -> YAML text of the demo hall; write_config(text) -> path
  Client: c = await connect(daemon_or_port_or_url, token=None)   (hello is sent, and must succeed,
      when token is given; DEMO_TOKENS maps role names to the demo tokens; connect_role(d, "kiosk"))
      await c.request(t, timeout=10, **args) -> reply map (raises on timeout/close)
      await c.ok(t, **args) -> reply, asserting t == "ok"
      await c.err(t, want, **args) -> reply, asserting t == "err" and code == want
      await c.hello(token)
      await c.wait_event(name, pred=None, timeout=10) -> event (each event is returned once)
      c.events (all pushes, in order), c.unmatched (replies without a known id), c.closed, c.close_code
      await c.send_raw(bytes_or_str), await c.next_unmatched(timeout), await c.wait_closed(timeout)
      await c.settle()   every event sent to c so far has arrived (the fence of a negative check)
      await c.queue_settled()   the coalesced queue.changed of the last change has reached c
  raw_open(port, rcvbuf), ws_frame(payload), tcp_state(local_port, remote_port)   for abuse tests
  run(tests)                         runs [async fn, ...]; exits 1 on any failure
  check(cond, msg), await until(what, pred, timeout) (polls a condition no client is told of), Skip(reason), tmpdir(), free_port(), await run_cmd(argv, timeout, env) -> (rc, out, err)
  pid_alive(pid), redis_pids_on(path), kill_all_children()
Environment: HK_KEEP=1 keeps the temp dirs (they are kept anyway when a test fails).
"""
import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import msgpack
import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("HK_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("HK_BIN") or os.path.join(SRC, "build", "hallkeeper")
CTL = os.environ.get("HK_CTL") or os.path.join(os.path.dirname(BIN), "hallctl")
PAGES = os.path.join(SRC, "web", "pages")
SUBPROTOCOL = "hall.v1"

# the demo hall's tokens (tests/demo-tokens, copied to a demo daemon's data dir before its first
# start: it makes random ones otherwise); keys: role names, staff2/staff3 for staff 0002/0003
DEMO_TOKEN_FILE = os.path.join(SRC, "tests", "demo-tokens")
DEMO_TOKEN_ROLES = {"kiosk": "kiosk", "display": "display", "staff:0001": "staff", "staff:0002": "staff2",
                    "staff:0003": "staff3", "security": "security", "admin": "admin"}
with open(DEMO_TOKEN_FILE) as _f:
    DEMO_TOKENS = {DEMO_TOKEN_ROLES[k]: t for k, t in
                   (l.split() for l in _f if l.strip() and not l.startswith("#"))}


def write_demo_tokens(data):
    os.makedirs(data, exist_ok=True)
    path = os.path.join(data, "demo-tokens")
    if not os.path.exists(path):
        shutil.copyfile(DEMO_TOKEN_FILE, path)


DEMO_CATEGORIES = {"A": "社保医保", "B": "不动产登记", "C": "帮办代办", "D": "企业开办"}
DEMO_WINDOWS = {1: ["A", "B"], 2: ["C", "A"], 3: ["B", "D"], 4: ["D", "C", "A"]}
OUTCOMES = ["即办件", "承诺件", "联办件", "上报件", "补正", "不予受理"]


class Skip(Exception):
    pass


class CheckFailed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


async def until(what, pred, timeout=10):
    """Polls pred() (plain or async) every 50 ms until it is true; returns its value, or fails
    naming `what` after timeout seconds. For conditions no client is told of (logs, processes)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if asyncio.iscoroutine(v):
            v = await v
        if v:
            return v
        check(time.monotonic() < deadline, "not within %ss: %s" % (timeout, what))
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- processes and temp dirs

_root = None
_children = []          # Popen objects we started (each the leader of its own process group)
_daemons_this_test = []
_keep = bool(os.environ.get("HK_KEEP"))
_failed = False


def tmpdir(prefix="d"):
    global _root
    if _root is None:
        _root = tempfile.mkdtemp(prefix="hk-bb-")
    return tempfile.mkdtemp(prefix=prefix + "-", dir=_root)


def rss_kb(pid):
    """Resident memory of a process (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _spawn(argv, stdout, stderr, env=None):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                         env=env, start_new_session=True)
    _children.append(p)
    return p


def _kill_group(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all_children():
    """SIGKILL for every process this script started and everything running on its temp dirs."""
    for p in _children:
        if p.poll() is None:            # alive and not reaped: its group id cannot have been reused
            _kill_group(p)
    for p in _children:
        try:
            p.wait(timeout=5)
        except Exception:
            pass
    # the daemon runs its redis-server child in a session of its own, so after a kill -9 of the
    # daemon it outlives the group kill above. Whatever runs on our temp dirs is ours to stop.
    if _root:
        for pid, _, _, cmd in _procs():
            if _root + "/" in cmd and pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def _on_sigterm(signum, frame):
    kill_all_children()
    os._exit(1)


async def _wait_proc(p, timeout):
    """Waits for a Popen to exit without blocking the loop; returns its code or None."""
    deadline = time.monotonic() + timeout
    while True:
        rc = p.poll()
        if rc is not None:
            return rc
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.02)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2] != "Z"
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False


def _procs():
    """(pid, ppid, comm, cmdline) for every process we can see."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        rest = st[st.rindex(")") + 2:].split()
        if rest[0] == "Z":
            continue
        out.append((int(name), int(rest[1]), comm, cmd))
    return out


def redis_pids_on(sock_path):
    """pids of live redis-server processes whose command line or title names sock_path."""
    return [pid for pid, _, comm, cmd in _procs()
            if ("redis" in comm or "redis-server" in cmd) and sock_path in cmd]


async def run_cmd(argv, timeout=30, env=None, input=None):
    """Runs a program; returns (rc, stdout, stderr) as text. rc is None on timeout (killed)."""
    p = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        start_new_session=True)
    try:
        out, err = await asyncio.wait_for(p.communicate(input), timeout)
    except asyncio.TimeoutError:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = await p.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# ---------------------------------------------------------------- the daemon

class Daemon:
    def __init__(self, data=None, config=None, listen=None, args=(), env=None, port=None, demo_tokens=True):
        self.data = data or tmpdir("data")
        self.demo_tokens = demo_tokens   # False: the demo hall makes its own at its first start
        self.config = config
        self.port = port
        self.listen = listen
        self.args = list(args)
        self.env = env
        self.proc = None
        self.starts = 0
        self.stderr_path = None
        self.stdout_path = None
        _daemons_this_test.append(self)

    @property
    def url(self):
        return "ws://127.0.0.1:%d/ws" % self.port

    def argv(self):
        argv = [BIN, "--data", self.data]
        if self.listen is None:
            self.port = self.port if self.port and self.starts == 1 else free_port()
            argv += ["--listen", "127.0.0.1:%d" % self.port]
        elif self.listen is not False:          # False: no --listen, the config's http.listen counts
            argv += ["--listen", self.listen]
        if self.config:
            argv += ["--config", self.config]
        return argv + self.args

    def _env(self):
        env = dict(os.environ)
        env.setdefault("HALL_PAGES", PAGES)
        # speech clips depend only on (voice, text): one cache for every daemon of the test run
        env.setdefault("HALL_AUDIO_CACHE", os.path.join(tempfile.gettempdir(), "hk-audio-cache"))
        env.pop("HALL_REDIS_URL", None)
        if self.env:
            env.update(self.env)
        return env

    def _launch(self):
        check(os.path.exists(BIN), "HK_BIN %s does not exist (build the daemon first)" % BIN)
        if not self.config and self.demo_tokens:
            write_demo_tokens(self.data)
        self.starts += 1
        logdir = os.path.dirname(self.data.rstrip("/")) or "."
        base = os.path.join(logdir, "%s.run%d" % (os.path.basename(self.data.rstrip("/")), self.starts))
        self.stderr_path = base + ".stderr"
        self.stdout_path = base + ".stdout"
        argv = self.argv()
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = _spawn(argv, out, err, self._env())
        self.cmdline = argv

    def stderr_text(self):
        if not self.stderr_path:
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    async def start(self, timeout=20):
        self._launch()
        deadline = time.monotonic() + timeout
        while True:
            if "ready on port" in self.stderr_text():
                return self
            rc = self.proc.poll()
            if rc is not None:
                raise CheckFailed("daemon exited with %s before it was ready: %s"
                                  % (rc, self.stderr_text().strip()[-2000:]))
            if time.monotonic() > deadline:
                raise CheckFailed("daemon not ready within %ss" % timeout)
            await asyncio.sleep(0.05)

    async def start_expect_exit(self, timeout=20):
        """For a daemon that must refuse to start: returns (exit code, stderr)."""
        self._launch()
        rc = await _wait_proc(self.proc, timeout)
        if rc is None:
            _kill_group(self.proc)
            await _wait_proc(self.proc, 5)
            raise CheckFailed("daemon still running after %ss (expected it to refuse to start); stderr: %s"
                              % (timeout, self.stderr_text()[-1500:]))
        return rc, self.stderr_text()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    async def stop(self, timeout=10):
        """Graceful stop: SIGTERM, must exit 0 within timeout."""
        if not self.alive():
            raise CheckFailed("daemon is not running (exit %s) when asked to stop"
                              % (self.proc.poll() if self.proc else None))
        self.proc.send_signal(signal.SIGTERM)
        rc = await _wait_proc(self.proc, timeout)
        if rc is None:
            _kill_group(self.proc)
            await _wait_proc(self.proc, 5)
            raise CheckFailed("daemon did not exit within %ss of SIGTERM" % timeout)
        check(rc == 0, "daemon exit status %s after SIGTERM (expected 0); stderr tail: %s"
              % (rc, self.stderr_text()[-1500:]))
        return rc

    async def kill(self):
        """kill -9 of the daemon process alone (its children are left to the daemon's design)."""
        if self.alive():
            self.proc.kill()
        await _wait_proc(self.proc, 10)

    async def kill_group(self):
        """kill -9 of the daemon, its process group and its redis-server child (a crash of the whole
        service, as a cgroup kill does it)."""
        redis = self.redis_pid()
        if self.alive():
            _kill_group(self.proc)
        if self.proc is not None:
            await _wait_proc(self.proc, 10)
        for pid in ([redis] if redis else []) + redis_pids_on(self.redis_sock()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def redis_sock(self):
        return os.path.join(self.data, "redis.sock")

    def redis_pid(self):
        """pid of the embedded redis-server child, or None."""
        if self.alive():
            for pid, ppid, comm, cmd in _procs():
                if ppid == self.proc.pid and ("redis" in comm or "redis-server" in cmd):
                    return pid
        for pf in (os.path.join(self.data, "redis", "redis.pid"), os.path.join(self.data, "redis.pid")):
            try:
                with open(pf) as f:
                    pid = int(f.read().strip())
                if pid_alive(pid):
                    return pid
            except (OSError, ValueError):
                pass
        pids = redis_pids_on(self.redis_sock())
        return pids[0] if pids else None


class fresh:
    """async with fresh(**Daemon kwargs) as d: a daemon of its own, stopped (and checked for a
    clean exit 0) at the end; killed instead if the body failed."""
    def __init__(self, **kw):
        self.kw = kw
        self.d = None

    async def __aenter__(self):
        self.d = Daemon(**self.kw)
        await self.d.start()
        return self.d

    async def __aexit__(self, et, ev, tb):
        if et is None:
            await self.d.stop()
        else:
            await self.d.kill_group()
        return False


_shared = None


async def daemon():
    """The script's shared demo-hall daemon (started on first use)."""
    global _shared
    if _shared is None or not _shared.alive():
        d = Daemon()
        await d.start()
        _shared = d
    return _shared


# ---------------------------------------------------------------- our own redis-server

class Redis:
    def __init__(self, dir=None):
        self.dir = dir or tmpdir("redis")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.log = os.path.join(self.dir, "redis.log")

    @property
    def url(self):
        return "unix://" + self.sock

    async def start(self, timeout=10):
        argv = ["redis-server", "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
                "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                "--daemonize", "no"]
        with open(self.log, "ab") as lf:
            self.proc = _spawn(argv, lf, subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed("redis-server exited: " + open(self.log).read()[-1000:])
            if await self.ping():
                return self
            await asyncio.sleep(0.05)
        raise CheckFailed("redis-server not answering within %ss" % timeout)

    async def ping(self):
        try:
            r, w = await asyncio.wait_for(asyncio.open_unix_connection(self.sock), 1)
            w.write(b"PING\r\n")
            line = await asyncio.wait_for(r.readline(), 1)
            w.close()
            return line.startswith(b"+PONG")
        except (OSError, asyncio.TimeoutError):
            return False

    async def command(self, *args):
        """One command over RESP; returns the raw first reply line (enough for simple checks)."""
        r, w = await asyncio.open_unix_connection(self.sock)
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        w.write(out)
        line = await asyncio.wait_for(r.readline(), 5)
        w.close()
        return line

    async def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            await _wait_proc(self.proc, timeout)

    async def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            await _wait_proc(self.proc, 10)

    async def restart(self):
        await self.kill()
        return await self.start()


# ---------------------------------------------------------------- configurations

def demo_config(redis_url=None, listen="127.0.0.1:8080", hall_id="demo", http=""):
    """The demo hall as a YAML file text (same tokens, categories and windows as the built-in one).
    http: more keys of the http section ("rate_per_connection: 100"). No per-device ticket limit
    (http.issue_per_min: 0), as in the built-in demo: tests issue tickets by the hundred."""
    y = ["hall: { id: %s, name: 测试政务服务中心 }" % hall_id,
         'http: { listen: "%s", issue_per_min: 0%s }' % (listen, ", " + http if http else "")]
    if redis_url:
        y.append('redis: { url: "%s" }' % redis_url)
    y += ["hours:",
          '  - { days: [mon, tue, wed, thu, fri, sat, sun], open: ["00:00-24:00"] }',
          "tokens:",
          '  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }',
          '  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",   role: display }',
          '  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }',
          '  - { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",   role: staff, staff: "0002" }',
          '  - { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD",   role: staff, staff: "0003" }',
          '  - { token: "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u",  role: security }',
          '  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }',
          "staff:",
          '  - { id: "0001", name: 张三, title: 综合受理员 }',
          '  - { id: "0002", name: 李四, title: 综合受理员 }',
          '  - { id: "0003", name: 王五, title: 帮办代办员 }',
          "categories:",
          "  - { id: A, name: 社保医保, weight: 1.0 }",
          "  - { id: B, name: 不动产登记, weight: 1.0 }",
          "  - { id: C, name: 帮办代办, weight: 2.0 }",
          "  - { id: D, name: 企业开办, weight: 1.0 }",
          "windows:",
          "  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall }",
          "  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall }",
          "  - { id: 3, name: 3号窗口, categories: [B, D], zone: hall }",
          "  - { id: 4, name: 4号窗口, categories: [D, C, A], zone: hall }",
          "gpio:",
          "  backend: sim",
          "  lines:",
          "    - { name: fire_panel,    chip: gpiochip0, offset: 17, dir: in,  active_low: true, debounce_ms: 50 }",
          "    - { name: door_main,     chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }",
          "audio:",
          "  sink: none",
          ""]
    return "\n".join(y)


def self_signed(cn="127.0.0.1"):
    """A self-signed certificate and its key (PEM files in a temp dir), made with openssl."""
    d = tmpdir("tls")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=%s" % cn, "-addext", "subjectAltName=IP:%s" % cn],
                   check=True, capture_output=True)
    return cert, key


def write_config(text, name="hall.yaml"):
    path = os.path.join(tmpdir("cfg"), name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------- the WebSocket client

class ClientClosed(Exception):
    pass


_ids = itertools.count(1)


class Client:
    def __init__(self, ws, url):
        self.ws = ws
        self.url = url
        self.events = []
        self.unmatched = []        # decoded frames that are neither events nor awaited replies
        self.raw_frames = []       # frames that did not decode as msgpack maps
        self.replies = {}
        self.closed = False
        self.close_code = None
        self.role = None
        self._waiters = {}
        self._consumed = set()
        self._cond = asyncio.Condition()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for data in self.ws:
                try:
                    if isinstance(data, str):
                        raise ValueError("text frame")
                    m = msgpack.unpackb(data, raw=False, strict_map_key=False)
                except Exception:
                    self.raw_frames.append(data)
                    continue
                if isinstance(m, dict) and m.get("t") == "ev":
                    self.events.append(m)
                elif isinstance(m, dict) and m.get("id") in self._waiters:
                    fut = self._waiters.pop(m.get("id"))
                    if not fut.done():
                        fut.set_result(m)
                else:
                    self.unmatched.append(m)
                async with self._cond:
                    self._cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # a protocol error on our side also ends the connection
            self.unmatched.append({"client_error": repr(e)})
        finally:
            self.closed = True
            self.close_code = self.ws.close_code
            for fut in self._waiters.values():
                if not fut.done():
                    fut.set_exception(ClientClosed("connection closed (code %s)" % self.close_code))
            self._waiters.clear()
            async with self._cond:
                self._cond.notify_all()

    async def send(self, msg):
        await self.ws.send(msgpack.packb(msg, use_bin_type=True))

    async def send_raw(self, data):
        await self.ws.send(data)

    def new_id(self):
        return next(_ids)

    async def request(self, t, timeout=10, **args):
        rid = args.pop("id", None)
        rid = self.new_id() if rid is None else rid
        msg = {"t": t, "id": rid}
        msg.update(args)
        fut = asyncio.get_running_loop().create_future()
        if self.closed:
            raise ClientClosed("connection closed (code %s) before %s" % (self.close_code, t))
        self._waiters[rid] = fut
        try:
            await self.send(msg)
        except websockets.ConnectionClosed:
            self._waiters.pop(rid, None)
            raise ClientClosed("connection closed while sending %s" % t)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._waiters.pop(rid, None)
            raise CheckFailed("no reply to %s within %ss" % (t, timeout))

    async def ok(self, t, **args):
        r = await self.request(t, **args)
        check(r.get("t") == "ok", "%s %r -> %r (expected ok)" % (t, args, r))
        return r

    async def err(self, t, want, **args):
        r = await self.request(t, **args)
        check(r.get("t") == "err" and r.get("code") == want,
              "%s %r -> %r (expected err %s)" % (t, args, r, want))
        check(isinstance(r.get("msg"), str), "err reply without a msg string: %r" % r)
        return r

    async def hello(self, token, events=None):
        """events: the subscription of hello (None: not sent, i.e. every event)."""
        r = await (self.request("hello", token=token) if events is None
                   else self.request("hello", token=token, events=events))
        if r.get("t") == "ok":
            self.role = r.get("role")
        return r

    async def wait_event(self, name, pred=None, timeout=10):
        deadline = time.monotonic() + timeout
        async with self._cond:
            while True:
                for i, e in enumerate(self.events):
                    if i in self._consumed or e.get("ev") != name:
                        continue
                    if pred is None or pred(e):
                        self._consumed.add(i)
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CheckFailed("event %s not seen within %ss (saw %s)"
                                      % (name, timeout, [e.get("ev") for e in self.events[-10:]]))
                if self.closed:
                    raise ClientClosed("connection closed (code %s) while waiting for %s"
                                       % (self.close_code, name))
                try:
                    await asyncio.wait_for(self._cond.wait(), left)
                except asyncio.TimeoutError:
                    pass

    async def wait_for(self, pred, timeout=10):
        """Waits until pred(self) is true (re-evaluated on every frame and on close)."""
        deadline = time.monotonic() + timeout
        async with self._cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._cond.wait(), left)
                except asyncio.TimeoutError:
                    pass
            return True

    async def next_unmatched(self, timeout=5, start=0):
        ok = await self.wait_for(lambda c: len(c.unmatched) > start or c.closed, timeout)
        if len(self.unmatched) > start:
            return self.unmatched[start]
        return None

    async def settle(self, timeout=10):
        """Returns once every event the daemon had sent this client has arrived: its replies and
        events leave through one ordered queue, so a state.get's reply comes behind them. The fence
        a check that something did NOT happen needs (after clock.advance, which ticks the hall
        before it replies, nothing is left to wait for)."""
        await self.ok("state.get", timeout=timeout)

    async def queue_settled(self, timeout=10):
        """Waits until the coalesced queue.changed of the last change has reached this client (the
        hall sends it at its next tick, up to 200 ms after the change): the last one it got shows the
        queues state.get shows. The client must have been connected before that change."""
        deadline = time.monotonic() + timeout
        while True:
            queues = (await self.ok("state.get"))["state"]["queues"]
            seen = [e for e in self.events if e.get("ev") == "queue.changed"]
            if seen and seen[-1].get("queues") == queues:
                return
            n = len(self.events)
            left = deadline - time.monotonic()
            check(left > 0, "no queue.changed showing the queues %r within %ss" % (queues, timeout))
            await self.wait_for(lambda c: len(c.events) > n, left)

    async def wait_closed(self, timeout=5):
        return await self.wait_for(lambda c: c.closed, timeout)

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:
            pass
        try:
            await asyncio.wait_for(self._reader, 5)
        except Exception:
            self._reader.cancel()


async def connect(where, token=None, timeout=10, events=None, **kw):
    """Opens a hall.v1 connection to a port number, a Daemon or a ws:// url; with a token, says hello
    and asserts it was accepted."""
    if isinstance(where, Daemon):
        url = where.url
    elif isinstance(where, int):
        url = "ws://127.0.0.1:%d/ws" % where
    else:
        url = where
    ws = await asyncio.wait_for(
        websockets.connect(url, subprotocols=[SUBPROTOCOL], max_size=None, ping_interval=None,
                           open_timeout=timeout, **kw), timeout)
    c = Client(ws, url)
    if token is not None:
        r = await c.hello(token, events=events)
        check(r.get("t") == "ok", "hello %s -> %r" % (token, r))
    return c


async def connect_role(where, role):
    """connect() with the demo token of a role name (kiosk, display, staff, staff2, ...)."""
    return await connect(where, DEMO_TOKENS[role])


# ---------------------------------------------------------------- a raw TCP WebSocket (for abuse)

def ws_handshake_bytes(port, path="/ws"):
    import base64
    key = base64.b64encode(os.urandom(16)).decode()
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n"
            % (path, port, key, SUBPROTOCOL)).encode()


def ws_frame(payload, opcode=0x2, mask=True, fin=True):
    """A client frame (masked) with the given payload."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def raw_open(port, rcvbuf=None, timeout=10):
    """A plain non-blocking TCP socket that has done the WebSocket handshake (nothing reads it
    unless you do: use loop.sock_recv / loop.sock_sendall)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setblocking(False)
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.sock_connect(s, ("127.0.0.1", port)), timeout)
    await loop.sock_sendall(s, ws_handshake_bytes(port))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await asyncio.wait_for(loop.sock_recv(s, 1), timeout)
        check(chunk, "connection closed during the websocket handshake: %r" % head)
        head += chunk
    check(head.startswith(b"HTTP/1.1 101"), "websocket handshake refused: %r" % head[:200])
    return s


def tcp_state(local_port, remote_port):
    """State of the 127.0.0.1 TCP socket local_port -> remote_port as /proc/net/tcp shows it
    ("ESTABLISHED", "FIN_WAIT1", ...), or None if there is none."""
    names = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
             7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            lp = int(parts[1].split(":")[1], 16)
            rp = int(parts[2].split(":")[1], 16)
            if lp == local_port and rp == remote_port:
                return names.get(int(parts[3], 16), parts[3])
    return None


# ---------------------------------------------------------------- the runner

def _print_daemon_logs(daemons):
    for d in daemons:
        if d.stderr_path:
            print("---- daemon stderr (%s, %s) ----" % (" ".join(getattr(d, "cmdline", [])), d.stderr_path))
            text = d.stderr_text()
            lines = text.splitlines()
            print("\n".join(lines[-80:]))
            print("---- end ----")


async def _run_async(tests, timeout):
    global _failed, _shared
    passed = failed = 0
    for fn in tests:
        name = fn.__name__
        _daemons_this_test.clear()
        try:
            await asyncio.wait_for(fn(), timeout)
            print("PASS %s" % name, flush=True)
            passed += 1
        except Skip as e:
            print("SKIP %s: %s" % (name, e), flush=True)
        except Exception as e:
            failed += 1
            reason = str(e) or repr(e)
            if isinstance(e, asyncio.TimeoutError):
                reason = "timed out after %ss" % timeout
            print("FAIL %s: %s" % (name, reason), flush=True)
            if not isinstance(e, CheckFailed):
                traceback.print_exc(file=sys.stdout)
            logs = list(_daemons_this_test)
            if _shared is not None and _shared not in logs:
                logs.append(_shared)
            _print_daemon_logs(logs)
    if _shared is not None:
        name = "shared_daemon_stops_cleanly"
        _daemons_this_test.clear()
        try:
            await _shared.stop()
            print("PASS %s" % name)
            passed += 1
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
            _print_daemon_logs([_shared])
        _shared = None
    _failed = failed > 0
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return failed


def run(tests, timeout=120):
    """Runs the async test functions in order; exits 1 if any failed."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    failed = 1
    try:
        failed = asyncio.run(_run_async(tests, timeout))
    finally:
        kill_all_children()
        if _root and not _keep and not failed:
            shutil.rmtree(_root, ignore_errors=True)
        elif _root:
            print("(temp files kept in %s)" % _root)
    sys.exit(1 if failed else 0)
