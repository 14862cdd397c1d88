// test_guide.mjs: the guide's tablet at the entrance (/guide, 咨询引导) in a real browser (Debian
// chromium via playwright-core) against the real daemon: the page shows every category's line
// live (a kiosk's ticket and a window opening show within seconds), issues a priority ticket for an
// elderly visitor (the reason reaches the ticket.issued event, never a name) and a normal one,
// checks an appointment in by number; a kiosk token asking for priority is refused, over hall.v1
// and on the page. Env: HK_BIN (required), HK_SRC. Writes guide.png and guide-ticket.png to the
// screenshot dir. Exits non-zero on any failure.
import path from "node:path";
import { assert, eventOf, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const pad = (n) => String(n).padStart(2, "0");
const ymd = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hhmm = (m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

async function waiting(page, cat) {
  return Number((await page.locator(`.g-cat[data-category="${cat}"] .g-waiting`).textContent()).trim());
}

async function closeTicket(page) {
  await page.locator("#g-ticket-done").click();
  await page.locator("#g-ticket-overlay").waitFor({ state: "detached", timeout: 5000 });
}

async function main({ base, wsUrl, newPage }) {
  const kiosk = await wsClient(wsUrl);
  const staff = await wsClient(wsUrl);   // window 1's tablet, and the ear on the events
  const admin = await wsClient(wsUrl);
  await kiosk.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });
  await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp" });
  await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
  const page = await newPage(1280, 800);

  await test("guide: logs in by link and shows every category's line", async () => {
    await page.goto(`${base}/guide#token=staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD`);
    await page.locator('.g-cat[data-category="A"] .g-waiting').waitFor({ timeout: 10000 });
    assert(!page.url().includes("token="), "the token is cut from the address bar");
    const cats = await page.locator(".g-cat").count();
    assert(cats >= 4, `the demo hall's categories are shown (${cats})`);
    const who = await page.locator("#who").textContent();
    assert(who.includes("0003"), `the header names the staff member: '${who}'`);
    const a = await page.locator('.g-cat[data-category="A"]').textContent();
    assert(a.includes("社保医保") && a.includes("普通取号") && a.includes("优先取号"), `card A: '${a}'`);
  });

  await test("guide: counts and windows change live when a kiosk issues and a window opens", async () => {
    const before = await waiting(page, "A");
    const t0 = Date.now();
    await kiosk.request("ticket.issue", { category: "A" });
    await page.waitForFunction((n) => Number(document.querySelector('.g-cat[data-category="A"] .g-waiting')
      .textContent) === n, before + 1, { timeout: 5000 });
    log(`  waiting A ${before} -> ${before + 1} after ${Date.now() - t0} ms`);
    const est = await page.locator('.g-cat[data-category="A"] .g-est').textContent();
    assert(/预计 \d+ 分钟/.test(est), `card A gives an estimated wait: '${est}'`);
    assert(await page.locator('.g-cat[data-category="A"] .g-win[data-window="1"]').count() === 0,
      "window 1 is not shown before it opens");
    await staff.request("window.open", { window: 1 });
    await page.locator('.g-cat[data-category="A"] .g-win[data-window="1"]').waitFor({ timeout: 5000 });
    const wins = await page.locator('.g-cat[data-category="A"] .g-wins').textContent();
    assert(wins.includes("1号窗口"), `card A names the open window: '${wins}'`);
  });

  let prioCode = null;
  await test("guide: a priority ticket for an elderly visitor, shown with its reason", async () => {
    const n0 = staff.events.length;
    await page.locator('.g-cat[data-category="A"] button[data-issue="priority"]').click();
    await page.locator('#reason-sheet button[data-reason="elderly"]').waitFor({ timeout: 5000 });
    const sheet = await page.locator("#reason-sheet").textContent();
    assert(["60岁以上老人", "残疾人", "孕妇", "其他"].every((r) => sheet.includes(r)), `the reasons: '${sheet}'`);
    await page.locator('#reason-sheet button[data-reason="elderly"]').click();
    await page.locator("#g-ticket-code").waitFor({ timeout: 5000 });
    prioCode = (await page.locator("#g-ticket-code").textContent()).trim();
    assert(/^A\d{3}$/.test(prioCode), `ticket code '${prioCode}'`);
    const kind = await page.locator("#g-ticket-kind").textContent();
    assert(kind.includes("优先号") && kind.includes("60岁以上老人"), `the card says '${kind}'`);
    const ahead = Number(await page.locator("#g-ticket-ahead").textContent());
    assert(ahead === 0, `a priority ticket has no one ahead here (the normal A ticket waits behind): ${ahead}`);
    const card = await page.locator("#g-ticket").textContent();
    assert(card.includes("社保医保") && /预计等待\s*\d+\s*分钟/.test(card), `card: '${card}'`);
    assert(await page.locator("#g-ticket-qr").count() === 1, "the card shows the phone link's QR code");
    const ev = await eventOf(staff, (e, i) => e.ev === "ticket.issued" && e.code === prioCode, "ticket.issued");
    assert(ev.priority === "priority" && ev.priority_reason === "elderly" && ev.by === "staff",
      `ticket.issued: ${JSON.stringify(ev)}`);
    assert(staff.events.length > n0, "events arrived");
    await page.screenshot({ path: path.join(SHOTS, "guide-ticket.png") });
    await closeTicket(page);
    const recent = await page.locator("#g-recent").textContent();
    assert(recent.includes(prioCode) && recent.includes("优先·老人"), `recent list: '${recent}'`);
    // the count comes with queue.changed, which coalesces changes for up to 200 ms
    await page.waitForFunction(() => Number(document.querySelector('.g-cat[data-category="A"] .g-prio')
      .textContent) >= 1, null, { timeout: 10000 }).catch(() => {});
    const prio = await page.locator('.g-cat[data-category="A"] .g-prio').textContent();
    assert(Number(prio) >= 1, `card A counts the priority ticket: ${prio}`);
    // the window calls it before the kiosk's normal ticket
    const call = await staff.request("call.next");
    assert(call.ticket.code === prioCode, `window 1 called ${call.ticket.code}, the priority ticket is ${prioCode}`);
    await staff.request("ticket.finish", { outcome: "即办件" });
  });

  await test("guide: a normal ticket at one tap", async () => {
    await page.locator('.g-cat[data-category="B"] button[data-issue="normal"]').click();
    await page.locator("#g-ticket-code").waitFor({ timeout: 5000 });
    const code = (await page.locator("#g-ticket-code").textContent()).trim();
    assert(/^B\d{3}$/.test(code), `ticket code '${code}'`);
    assert((await page.locator("#g-ticket-kind").textContent()).includes("普通号"), "marked 普通号");
    await closeTicket(page);
    const msg = await page.locator("#g-msg").textContent();
    assert(msg.includes(code), `the message names ${code}: '${msg}'`);
  });

  await test("guide: an appointment checked in by number", async () => {
    const now = new Date();
    const start = Math.max(now.getHours() * 60 + now.getMinutes() - 5, 0);
    const end = Math.min(start + 30, 1440);
    await admin.request("appointment.add", { number: "G-7", name: "导办测试访客", category: "C",
      slot_start: `${ymd(now)} ${hhmm(start)}`, slot_end: `${ymd(now)} ${hhmm(end)}` });
    await page.locator("#appt-number").fill("G-");
    await page.locator('#appt-keys button[data-key="7"]').click();
    await page.locator("#appt-submit").click();
    await page.locator("#g-ticket-code").waitFor({ timeout: 5000 });
    const code = (await page.locator("#g-ticket-code").textContent()).trim();
    assert(/^C\d{3}$/.test(code), `ticket code '${code}'`);
    assert((await page.locator("#g-ticket-kind").textContent()).includes("预约签到成功"), "marked as a check-in");
    await closeTicket(page);
    assert((await page.locator("#appt-number").inputValue()) === "", "the number is cleared");
    await page.screenshot({ path: path.join(SHOTS, "guide.png") });
    await page.locator("#appt-number").fill("NO-SUCH");
    await page.locator("#appt-submit").click();
    await page.waitForFunction(() => document.getElementById("g-msg").textContent.includes("未找到预约号 NO-SUCH"),
      null, { timeout: 5000 });
  });

  await test("a kiosk token asking for priority is refused (hall.v1 and the page)", async () => {
    let err = null;
    try {
      await kiosk.request("ticket.issue", { category: "A", priority: "priority", priority_reason: "elderly" });
    } catch (e) { err = e; }
    assert(err && /^forbidden: .*queue\.priority_roles/.test(err.message), `kiosk priority: ${err && err.message}`);
    err = null;
    try {
      await staff.request("ticket.issue", { category: "A", priority: "priority", priority_reason: "vip" });
    } catch (e) { err = e; }
    assert(err && err.message.startsWith("bad_request: priority_reason must be"), `bad reason: ${err && err.message}`);
    const kpage = await newPage(1280, 800);
    try {
      await kpage.goto(`${base}/guide#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
      await kpage.locator('.g-cat[data-category="A"] button[data-issue="priority"]').waitFor({ timeout: 10000 });
      await kpage.waitForFunction(() => document.getElementById("g-msg").textContent.includes("工作人员令牌"),
        null, { timeout: 5000 });
      await kpage.locator('.g-cat[data-category="A"] button[data-issue="priority"]').click();
      await kpage.locator('#reason-sheet button[data-reason="pregnant"]').click();
      await kpage.waitForFunction(() => document.getElementById("g-msg").textContent.includes("本令牌不能发放优先号"),
        null, { timeout: 5000 });
      assert(await kpage.locator("#g-ticket").count() === 0, "no ticket card for a refused priority ticket");
    } finally {
      await kpage.close();
    }
  });

  kiosk.close();
  staff.close();
  admin.close();
}

await runBrowserTest({ name: "guide", readyPath: "/guide", watchdogMs: 120000 }, main);
