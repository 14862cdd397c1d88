// test_rate.mjs: the rating device (/rate/N) in a real browser against the real daemon: it logs in
// with a kiosk token from the link, shows the ticket just finished at its window, rates it with one
// tap, asks for a reason on a bad rating (which opens a follow-up), thanks, and goes back to idle;
// a ticket finished at another window does not disturb it.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main({ base, wsUrl, newPage }) {
  const kiosk = await wsClient(wsUrl);
  const staff = await wsClient(wsUrl);
  const staff2 = await wsClient(wsUrl);
  const admin = await wsClient(wsUrl);
  await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
  await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });
  await staff2.request("hello", { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez" });
  await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
  await staff.request("window.open", { window: 1 });
  await staff2.request("window.open", { window: 2 });

  // issue, call and finish one ticket at a window; returns its code
  async function serveAt(s, category) {
    const code = (await kiosk.request("ticket.issue", { category })).ticket.code;
    const called = (await s.request("call.next")).ticket.code;
    assert(called === code, `called ${called}, issued ${code}`);
    await s.request("ticket.finish", { outcome: "即办件" });
    return code;
  }

  const page = await newPage(1280, 800);
  try {
    await test("rate: logs in by link and waits idle for window 1", async () => {
      await page.goto(`${base}/rate/1#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
      await page.waitForFunction(() => document.getElementById("win-name").textContent.includes("1号窗口"),
        null, { timeout: 10000 });
      assert(await page.locator("#screen").getAttribute("data-screen") === "idle", "idle at start");
      assert(!page.url().includes("token="), "the token is cut from the address bar");
    });

    await test("rate: a ticket finished at window 1 is shown; one tap rates it 非常满意", async () => {
      const code = await serveAt(staff, "A");
      const t0 = Date.now();
      await page.waitForFunction((c) => {
        const n = document.getElementById("rate-code");
        return n && n.textContent.trim() === c;
      }, code, { timeout: 5000 });
      log(`  ${code} shown after ${Date.now() - t0} ms`);
      const names = await page.locator(".rate-btn").allTextContents();
      for (const lv of ["非常满意", "满意", "基本满意", "不满意", "非常不满意"])
        assert(names.some((n) => n.endsWith(lv)), `a button for ${lv}: ${names}`);
      await page.screenshot({ path: path.join(SHOTS, "rate.png") });
      await page.locator('.rate-btn[data-score="5"]').click();
      await page.locator("#rate-thanks").waitFor({ timeout: 5000 });
      const ev = await waitFor(() => admin.events.find((e) => e.ev === "ticket.rated" && e.code === code), 5000,
        "ticket.rated");
      assert(ev.score === 5 && ev.window === 1, `ticket.rated ${JSON.stringify(ev)}`);
      await page.waitForFunction(() => document.getElementById("screen").dataset.screen === "idle",
        null, { timeout: 8000 });
    });

    await test("rate: a ticket finished at window 2 leaves window 1's device idle", async () => {
      await serveAt(staff2, "C");
      // the page has applied that ticket.finished (it came before the reply on staff2's connection)
      const fin = staff2.events.filter((e) => e.ev === "ticket.finished").pop();
      await page.waitForFunction((s) => Number(document.documentElement.dataset.seq) >= s, fin.seq,
        { timeout: 10000 });
      assert(await page.locator("#screen").getAttribute("data-screen") === "idle", "still idle");
    });

    await test("rate: 不满意 needs a reason, takes a text, opens a follow-up", async () => {
      const code = await serveAt(staff, "B");
      await page.waitForFunction((c) => {
        const n = document.getElementById("rate-code");
        return n && n.textContent.trim() === c;
      }, code, { timeout: 5000 });
      await page.locator('.rate-btn[data-score="2"]').click();
      await page.locator("#reasons .reason-btn").first().waitFor({ timeout: 5000 });
      assert(await page.locator("#rate-submit").isDisabled(), "submit waits for a reason");
      const reasons = await page.locator("#reasons .reason-btn").allTextContents();
      assert(reasons.includes("等候时间过长"), `the default reasons are offered: ${reasons}`);
      await page.locator('#reasons .reason-btn[data-reason="等候时间过长"]').click();
      await page.locator("#rate-text").fill("排队一个多小时");
      await page.screenshot({ path: path.join(SHOTS, "rate-reason.png") });
      await page.locator("#rate-submit").click();
      await page.locator("#rate-thanks").waitFor({ timeout: 5000 });
      const fu = await waitFor(() => admin.events.find((e) => e.ev === "followup.opened" && e.code === code), 5000,
        "followup.opened");
      assert(fu.score === 2 && fu.reason === "等候时间过长" && fu.text === "排队一个多小时" && fu.staff === "0001",
        `followup.opened ${JSON.stringify(fu)}`);
      const st = await admin.request("ratings.stats", { by: "window" });
      assert(st.stats.n === 2 && st.stats.satisfaction_rate === 0.5, `stats ${JSON.stringify(st.stats)}`);
    });

    await test("rate: /rate without a window number says so", async () => {
      const p2 = await newPage(800, 600);
      await p2.goto(`${base}/rate#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
      await p2.waitForFunction(() => document.getElementById("screen").textContent.includes("缺少窗口号"),
        null, { timeout: 10000 });
      await p2.close();
    });
  } finally {
    for (const c of [kiosk, staff, staff2, admin]) c.close();
  }
}

await runBrowserTest({ name: "rate", readyPath: "/rate/1", watchdogMs: 120000 }, main);
