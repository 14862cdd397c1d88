// test_pages.mjs: the hall's web pages in a real browser (Debian chromium via playwright-core)
// against the real daemon: kiosk issues a ticket, the display shows a call made over hall.v1,
// the staff tablet calls a ticket, and the offline banner appears when the daemon dies.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
// Writes docs/screenshots/{kiosk,display,staff}.png. Exits non-zero on any failure.
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

async function main({ base, wsUrl, newPage, daemonPid }) {
  let kioskCode = null;
  await test("kiosk: tapping category A shows a ticket card", async () => {
    const page = await newPage(1280, 800);
    await page.goto(`${base}/kiosk#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
    const btn = page.locator('button.cat-btn[data-category="A"]');
    await btn.waitFor({ timeout: 10000 });
    await btn.click();
    const code = page.locator("#ticket-code");
    await code.waitFor({ timeout: 5000 });
    kioskCode = (await code.textContent()).trim();
    assert(/^A\d{3}$/.test(kioskCode), `ticket code '${kioskCode}' is not like A001`);
    const card = await page.locator("#ticket-card").textContent();
    assert(card.includes("社保医保"), "the card names the category");
    assert(/前面还有\s*\d+\s*人/.test(card), "the card says how many are ahead");
    assert(/预计等待\s*\d+\s*分钟/.test(card), "the card gives the estimated wait");
    assert(!page.url().includes("token="), "the token is cut from the address bar");
    await page.screenshot({ path: path.join(SHOTS, "kiosk.png") });
    await page.close();
  });

  const display = await newPage(1920, 1080);
  await test("display: a call made over hall.v1 shows code and window within 5 s", async () => {
    await display.goto(`${base}/display#token=display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj`);
    await display.locator("#windows .bw").first().waitFor({ timeout: 10000 });
    const staff = await wsClient(wsUrl);
    try {
      const hello = await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });
      assert(hello.role === "staff", `hello role is ${hello.role}`);
      await staff.request("window.open", { window: 1 });
      const r = await staff.request("call.next");
      const code = r.ticket.code;
      assert(!kioskCode || code === kioskCode, `called ${code}, the kiosk's ticket was ${kioskCode}`);
      const t0 = Date.now();
      await display.waitForFunction((c) => {
        const code = document.getElementById("latest-code");
        const win = document.getElementById("latest-win");
        return code && win && code.textContent.trim() === c && win.textContent.includes("1号窗口");
      }, code, { timeout: 5000 });
      log(`  display showed ${code} -> 1号窗口 after ${Date.now() - t0} ms`);
      const w1 = await display.locator('#windows .bw[data-window="1"]').textContent();
      assert(w1.includes(code), "window 1's tile shows the called ticket");
      // A second window calls too, so the board shows a list of calls and waiting tickets.
      const kiosk = await wsClient(wsUrl);
      const other = await wsClient(wsUrl);
      try {
        await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
        for (const c of ["B", "B", "D", "D", "D"]) await kiosk.request("ticket.issue", { category: c });
        await other.request("hello", { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD" });
        await other.request("window.open", { window: 3 });
        const second = (await other.request("call.next")).ticket.code;
        await display.waitForFunction((c) => document.getElementById("latest-code").textContent.trim() === c,
          second, { timeout: 5000 });
        const recent = await display.locator("#recent").textContent();
        assert(recent.includes(code), `the earlier call ${code} is listed under 最近叫号`);
      } finally {
        kiosk.close();
        other.close();
      }
      await display.waitForTimeout(3200);   // let the flash end before the screenshot
      await display.screenshot({ path: path.join(SHOTS, "display.png") });
    } finally {
      staff.close();
    }
  });

  await test("staff: log in by link, open window 2, call the next ticket", async () => {
    const kiosk = await wsClient(wsUrl);
    let issued;
    try {
      await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
      issued = (await kiosk.request("ticket.issue", { category: "C", priority: "normal" })).ticket.code;
    } finally {
      kiosk.close();
    }
    const page = await newPage(1280, 800);
    await page.goto(`${base}/staff#token=staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez`);
    const pick = page.locator('#window-pick button[data-window="2"]');
    await pick.waitFor({ timeout: 10000 });
    await pick.click();
    await page.locator("#work").waitFor({ state: "visible", timeout: 5000 });
    await page.locator("#b-call").click();
    await page.waitForFunction((c) => document.getElementById("cur-code").textContent.trim() === c,
      issued, { timeout: 5000 });
    await page.locator("#b-call").waitFor({ state: "attached" });
    assert(await page.locator("#b-call").isDisabled(), "叫号 is disabled while a ticket is at the window");
    await page.locator("#b-start").click();
    await page.waitForFunction(() => document.getElementById("cur-meta").textContent.includes("办理中"),
      null, { timeout: 5000 });
    await page.screenshot({ path: path.join(SHOTS, "staff-serving.png") });
    await page.locator("#b-finish").click();
    await page.locator("#sheet button", { hasText: "即办件" }).click();
    await page.waitForFunction(() => document.getElementById("cur-code").textContent.trim() === "暂无",
      null, { timeout: 5000 });
    await page.locator("#b-call").click();
    await page.waitForFunction(() => document.getElementById("msg").textContent.includes("当前无人排队"),
      null, { timeout: 5000 });
    await page.close();
  });

  await test("offline banner within 3 s of the daemon being killed", async () => {
    assert(await display.locator("#offline-banner").count() === 0, "no banner while the daemon runs");
    const t0 = Date.now();
    process.kill(daemonPid, "SIGKILL");
    await display.locator("#offline-banner").waitFor({ state: "visible", timeout: 3000 });
    const text = await display.locator("#offline-banner").textContent();
    assert(text.includes("离线"), `banner text '${text}'`);
    log(`  banner after ${Date.now() - t0} ms`);
  });
}

await runBrowserTest({ name: "pages", readyPath: "/", watchdogMs: 180000 }, main);
