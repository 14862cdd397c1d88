// test_duty.mjs: the staff-on-duty board (/duty) in a real browser against the real daemon (the
// demo hall: windows 1-3 have A and B posts held by staff 0001-0003). The board lists every
// window with the names and titles of its posts, shows a check-in made over hall.v1 (at once
// with a window change, else by its 10 s refresh), and shows nothing of alerts.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root). Writes duty.png to SHOTS.
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const stateOf = (page, staff) => page.locator(`#duty .dw .dp[data-staff="${staff}"]`).first();

async function main({ base, wsUrl, newPage }) {
  const page = await newPage(1920, 1080);
  await test("duty board: every window with its A and B posts", async () => {
    await page.goto(`${base}/duty#token=display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj`);
    await page.locator('#duty .dw[data-window="1"]').waitFor({ timeout: 10000 });
    assert(await page.locator("#duty .dw").count() === 4, "one card per window of the demo hall");
    const w1 = await page.locator('#duty .dw[data-window="1"]').textContent();
    assert(w1.includes("1号窗口") && w1.includes("张三") && w1.includes("李四"), `window 1 card '${w1}'`);
    assert(w1.includes("A岗") && w1.includes("B岗") && w1.includes("综合受理员"), `window 1 posts '${w1}'`);
    const w4 = await page.locator('#duty .dw[data-window="4"]').textContent();
    assert(w4.includes("未设"), `window 4 has no posts: '${w4}'`);
    assert((await stateOf(page, "0001").textContent()).includes("未在岗"), "0001 is not checked in yet");
    assert(!page.url().includes("token="), "the token is cut from the address bar");
  });

  await test("duty board: a check-in and a window opening show within 5 s", async () => {
    const staff = await wsClient(wsUrl);
    try {
      await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });
      const r = await staff.request("staff.checkin", { window: 1 });
      assert(r.post === "a", `0001 is post a of window 1, got ${r.post}`);
      await staff.request("window.open", { window: 1 });
      const t0 = Date.now();
      await page.waitForFunction(() => {
        const p = document.querySelector('#duty .dw[data-window="1"] .dp[data-staff="0001"]');
        return p && p.classList.contains("in") && p.textContent.includes("在岗") && !p.textContent.includes("未在岗");
      }, null, { timeout: 5000 });
      log(`  board showed 0001 on duty after ${Date.now() - t0} ms`);
      const w1 = await page.locator('#duty .dw[data-window="1"] .dw-status').textContent();
      assert(w1.includes("服务中"), `window 1 status '${w1}'`);
    } finally {
      staff.close();
    }
  });

  await test("duty board: a check-in alone shows by the next refresh (10 s)", async () => {
    const staff = await wsClient(wsUrl);
    try {
      await staff.request("hello", { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD" });
      await staff.request("staff.checkin", { window: 3 });
      await page.waitForFunction(() => {
        const p = document.querySelector('#duty .dw[data-window="3"] .dp[data-staff="0003"]');
        return p && p.classList.contains("in");
      }, null, { timeout: 13000 });
      const b = await page.locator('#duty .dw[data-window="2"] .dp[data-staff="0003"]').textContent();
      assert(b.includes("未在岗"), `0003 is B of window 2 and checked in at 3, not 2: '${b}'`);
      const all = await page.locator("body").textContent();
      assert(!all.includes("alert") && !all.includes("预警"), "the public board shows no alerts");
      await page.screenshot({ path: path.join(SHOTS, "duty.png") });
    } finally {
      staff.close();
    }
  });
}

await runBrowserTest({ name: "duty", readyPath: "/duty", watchdogMs: 120000 }, main);
