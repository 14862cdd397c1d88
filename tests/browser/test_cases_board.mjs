// test_cases_board.mjs: the public case-progress board (/cases) in a real browser against the real
// daemon: a 承诺件 finished at a window appears with its code, status and deadline within seconds;
// the page shows no staff or visitor names; a closed case shows as 已办结; a long board scrolls.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

async function main({ base, wsUrl, newPage }) {
  const kiosk = await wsClient(wsUrl);
  const staff = await wsClient(wsUrl);
  const admin = await wsClient(wsUrl);
  await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
  await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });
  await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
  await staff.request("window.open", { window: 1 });

  async function serve(category, outcome) {
    const code = (await kiosk.request("ticket.issue", { category })).ticket.code;
    await staff.request("call.next");
    const r = await staff.request("ticket.finish", { outcome });
    return { code, kase: r.case };
  }

  const page = await newPage(1920, 1080);
  try {
    let first;
    await test("board: a 承诺件 appears with code, 办理中 and its deadline", async () => {
      await page.goto(`${base}/cases#token=display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj`);
      await page.locator("#summary b").first().waitFor({ timeout: 10000 });
      first = await serve("B", "承诺件");
      assert(Number.isInteger(first.kase), `ticket.finish reply names the case: ${first.kase}`);
      const t0 = Date.now();
      const row = page.locator(`.case-row[data-code="${first.code}"]`);
      await row.waitFor({ timeout: 5000 });
      log(`  ${first.code} on the board after ${Date.now() - t0} ms`);
      const text = await row.textContent();
      assert(text.includes("办理中") && text.includes("承诺件"), `row '${text}'`);
      assert(/\d+月\d+日/.test(text), `the row shows a deadline: '${text}'`);
      assert(await page.locator("#n-active").textContent() === "1", "one case in progress");
    });

    await test("board: no names of staff or visitors anywhere on the page", async () => {
      const all = await page.locator("body").textContent();
      for (const name of ["张三", "李四", "王五", "0001"]) assert(!all.includes(name), `the page shows '${name}'`);
    });

    await test("board: a closed case shows 已办结; the board scrolls when it is long", async () => {
      await admin.request("case.close", { case: first.kase, result: "准予登记" });
      for (let i = 0; i < 24; i++) await serve(i % 2 ? "A" : "B", "承诺件");
      await page.waitForFunction((c) => {
        const r = document.querySelector(`.case-row[data-code="${c}"]`);
        return r && r.dataset.status === "closed" && r.textContent.includes("已办结");
      }, first.code, { timeout: 8000 });
      const rows = await page.locator(".case-row").count();
      assert(rows === 25, `25 rows, got ${rows}`);
      await page.screenshot({ path: path.join(SHOTS, "cases.png") });
      await page.setViewportSize({ width: 1280, height: 600 });
      // the scroll waits a few seconds at the top, then moves
      await page.waitForFunction(() => document.getElementById("scroll").scrollTop > 20, null, { timeout: 12000 });
    });

    await test("board: a display may read cases.board but not the staff's cases.list", async () => {
      const disp = await wsClient(wsUrl);
      try {
        await disp.request("hello", { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj" });
        const r = await disp.request("cases.board");
        for (const c of r.cases) {
          for (const k of Object.keys(c))
            assert(["code", "kind", "matter", "status", "deadline", "day"].includes(k), `board key ${k}`);
        }
        let refused = "";
        try { await disp.request("cases.list"); } catch (e) { refused = String(e.message); }
        assert(refused.startsWith("forbidden"), `cases.list as display: '${refused}'`);
      } finally {
        disp.close();
      }
    });
  } finally {
    for (const c of [kiosk, staff, admin]) c.close();
  }
}

await runBrowserTest({ name: "cases-board", readyPath: "/cases", watchdogMs: 120000 }, main);
