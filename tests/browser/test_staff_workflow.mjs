// test_staff_workflow.mjs: the window staff's tablet (/staff) in a real browser against the real
// daemon running a hall with AB posts and matters (its own config, --test-clock): a staff member
// checks in at post A, calls and finishes a ticket as 承诺件 with a matter picked from the
// ticket's category, sees the case under 我的办件 and closes it; an err reply of ticket.finish is
// shown in the sheet; when A pauses the window and the hall's clock passes away_alert_min, post B
// sees the alert appear and acknowledges it; today's appointments are listed with names and
// follow a check-in. Writes docs/screenshots/staff.png (HK_SCREENSHOT_DIR).
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(process.env.HK_SRC || path.join(HERE, "..", ".."));

// The demo hall's people and two windows with posts (1: A 0001, B 0002), plus matters.
const CONFIG = `
hall: { id: wf, name: 测试政务服务中心 }
http: { listen: "127.0.0.1:8080" }
hours:
  - { days: [mon, tue, wed, thu, fri, sat, sun], open: ["00:00-24:00"] }
tokens:
  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }
  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }
  - { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",   role: staff, staff: "0002" }
  - { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD",   role: staff, staff: "0003" }
  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }
staff:
  - { id: "0001", name: 张三, title: 综合受理员 }
  - { id: "0002", name: 李四, title: 综合受理员 }
  - { id: "0003", name: 王五, title: 帮办代办员 }
categories:
  - { id: A, name: 社保医保, weight: 1.0 }
  - { id: B, name: 不动产登记, weight: 1.0 }
windows:
  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall, posts: { a: "0001", b: "0002" } }
  - { id: 2, name: 2号窗口, categories: [B, A], zone: hall, posts: { a: "0002", b: "0003" } }
work: { rollover: "00:00", checkin_before_min: 10, away_alert_min: 10, empty_alert_min: 5 }
matters:
  - { id: SB01,  name: 社保关系转移,     category: A, promised_days: 3, legal_days: 10 }
  - { id: SB02,  name: 养老保险待遇核定, category: A, promised_days: 5 }
  - { id: BDC01, name: 不动产转移登记,   category: B, promised_days: 5, legal_days: 30 }
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); });
    req.on("error", () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

// The harness runs the built-in demo hall; this test needs posts, matters and a movable clock, so
// it runs a second daemon of its own (same cleanup: process group, then the embedded redis-server).
async function startHall() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hk-staff-wf-"));
  const cfg = path.join(dir, "hall.yaml");
  fs.writeFileSync(cfg, CONFIG);
  const data = path.join(dir, "data");
  const port = await freePort();
  const proc = spawn(process.env.HK_BIN, ["--config", cfg, "--data", data, "--listen", `127.0.0.1:${port}`,
    "--pages", path.join(SRC, "web", "pages"), "--test-clock"], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => { out += d; });
  proc.stderr.on("data", (d) => { out += d; });
  let exited = null;
  proc.once("exit", (code, sig) => { exited = `exited (${code ?? sig})`; });
  const hall = {
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    log: () => out,
    stop() {
      try { process.kill(-proc.pid, "SIGKILL"); } catch (e) { /* gone */ }
      try {
        const pid = Number(fs.readFileSync(path.join(data, "redis", "redis.pid"), "utf8").trim());
        if (pid > 1 && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(data)) process.kill(pid, "SIGKILL");
      } catch (e) { /* no embedded redis, or gone */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30000;
  while ((await httpStatus(`${hall.base}/staff`)) !== 200) {
    if (exited || Date.now() > deadline) {
      hall.stop();
      throw new Error(`the workflow hall did not start: ${exited || "no answer in 30 s"}\n${out}`);
    }
    await sleep(200);
  }
  return hall;
}

const pad2 = (n) => String(n).padStart(2, "0");

async function main({ newPage }) {
  const hall = await startHall();
  const problems = [];
  const clients = [];
  const connect = async (token) => {
    const c = await wsClient(hall.wsUrl);
    clients.push(c);
    await c.request("hello", { token });
    return c;
  };
  const watch = (page, who) => {
    page.on("pageerror", (e) => problems.push(`${who}: page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") problems.push(`${who}: console: ${m.text()}`); });
  };
  try {
    const admin = await connect("admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6");
    const kiosk = await connect("kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq");
    const text = (page, sel) => page.locator(sel).first().textContent();

    // B's tablet first: the same browser keeps one stored token per page, and each tab keeps its own.
    const pageB = await newPage(1280, 900);
    watch(pageB, "B");
    await pageB.goto(`${hall.base}/staff#token=staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez`);
    await pageB.locator('#duty-actions button[data-checkin="1"]').waitFor({ timeout: 10000 });

    const page = await newPage(1280, 900);
    watch(page, "A");

    // An appointment of today, bookable from now: the slot starts in 2 minutes, ends at 24:00.
    const now = new Date(Date.now() + 2 * 60000);
    const apptNumber = "YY" + Date.now();
    let apptOk = now.getDate() === new Date().getDate() && now.getHours() < 23;
    if (apptOk) {
      await admin.request("appointment.add", { number: apptNumber, name: "欧阳娜娜", category: "A",
        slot_start: `${pad2(now.getHours())}:${pad2(now.getMinutes())}`, slot_end: "24:00", matter: "社保卡补办" });
    } else {
      log("  (near midnight: the appointment part is skipped)");
    }

    await test("check in at post A: post, time and the late flag as the controller says", async () => {
      await page.goto(`${hall.base}/staff#token=staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp`);
      const btns = page.locator("#duty-actions button[data-checkin]");
      await btns.first().waitFor({ timeout: 10000 });
      const labels = await btns.allTextContents();
      assert(labels.length === 1 && labels[0].includes("1号窗口") && labels[0].includes("A岗"), `check-in buttons ${labels}`);
      await page.locator('#duty-actions button[data-checkin="1"]').click();
      await page.waitForFunction(() => document.getElementById("duty-text").textContent.includes("已签到 1号窗口"),
        null, { timeout: 5000 });
      assert((await text(page, "#duty-post")).trim() === "A岗", "the post pill says A岗");
      const duty = await admin.request("duty.get");
      const a = duty.windows.find((w) => w.id === 1).posts.a;
      assert(a.checked_in && a.id === "0001", "duty.get has 0001 checked in at window 1");
      const ev = admin.events.find((e) => e.ev === "staff.checked_in" && e.staff === "0001");
      assert(ev, "staff.checked_in was pushed");
      const lateShown = await page.locator("#duty-late").isVisible();
      assert(lateShown === !!ev.late, `late flag shown ${lateShown}, event says ${ev.late}`);
      assert(await page.locator("#b-checkout").isVisible(), "签退 is offered");
    });

    let code;
    await test("call and finish as 承诺件 with a matter of the ticket's category: the case is under 我的办件", async () => {
      await page.locator('#window-pick button[data-window="1"]').click();
      await page.locator("#work").waitFor({ state: "visible", timeout: 5000 });
      code = (await kiosk.request("ticket.issue", { category: "A" })).ticket.code;
      await page.locator("#b-call").click();
      await page.waitForFunction((c) => document.getElementById("cur-code").textContent.trim() === c, code, { timeout: 5000 });
      await page.locator("#b-start").click();
      await page.waitForFunction(() => document.getElementById("cur-meta").textContent.includes("办理中"), null, { timeout: 5000 });
      await page.locator("#b-finish").click();
      await page.locator('#sheet button[data-outcome="承诺件"]').click();
      await page.locator("#matters").waitFor({ timeout: 5000 });
      const offered = await page.locator("#matters button[data-matter]").evaluateAll((bs) => bs.map((b) => b.dataset.matter));
      assert(offered.includes("SB01") && offered.includes("SB02") && !offered.includes("BDC01"),
        `matters offered for category A: ${offered}`);
      await page.locator('#matters button[data-matter="SB01"]').click();
      assert((await text(page, "#matter-note")).includes("3 个工作日"), "the promised limit is shown");
      await page.locator("#finish-ok").click();
      await page.waitForFunction(() => document.getElementById("msg").textContent.includes("办件 #"), null, { timeout: 5000 });
      assert(await page.locator("#sheet").count() === 0, "the sheet closed");
      assert((await text(page, "#cur-code")).trim() === "暂无", "the window is free again");
      const row = page.locator("#cases li[data-case]", { hasText: code });
      await row.waitFor({ timeout: 5000 });
      const t = await row.textContent();
      assert(t.includes("社保关系转移") && t.includes("承诺件") && t.includes("办理中") && t.includes("期限"), `case row '${t}'`);
      const list = await admin.request("cases.list", { status: "active" });
      const k = list.cases.find((c) => c.code === code);
      assert(k && k.matter === "SB01" && k.kind === "承诺件" && k.staff === "0001", `the controller's case ${JSON.stringify(k)}`);
    });

    await test("finish errors: a 补正 without materials, and an err reply, are shown in the sheet", async () => {
      const second = (await kiosk.request("ticket.issue", { category: "B" })).ticket.code;
      await page.locator("#b-call").click();
      await page.waitForFunction((c) => document.getElementById("cur-code").textContent.trim() === c, second, { timeout: 5000 });
      await page.locator("#b-finish").click();
      await page.locator('#sheet button[data-outcome="补正"]').click();
      await page.locator("#finish-ok").click();
      await page.locator("#finish-err").waitFor({ state: "visible", timeout: 3000 });
      assert((await text(page, "#finish-err")).includes("补正的材料"), "asks for the missing materials");
      await page.locator("#missing").fill("身份证复印件、户口簿");
      await page.locator("#missing-add").click();
      assert(await page.locator("#missing-list .chip").count() === 2, "two materials listed");
      // The ticket is finished elsewhere meanwhile (the same staff member on a second connection):
      // the page's finish gets an err reply, shown in the sheet, which stays open.
      const other = await connect("staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp");
      await other.request("window.open", { window: 1 });
      await other.request("ticket.finish", { outcome: "即办件" });
      await page.locator("#finish-ok").click();
      await page.waitForFunction(() => {
        const e = document.getElementById("finish-err");
        return e && !e.textContent.includes("补正的材料") && e.textContent.length > 4;
      }, null, { timeout: 5000 });
      const msg = await text(page, "#finish-err");
      log(`  err reply shown: ${msg}`);
      assert(msg.includes("：") && await page.locator("#sheet").count() === 1, `error '${msg}'`);
      await page.locator("#sheet button.cancel").click();
    });

    await test("联办件 with lead window and partners, 上报件 with sent_to: the cases carry them", async () => {
      const finishWith = async (category, outcome, fill) => {
        const c = (await kiosk.request("ticket.issue", { category })).ticket.code;
        await page.locator("#b-call").click();
        await page.waitForFunction((x) => document.getElementById("cur-code").textContent.trim() === x, c, { timeout: 5000 });
        await page.locator("#b-finish").click();
        await page.locator(`#sheet button[data-outcome="${outcome}"]`).click();
        await fill();
        await page.locator("#finish-ok").click();
        await page.waitForFunction((x) => document.getElementById("msg").textContent.includes(x + " 已办结"), c, { timeout: 5000 });
        return c;
      };
      const joint = await finishWith("A", "联办件", async () => {
        await page.locator('#matters button[data-matter="SB02"]').click();
        await page.locator("#lead-window").selectOption("2");
        await page.locator("#partners").fill("税务局、市场监管局");   // sent without pressing 添加
      });
      const up = await finishWith("B", "上报件", async () => {
        await page.locator('#matters button[data-matter="BDC01"]').click();
        await page.locator("#sent-to").fill("市行政审批局");
      });
      const list = (await admin.request("cases.list", { status: "active" })).cases;
      const j = list.find((c) => c.code === joint);
      const u = list.find((c) => c.code === up);
      assert(j && j.kind === "联办件" && j.lead_window === 2 && JSON.stringify(j.partners) === '["税务局","市场监管局"]',
        `联办件 case ${JSON.stringify(j)}`);
      assert(u && u.kind === "上报件" && u.sent_to === "市行政审批局" && u.matter === "BDC01", `上报件 case ${JSON.stringify(u)}`);
      await page.locator("#cases li[data-case]", { hasText: up }).waitFor({ timeout: 5000 });
      assert(await page.locator("#cases li[data-case]").count() === 3, "three cases under 我的办件");
    });

    await test("B sees an alert when A is away (paused past away_alert_min), and acknowledges it", async () => {
      await page.locator("#b-pause").click();
      await page.locator("#sheet button", { hasText: "临时离开" }).click();
      await page.waitForFunction(() => document.getElementById("win-status").textContent.includes("暂停"), null, { timeout: 5000 });
      assert(await pageB.locator('#alerts li[data-alert]', { hasText: "A岗离岗" }).count() === 0, "no alert yet");
      // The controller's tick notes when the pause began: clock.advance ticks once before the
      // jump, as a real hall's tick would see the pause before the time passes.
      await admin.request("clock.advance", { ms: 11 * 60000 });
      const rowB = pageB.locator("#alerts li[data-alert]", { hasText: "A岗离岗" });
      await rowB.waitFor({ timeout: 5000 });
      assert((await rowB.textContent()).includes("1号窗口"), "the alert names window 1");
      assert(await pageB.locator("#alerts-panel.hot").count() === 1, "B's alerts panel is marked");
      // A sees it too (it is about A), without the acknowledge button: B is the one asked to act.
      const rowA = page.locator("#alerts li[data-alert]", { hasText: "A岗离岗" });
      await rowA.waitFor({ timeout: 5000 });
      assert(await rowA.locator("button").count() === 0, "A cannot acknowledge B's alert");
      await page.screenshot({ path: path.join(SHOTS, "staff.png"), fullPage: true });
      await rowB.locator("button", { hasText: "知道了" }).click();
      await rowB.waitFor({ state: "detached", timeout: 5000 });
      const cleared = admin.events.find((e) => e.ev === "alert.cleared" && e.reason === "ack");
      assert(cleared && cleared.by === "0002", `alert.cleared by B: ${JSON.stringify(cleared)}`);
      await page.locator("#b-pause").click();   // 恢复
      await page.waitForFunction(() => document.getElementById("win-status").textContent.includes("服务中"), null, { timeout: 5000 });
    });

    await test("close the case with a result: it leaves 我的办件 and is closed at the controller", async () => {
      const row = page.locator("#cases li[data-case]", { hasText: code });
      await row.locator("button", { hasText: "办结" }).click();
      await page.locator("#case-close-ok").click();
      await page.locator("#case-err").waitFor({ state: "visible", timeout: 3000 });
      await page.locator("#sheet .chip", { hasText: "准予许可" }).click();
      await page.locator("#case-close-ok").click();
      await row.waitFor({ state: "detached", timeout: 5000 });
      assert((await text(page, "#msg")).includes("已办结"), "the tablet confirms");
      const closed = await admin.request("cases.list", { status: "closed" });
      const k = closed.cases.find((c) => c.code === code);
      assert(k && k.result === "准予许可" && k.closed_by === "0001", `closed case ${JSON.stringify(k)}`);
    });

    await test("today's appointments: number, slot, category, name, and the check-in", async () => {
      if (!apptOk) return;
      const row = page.locator(`#appts li[data-appt="${apptNumber}"]`);
      await row.waitFor({ timeout: 5000 });
      let t = await row.textContent();
      assert(t.includes("欧阳娜娜") && t.includes("待签到") && t.includes("24:00") && t.includes("社保医保"), `row '${t}'`);
      const tk = (await kiosk.request("ticket.issue", { appointment: apptNumber })).ticket.code;
      await page.waitForFunction(([n, c]) => {
        const r = document.querySelector(`#appts li[data-appt="${n}"]`);
        return r && r.textContent.includes("已签到") && r.textContent.includes(c);
      }, [apptNumber, tk], { timeout: 5000 });
    });

    await test("check out", async () => {
      await page.locator("#b-checkout").click();
      await page.locator("#b-checkout-ok").click();
      await page.waitForFunction(() => document.getElementById("duty-text").textContent.includes("未签到"), null, { timeout: 5000 });
      const ev = admin.events.find((e) => e.ev === "staff.checked_out" && e.staff === "0001");
      assert(ev && ev.reason === "checkout", "staff.checked_out was pushed");
    });

    await test("no errors in the pages' consoles", async () => {
      assert(problems.length === 0, problems.join("\n"));
    });
  } finally {
    for (const c of clients) c.close();
    if (problems.length) log("---- workflow hall log (tail) ----\n" + hall.log().split("\n").slice(-30).join("\n"));
    hall.stop();
  }
}

await runBrowserTest({ name: "staff-workflow", readyPath: "/staff", watchdogMs: 150000 }, main);
