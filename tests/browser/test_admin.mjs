// test_admin.mjs: the manager dashboard (/admin) in a real browser against the real daemon: it
// loads with an admin token, its live numbers follow tickets issued and called over hall.v1, its
// charts are drawn on canvases, the daily report opens as a page and downloads as CSV, panels of
// commands the hall may lack do not stay "loading", another role is told it may not look, and
// nothing is logged as an error in the console.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root), HK_SCREENSHOT_DIR.
// Writes docs/screenshots/admin.png (HK_SCREENSHOT_DIR). Exits non-zero on any failure.
import fs from "node:fs";
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const text = (page, sel) => page.locator(sel).first().textContent();

// Pixels of a canvas that are not transparent: a drawn chart has many.
const inkOf = (page, sel) => page.evaluate((s) => {
  const c = document.querySelector(s);
  if (!c || !c.width || !c.height) return -1;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
  return n;
}, sel);

async function main({ base, wsUrl, newPage }) {
  const page = await newPage(1440, 1000);
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  const kiosk = await wsClient(wsUrl);
  await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
  const staff = await wsClient(wsUrl);
  await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });

  await test("dashboard loads with an admin token: queues, windows, today's figures", async () => {
    await page.goto(`${base}/admin#token=admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6`);
    await page.locator('#queues tr[data-cat="A"]').waitFor({ timeout: 10000 });
    assert(await page.locator("#windows tr[data-window]").count() === 4, "the demo hall's 4 windows are listed");
    await page.waitForFunction(() => document.getElementById("k-served").textContent !== "–", null, { timeout: 10000 });
    assert((await text(page, "#k-served")).trim() === "0", "nothing served yet");
    assert(!page.url().includes("token="), "the token is cut from the address bar");
    assert((await text(page, "#who")).includes("管理员"), "the role is shown");
  });

  await test("live numbers change when tickets are issued and called", async () => {
    const before = Number(await text(page, "#k-waiting"));
    const issuedBefore = Number(await text(page, "#k-issued"));
    for (let i = 0; i < 3; i++) await kiosk.request("ticket.issue", { category: "A" });
    await page.waitForFunction((n) => Number(document.getElementById("k-waiting").textContent) === n,
      before + 3, { timeout: 5000 });
    await page.waitForFunction((n) => Number(document.getElementById("k-issued").textContent) === n,
      issuedBefore + 3, { timeout: 5000 });
    const a = await text(page, '#queues tr[data-cat="A"] td[data-k="waiting"]');
    assert(a.trim() === "3", `category A shows ${a} waiting`);
    await staff.request("window.open", { window: 1 });
    const called = await staff.request("call.next");
    await page.locator('#windows tr[data-window="1"]', { hasText: called.ticket.code }).waitFor({ timeout: 5000 });
    const row = await text(page, '#windows tr[data-window="1"]');
    assert(row.includes("张三") && row.includes("服务中"), `window 1 row '${row}'`);
    await staff.request("ticket.finish", { outcome: "即办件" });
    await kiosk.request("ticket.rate", { code: called.ticket.code, score: 5 });
    await page.waitForFunction(() => document.getElementById("k-served").textContent === "1", null, { timeout: 8000 });
    await page.waitForFunction(() => document.getElementById("k-sat").textContent === "100.0%", null, { timeout: 8000 });
  });

  await test("the charts are drawn on canvases", async () => {
    await page.locator("#chart-waiting canvas").waitFor({ timeout: 5000 });
    await page.locator("#chart-hourly canvas").waitFor({ timeout: 5000 });
    await page.waitForTimeout(300);
    const w = await inkOf(page, "#chart-waiting canvas");
    const h = await inkOf(page, "#chart-hourly canvas");
    assert(w > 200, `the waiting chart has ${w} drawn pixels`);
    assert(h > 200, `the hourly chart has ${h} drawn pixels`);
    const legend = await text(page, "#chart-waiting");
    assert(legend.includes("社保医保"), "the waiting chart's legend names the categories");
  });

  await test("the daily report opens as a page and downloads as CSV", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 10000 }),
      page.locator("#download-csv").click(),
    ]);
    const csv = fs.readFileSync(await download.path(), "utf8");
    assert(/^report-\d{8}\.csv$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
    assert(csv.startsWith("\ufeffday,section,id,name,issued,served"), `CSV header: ${csv.slice(0, 60)}`);
    const hall = csv.split("\r\n").find((l) => l.includes(",hall,demo,"));
    assert(hall && hall.split(",")[4] === "3" && hall.split(",")[5] === "1", `hall row ${hall}`);
    const [rep] = await Promise.all([
      page.context().waitForEvent("page", { timeout: 10000 }),
      page.locator("#open-report").click(),
    ]);
    await rep.waitForFunction(() => document.body && document.body.textContent.includes("服务日报"), null, { timeout: 10000 });
    const body = await rep.textContent("body");
    assert(body.includes("按窗口") && body.includes("1号窗口") && body.includes("100.0%"), "the report page");
    await rep.close();
  });

  await test("panels of optional commands do not stay loading", async () => {
    for (const id of ["#alerts", "#cases", "#followups", "#ratings"]) {
      await page.waitForFunction((s) => !document.querySelector(s).textContent.includes("正在读取"), id, { timeout: 5000 });
    }
    const alerts = await text(page, "#alerts");
    assert(alerts.includes("not available") || alerts.includes("No active alerts") || alerts.length > 0, alerts);
  });

  await test("screenshot", async () => {
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, "admin.png"), fullPage: true });
  });

  await test("another role is told the page needs an admin token", async () => {
    const other = await newPage(1280, 800);
    other.on("pageerror", (e) => problems.push("page error (staff): " + e.message));
    await other.goto(`${base}/admin#token=staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez`);
    await other.locator("#denied:not(.hidden)").waitFor({ timeout: 10000 });
    assert((await text(other, "#denied")).includes("管理员令牌"), "the denial names the admin token");
    await other.close();
  });

  await test("no errors in the console", async () => {
    assert(problems.length === 0, problems.join("\n"));
  });
  kiosk.close();
  staff.close();
  log(`  screenshot in ${SHOTS}`);
}

await runBrowserTest({ name: "admin", readyPath: "/admin", watchdogMs: 120000 }, main);
