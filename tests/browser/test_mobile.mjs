// test_mobile.mjs: the phone page /t/CODE?k=KEY in a real browser (Debian chromium via
// playwright-core) against the real daemon: the kiosk page shows the ticket's QR code; the phone
// page shows position, people ahead and wait; the position drops as staff call tickets; the
// "3 away" notice and the "called" notice appear (banner + vibration); a wrong key is refused.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
// Writes SHOTS/mobile-{waiting,called}.png. Exits non-zero on any failure.
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

const text = async (page, id) => ((await page.locator("#" + id).textContent()) || "").trim();

async function waitText(page, id, want, timeout = 5000) {
  await page.waitForFunction(([i, w]) => {
    const n = document.getElementById(i);
    return n && n.textContent.includes(w);
  }, [id, String(want)], { timeout, polling: 50 });
}

async function main({ base, wsUrl, newPage }) {
  const kioskWs = await wsClient(wsUrl);
  const staff = await wsClient(wsUrl);
  await kioskWs.request("hello", { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", events: false });
  await staff.request("hello", { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp", events: false });

  await test("the kiosk page shows the ticket's QR code", async () => {
    const kiosk = await newPage(1080, 1920);
    await kiosk.goto(`${base}/kiosk#token=kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq`);
    const btn = kiosk.locator("#categories button").first();
    await btn.waitFor({ timeout: 10000 });
    await btn.click();
    await kiosk.locator("#ticket-qr").waitFor({ timeout: 5000 });
    const src = await kiosk.locator("#ticket-qr").getAttribute("src");
    assert(src.startsWith("data:image/svg+xml") && src.includes("svg"), `QR image src ${src.slice(0, 60)}`);
    const loaded = await kiosk.locator("#ticket-qr").evaluate((img) => img.complete && img.naturalWidth > 0);
    assert(loaded, "the QR image did not render");
    await kiosk.close();
  });

  let code, pathOf;
  const tickets = [];
  await test("the phone page shows where the ticket stands", async () => {
    for (let i = 0; i < 5; i++) tickets.push((await kioskWs.request("ticket.issue", { category: "D" })).ticket);
    const mine = tickets[4];
    code = mine.code;
    pathOf = mine.path;
    assert(/^\/t\/D\d+\?k=[0-9a-f]{16}$/.test(pathOf), `link path ${pathOf}`);
  });

  const phone = await newPage(390, 844);
  // record vibrations: headless chromium has no motor, the page's calls are what we can see
  await phone.addInitScript(() => {
    window.__vibrations = [];
    navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };
  });

  await test("position, ahead and wait are shown; no notice yet", async () => {
    await phone.goto(base + pathOf);
    await waitText(phone, "t-state", "排队等候中", 10000);
    assert(await text(phone, "t-code") === code, `code ${await text(phone, "t-code")}`);
    assert(await text(phone, "t-category") === "企业开办", `category ${await text(phone, "t-category")}`);
    const ahead = Number(await text(phone, "t-ahead"));
    const pos = Number(await text(phone, "t-position"));
    assert(pos === ahead + 1 && ahead >= 4, `position ${pos}, ahead ${ahead}`);
    assert(!(await phone.locator("#t-wait").textContent()).includes("—"), "no wait figure");
    assert(await phone.locator("#t-notice.hidden").count() === 1, "a notice is shown already");
    await phone.screenshot({ path: path.join(SHOTS, "mobile-waiting.png") });
  });

  await test("the position drops as tickets are called; the 3-away notice appears", async () => {
    await staff.request("window.open", { window: 4 });   // window 4 serves D first
    const before = Number(await text(phone, "t-ahead"));
    const seen = [];
    for (let i = 0; i < before; i++) {
      await staff.request("call.next");
      await waitText(phone, "t-ahead", String(before - i - 1));
      seen.push(Number(await text(phone, "t-ahead")));
      if (before - i - 1 <= 3) {
        await phone.locator("#t-notice:not(.hidden)").waitFor({ timeout: 3000 });
        const n = await text(phone, "t-notice");
        assert(n.includes("即将轮到您"), `notice '${n}' at ${before - i - 1} ahead`);
      }
      await staff.request("ticket.finish", { outcome: "即办件" });
    }
    log(`  ahead as tickets were called: ${seen.join(" ")}`);
    assert(seen[seen.length - 1] === 0, `ahead ended at ${seen[seen.length - 1]}`);
    const vib = await phone.evaluate(() => window.__vibrations.length);
    assert(vib === 1, `${vib} vibrations for the 3-away notice (want exactly 1)`);
  });

  await test("called: a banner with the window, and a vibration", async () => {
    const t0 = Date.now();
    const r = await staff.request("call.next");
    assert(r.ticket.code === code, `called ${r.ticket.code}, expected ${code}`);
    await phone.locator("#t-notice.called").waitFor({ timeout: 3000 });
    log(`  called notice after ${Date.now() - t0} ms`);
    const n = await text(phone, "t-notice");
    assert(n.includes(code) && n.includes("4号窗口"), `called notice '${n}'`);
    assert((await text(phone, "t-state")).includes("请到 4号窗口 办理"), "state line");
    const vib = await phone.evaluate(() => window.__vibrations.length);
    assert(vib === 2, `${vib} vibrations after the call (want 2)`);
    assert((await phone.title()).includes("请到"), `title '${await phone.title()}'`);
    await phone.screenshot({ path: path.join(SHOTS, "mobile-called.png") });
    // a recall notifies again
    await staff.request("call.recall");
    await waitText(phone, "t-notice", "再次呼叫");
    assert(await phone.evaluate(() => window.__vibrations.length) === 3, "no vibration for the recall");
  });

  await test("the page shows nothing of other people and no tokens", async () => {
    const html = await phone.content();
    for (const s of ["张三", "staff-0001", "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", tickets[0].code + "号"])
      assert(!html.includes(s), `the phone page contains '${s}'`);
  });

  await test("a wrong key is refused on the page", async () => {
    const bad = await newPage(390, 844);
    await bad.goto(`${base}/t/${code}?k=0000000000000000`);
    await waitText(bad, "t-state", "链接无效", 5000);
    assert((await text(bad, "t-notice")).includes("重新扫描"), "no rescan hint");
    await bad.close();
  });

  await test("an emergency drill shows on the phone, marked as a drill", async () => {
    const sec = await wsClient(wsUrl);
    await sec.request("hello", { token: "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", events: false });
    await sec.request("emergency.trigger", { playbook: "fire", drill: true });
    const t0 = Date.now();
    await phone.locator("#t-emergency:not(.hidden)").waitFor({ timeout: 20000 });   // the 15 s refresh at most
    log(`  emergency banner after ${Date.now() - t0} ms`);
    const n = await text(phone, "t-emergency");
    assert(n.includes("演练") && n.includes("火警"), `emergency banner '${n}'`);
    await sec.request("emergency.clear", { reason: "演练结束" });
    sec.close();
  });

  kioskWs.close();
  staff.close();
}

await runBrowserTest({ name: "mobile", readyPath: "/kiosk", watchdogMs: 120000 }, main);
