// test_kiosk_appt.mjs: the kiosk's appointment check-in (我有预约) in a real browser (Debian chromium
// via playwright-core) against the real daemon: an admin books two appointments over hall.v1, the
// visitor taps 我有预约, types the number (keyboard and on-screen keypad) and gets a priority
// ticket card; a booking for tomorrow is refused as too early, a second check-in and an unknown
// number get their own Chinese messages; the visitor's name never shows on the kiosk and never
// reaches a kiosk connection. Env: HK_BIN (required), HK_SRC. Writes kiosk-appointment.png to
// the screenshot dir. Exits non-zero on any failure.
import path from "node:path";
import { assert, eventOf, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const NAME = "浏览器测试访客";
const pad = (n) => String(n).padStart(2, "0");
const ymd = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hhmm = (m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

// The check-in dialog: open it, type the number, submit; returns the card's text.
async function checkIn(page, number, { keypadTail = "", shot = null } = {}) {
  await page.locator("#appt-btn").click();
  const input = page.locator("#appt-number");
  await input.waitFor({ timeout: 5000 });
  await input.fill(number);
  for (const k of keypadTail) await page.locator(`#appt-sheet button[data-key="${k}"]`).click();
  if (shot) await page.screenshot({ path: path.join(SHOTS, shot) });
  await page.locator("#appt-submit").click();
  await page.locator("#ticket-card").waitFor({ timeout: 5000 });
  return (await page.locator("#ticket-card").textContent()) || "";
}

async function closeCard(page) {
  await page.locator("#ticket-overlay").click({ position: { x: 5, y: 5 } });
  await page.locator("#ticket-overlay").waitFor({ state: "detached", timeout: 5000 });
}

async function main({ base, wsUrl, newPage }) {
  const admin = await wsClient(wsUrl);
  const spy = await wsClient(wsUrl);   // a second kiosk connection: what every kiosk hears
  await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
  await spy.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq" });

  await test("admin books two appointments over hall.v1", async () => {
    // a slot around now (its check-in is open) and one tomorrow at noon (too early today)
    const now = new Date();
    const start = Math.max(now.getHours() * 60 + now.getMinutes() - 5, 0);
    const end = Math.min(start + 30, 1440);
    await admin.request("appointment.add", { number: "WEB-1", name: NAME, category: "A",
      slot_start: `${ymd(now)} ${hhmm(start)}`, slot_end: `${ymd(now)} ${hhmm(end)}`, matter: "社保卡补办" });
    const tomorrow = new Date(now.getTime() + 86400000);
    await admin.request("appointment.add", { number: "WEB-2", name: NAME, category: "B",
      slot_start: `${ymd(tomorrow)} 12:00`, slot_end: "12:30" });
    const list = await admin.request("appointments.list", { date: "all" });
    assert(list.total === 2, `2 appointments booked, the hall lists ${list.total}`);
  });

  const page = await newPage(1280, 800);
  await test("kiosk: 我有预约 is offered beside the categories", async () => {
    await page.goto(`${base}/kiosk#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
    await page.locator('button.cat-btn[data-category="A"]').waitFor({ timeout: 10000 });
    const text = await page.locator("#appt-btn").textContent();
    assert(text.includes("我有预约"), `the entry reads '${text}'`);
  });

  await test("kiosk: a booking for tomorrow is too early", async () => {
    const card = await checkIn(page, "WEB-", { keypadTail: "2", shot: "kiosk-appointment-dialog.png" });
    assert(card.includes("尚未到签到时间") && card.includes("11:30"), `the card says '${card}'`);
    await closeCard(page);
  });

  let code = null;
  await test("kiosk: checking in WEB-1 gives a priority ticket card of category A", async () => {
    const card = await checkIn(page, "WEB-1");
    code = ((await page.locator("#ticket-code").textContent()) || "").trim();
    assert(/^A\d{3}$/.test(code), `ticket code '${code}' is not like A001`);
    assert(card.includes("预约签到成功") && card.includes("社保医保"), `the card says '${card}'`);
    assert(!(await page.content()).includes(NAME), "the visitor's name is not on the kiosk");
    await page.screenshot({ path: path.join(SHOTS, "kiosk-appointment.png") });
    await closeCard(page);
    const st = await admin.request("appointments.list", {});
    const a = st.appointments.find((x) => x.number === "WEB-1");
    assert(a && a.state === "checked_in" && a.ticket === code, `the book says ${JSON.stringify(a)}`);
  });

  await test("kiosk: a second check-in and an unknown number are explained", async () => {
    let card = await checkIn(page, "WEB-1");
    assert(card.includes("该预约已签到") && card.includes(code), `the card says '${card}'`);
    await closeCard(page);
    card = await checkIn(page, "NOPE-9");
    assert(card.includes("未找到该预约号"), `the card says '${card}'`);
    await closeCard(page);
    // 返回 closes the dialog and the categories work again
    await page.locator("#appt-btn").click();
    await page.locator("#appt-cancel").click();
    await page.locator("#appt-overlay").waitFor({ state: "detached", timeout: 5000 });
    assert(!(await page.locator('button.cat-btn[data-category="A"]').isDisabled()), "the menu is usable again");
  });

  await test("a kiosk connection hears the ticket, never the appointment or the name", async () => {
    // the check-in's events, then a reply behind them on the same connection
    await eventOf(spy, (e) => e.ev === "ticket.issued", "ticket.issued");
    await spy.request("state.get");
    const names = spy.events.map((e) => e.ev);
    assert(names.includes("ticket.issued"), `the kiosk heard ${names.join(", ")}`);
    assert(!names.some((n) => n.startsWith("appointment.")), `appointment events reached a kiosk: ${names}`);
    assert(!JSON.stringify(spy.events).includes(NAME), "a kiosk event carries the name");
    const st = await spy.request("state.get");
    assert(!JSON.stringify(st).includes(NAME), "the kiosk's state carries the name");
    log(`  kiosk heard: ${[...new Set(names)].join(", ")}`);
  });
  admin.close();
  spy.close();
  await page.close();
}

await runBrowserTest({ name: "kiosk-appt", readyPath: "/kiosk", watchdogMs: 120000 }, main);
