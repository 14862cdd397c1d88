// harness.mjs: what every browser test shares: the test()/assert() runner, a hall.v1 client for
// node, and runBrowserTest(), which starts the real daemon and Debian chromium (via playwright-core),
// runs the test body, cleans up (daemon, its embedded redis, temp dirs) and exits with the result.
// Not a test itself: tests/CMakeLists.txt registers tests/browser/test_*.mjs only.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up),
// HK_CHROMIUM (browser, default /usr/bin/chromium), HK_SCREENSHOT_DIR (default: a temp dir).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import WebSocket from "ws";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(process.env.HK_SRC || path.join(HERE, "..", ".."));
const HK_BIN = process.env.HK_BIN;
const CHROMIUM = process.env.HK_CHROMIUM || "/usr/bin/chromium";
// docs/screenshots is refreshed on purpose: HK_SCREENSHOT_DIR=$PWD/docs/screenshots ./scripts/test.sh -L browser
export const SHOTS = process.env.HK_SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), "hk-shots-"));
// The pages' own vendored MessagePack codec: the tests speak hall.v1 with the same library.
const { encode, decode } = await import(
  pathToFileURL(path.join(SRC, "web", "pages", "vendor", "msgpack", "index.mjs")).href);

let passed = 0;
let failed = 0;
let daemon = null;
let daemonLog = "";
let dataDir = null;
let browser = null;
const tmpDirs = [];

export function log(...a) { console.log(...a); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.setTimeout(1000, () => req.destroy(new Error("timeout")));
  });
}

// Ready once GET readyPath answers 200 (a test waits for the page it drives first).
async function startDaemon(port, name, readyPath) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), `hk-${name}-data-`));
  tmpDirs.push(data);
  dataDir = data;
  // the demo hall's tokens, which it would otherwise make at random on its first start
  fs.copyFileSync(path.join(SRC, "tests", "demo-tokens"), path.join(data, "demo-tokens"));
  // Its own process group, so the embedded redis-server child can be cleaned up after SIGKILL.
  daemon = spawn(HK_BIN, ["--data", data, "--listen", `127.0.0.1:${port}`, "--pages", path.join(SRC, "web", "pages")],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  daemon.stdout.on("data", (d) => { daemonLog += d; });
  daemon.stderr.on("data", (d) => { daemonLog += d; });
  const exited = new Promise((r) => daemon.once("exit", (code, sig) => r(`daemon exited (${code ?? sig})`)));
  const deadline = Date.now() + 30000;
  for (;;) {
    const status = await Promise.race([httpGet(`http://127.0.0.1:${port}${readyPath}`).catch(() => 0), exited]);
    if (typeof status === "string") throw new Error(status + "\n" + daemonLog);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`daemon did not serve ${readyPath} within 30 s\n` + daemonLog);
    await sleep(200);
  }
}

// Kills the daemon's process group and the embedded redis-server it started (that one runs in a
// session of its own and outlives a SIGKILLed daemon): its pid is in DATA/redis/redis.pid.
function stopDaemon() {
  if (daemon) {
    try { process.kill(-daemon.pid, "SIGKILL"); } catch (e) { /* already gone */ }
    daemon = null;
  }
  if (!dataDir) return;
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, "redis", "redis.pid"), "utf8").trim());
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (pid > 1 && cmd.includes(dataDir)) process.kill(pid, "SIGKILL");
  } catch (e) { /* no embedded redis, or already gone */ }
}

// A hall.v1 client for node: request(t, args) -> reply (rejects on err), events collected.
// Waits until the events a wsClient collected hold one matching pred; returns it.
export async function eventOf(client, pred, what) {
  const t0 = Date.now();
  for (;;) {
    const e = client.events.find(pred);
    if (e) return e;
    if (Date.now() - t0 > 5000) throw new Error(`no ${what} within 5 s`);
    await sleep(50);
  }
}

export function wsClient(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "hall.v1");
    let nextId = 1;
    const pending = new Map();
    const events = [];
    ws.binaryType = "nodebuffer";
    ws.on("message", (data) => {
      const msg = decode(data);
      if (msg.t === "ev") { events.push(msg); return; }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.t === "ok") p.resolve(msg); else p.reject(new Error(`${msg.code}: ${msg.msg}`));
    });
    ws.once("error", reject);
    ws.once("open", () => resolve({
      events,
      request(t, args = {}) {
        return new Promise((res, rej) => {
          const id = nextId++;
          pending.set(id, { resolve: res, reject: rej });
          ws.send(encode({ ...args, t, id }));
          setTimeout(() => { if (pending.delete(id)) rej(new Error(`${t}: no reply in 5 s`)); }, 5000);
        });
      },
      close() { ws.terminate(); },
    }));
  });
}

const cspViolations = [];

async function newPage(width, height) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  page.on("pageerror", (e) => log(`  [page error] ${page.url()}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    log(`  [console] ${page.url()}: ${m.text()}`);
    // the pages must work under the daemon's Content-Security-Policy (docs/security.md)
    if (m.text().includes("Content Security Policy")) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
  return page;
}

// Runs one browser test file and exits the process: 0 if every test() passed, 1 on any failure
// (a setup error or the watchdog counts as one), 2 without HK_BIN.
// name: temp dir prefix; readyPath: the page that must answer 200 before the body starts;
// watchdogMs: the whole run's limit. body({ base, wsUrl, newPage, daemonPid }) calls test().
export async function runBrowserTest({ name, readyPath, watchdogMs }, body) {
  const watchdog = setTimeout(() => {
    log(`FAIL the browser test took over ${watchdogMs / 1000} s`);
    stopDaemon();
    process.exit(1);
  }, watchdogMs);

  try {
    if (!HK_BIN) {
      log("HK_BIN is not set: the path of the hallkeeper binary is required");
      process.exit(2);
    }
    fs.mkdirSync(SHOTS, { recursive: true });
    const port = await freePort();
    await startDaemon(port, name, readyPath);

    const profile = fs.mkdtempSync(path.join(os.tmpdir(), `hk-${name}-chromium-`));
    tmpDirs.push(profile);
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"],
    });

    await body({
      base: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      newPage,
      daemonPid: daemon.pid,
    });
    if (cspViolations.length) {
      failed++;
      log(`FAIL the Content-Security-Policy refused ${cspViolations.length} thing(s): ${cspViolations[0]}`);
    }
  } catch (e) {
    failed++;
    log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    stopDaemon();
    clearTimeout(watchdog);
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  }
  if (failed && daemonLog) log("---- daemon log (tail) ----\n" + daemonLog.split("\n").slice(-30).join("\n"));
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
