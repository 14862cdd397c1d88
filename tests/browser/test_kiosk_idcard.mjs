// test_kiosk_idcard.mjs: ID-card priority at the kiosk (docs/queue.md) in a real browser (Debian
// chromium via playwright-core) against the real daemon: a keyboard-like card reader types an ID
// number and Enter, the visitor taps a category and gets an elderly priority ticket card; a
// misread number is explained and a normal ticket stays one tap away; the number is never on the
// screen and never reaches a kiosk connection. Env: HK_BIN (required), HK_SRC. Writes
// kiosk-idcard.png to the screenshot dir. Exits non-zero on any failure.
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

// the demo hall's kiosk token (the built-in demo config)
const KIOSK_TOKEN = "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq";
const ELDERLY = "11010519491231002X";    // GB 11643's example: born 31 December 1949
const YOUNG = "110105200001010032";      // born 1 January 2000
const MISREAD = "110105200001010033";    // the check digit does not match

// The card reader: keystrokes into the focused element, then Enter.
async function swipe(page, number) {
  await page.keyboard.type(number, { delay: 5 });
  await page.keyboard.press("Enter");
}

async function tapCategory(page, cat) {
  await page.locator(`button.cat-btn[data-category="${cat}"]`).click();
  await page.locator("#ticket-card").waitFor({ timeout: 5000 });
  return (await page.locator("#ticket-card").textContent()) || "";
}

async function closeCard(page) {
  await page.locator("#ticket-overlay").click({ position: { x: 5, y: 5 } });
  await page.locator("#ticket-overlay").waitFor({ state: "detached", timeout: 5000 });
}

async function issued(spy, code) {
  for (let i = 0; i < 50; i++) {
    const ev = spy.events.find((e) => e.ev === "ticket.issued" && e.code === code);
    if (ev) return ev;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ticket.issued for ${code}`);
}

async function main({ base, wsUrl, newPage }) {
  const spy = await wsClient(wsUrl);   // a second kiosk connection: what every kiosk hears
  await spy.request("hello", { token: KIOSK_TOKEN });
  const page = await newPage(1280, 800);
  await page.goto(`${base}/kiosk#token=${KIOSK_TOKEN}`);
  await page.locator('button.cat-btn[data-category="A"]').waitFor({ timeout: 10000 });

  await test("kiosk: a swiped ID card of a visitor over 60 gives an elderly priority ticket", async () => {
    await swipe(page, ELDERLY);
    await page.locator("#id-banner:not(.hidden)").waitFor({ timeout: 5000 });
    const banner = await page.locator("#id-banner").textContent();
    assert(banner.includes("已读取身份证"), `the banner says '${banner}'`);
    assert(!(await page.content()).includes(ELDERLY.slice(0, 17)), "the number is on the screen");
    const card = await tapCategory(page, "A");
    assert(card.includes("老年人优先号"), `the card says '${card}'`);
    await page.screenshot({ path: path.join(SHOTS, "kiosk-idcard.png") });
    const code = ((await page.locator("#ticket-code").textContent()) || "").trim();
    const ev = await issued(spy, code);
    // a kiosk is a public role: it hears that the ticket is a priority one, never why
    assert(ev.priority === "priority" && !("priority_reason" in ev) && ev.by === "kiosk",
      `ticket.issued ${JSON.stringify(ev)}`);
    await closeCard(page);
    assert(await page.locator("#id-banner").evaluate((e) => e.classList.contains("hidden")), "the banner is gone once the number is used");
  });

  await test("kiosk: a normal ticket is one tap away, before and after a card", async () => {
    let card = await tapCategory(page, "B");
    assert(!card.includes("优先"), `the card says '${card}'`);
    const code = ((await page.locator("#ticket-code").textContent()) || "").trim();
    assert((await issued(spy, code)).priority === "normal", "a tap without a card is a normal ticket");
    await closeCard(page);
    await swipe(page, YOUNG);                 // under 60: a normal ticket
    card = await tapCategory(page, "A");
    assert(!card.includes("优先"), `the card says '${card}'`);
    const code2 = ((await page.locator("#ticket-code").textContent()) || "").trim();
    const ev = await issued(spy, code2);
    assert(ev.priority === "normal" && !ev.priority_reason, `ticket.issued ${JSON.stringify(ev)}`);
    await closeCard(page);
  });

  await test("kiosk: a misread number is explained, and the next tap is a normal ticket", async () => {
    await swipe(page, MISREAD);
    const card = await tapCategory(page, "A");
    assert(card.includes("身份证号码无法识别"), `the card says '${card}'`);
    await closeCard(page);
    await swipe(page, "12345");               // a partial read: no request at all
    const banner = await page.locator("#id-banner").textContent();
    assert(banner.includes("未能读取身份证"), `the banner says '${banner}'`);
    await page.locator("#id-cancel").click();
    const card2 = await tapCategory(page, "A");
    assert(card2.includes("您的号码") && !card2.includes("优先"), `the card says '${card2}'`);
    await closeCard(page);
  });

  await test("no kiosk connection hears an ID number", async () => {
    const all = JSON.stringify(spy.events);
    for (const n of [ELDERLY, YOUNG, MISREAD]) assert(!all.includes(n.slice(0, 17)), "an event carries the number");
    log(`  kiosk heard: ${[...new Set(spy.events.map((e) => e.ev))].join(", ")}`);
  });
  spy.close();
  await page.close();
}

await runBrowserTest({ name: "kiosk-idcard", readyPath: "/kiosk", watchdogMs: 120000 }, main);
