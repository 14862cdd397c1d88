// test_security.mjs: the security console in a real browser (Debian chromium via playwright-core)
// against the real daemon: a fire drill started from the console puts the hall display into
// evacuation mode marked as a drill, the checklist is acknowledged on the console, the fire panel
// input (simulated over hall.v1) turns the drill into a real fire, a clear is refused while the
// input is active, and a clear with a reason after the panel is reset ends the evacuation.
// Env: HK_BIN (hallkeeper binary, required), HK_SRC (repo root, default: two levels up).
// Writes docs/screenshots/{security,evacuation}.png. Exits non-zero on any failure.
import path from "node:path";
import { assert, log, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

// Waits on the display poll every 50 ms: the default (requestAnimationFrame) runs late in a page
// that is not in front, which would measure the test, not the display.
// The text of the display's evacuation overlay, or null while there is none.
const overlayText = (page) => page.evaluate(() => {
  const o = document.getElementById("emergency-overlay");
  return o ? o.textContent : null;
});

async function main({ base, wsUrl, newPage }) {
  const display = await newPage(1920, 1080);
  const sec = await newPage(1280, 800);
  const admin = await wsClient(wsUrl);
  const fire = sec.locator('.incident[data-playbook="fire"]');
  const callStep = fire.locator("li.step", { hasText: "拨打119报警" });

  await test("security page loads: playbooks, GPIO lines, no incident", async () => {
    await display.goto(`${base}/display#token=display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj`);
    await sec.goto(`${base}/security#token=security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u`);
    await sec.locator('button.pb-btn[data-playbook="fire"]').waitFor({ timeout: 10000 });
    const n = await sec.locator("button.pb-btn").count();
    assert(n >= 11, `${n} playbook buttons, the built-in hall has 11 playbooks`);
    await sec.locator('#gpio-in li[data-line="fire_panel"]').waitFor({ timeout: 5000 });
    assert(await sec.locator('#gpio-out li[data-line="door_main"][data-value="0"]').count() === 1,
      "door_main is listed as an output at 0");
    const status = await sec.locator("#status").textContent();
    assert(status.includes("当前无紧急事件"), `status bar says '${status}'`);
    assert(!sec.url().includes("token="), "the token is cut from the address bar");
    assert(await sec.locator("#emergency-overlay").count() === 0, "the console shows no evacuation overlay");
    const hello = await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
    assert(hello.role === "admin", `admin hello role ${hello.role}`);
  });

  await test("(a) drill mode + 火警 + confirm: display shows 紧急疏散 and DRILL within 2 s", async () => {
    await sec.locator("#drill-toggle").click();
    assert(await sec.locator("#drill-toggle").getAttribute("aria-checked") === "true", "the drill switch is on");
    await sec.locator('button.pb-btn[data-playbook="fire"]').click();
    await sec.locator("#confirm").waitFor({ state: "visible", timeout: 2000 });
    const title = (await sec.locator("#confirm-title").textContent()).trim();
    assert(title === "确认启动 火警 预案？", `confirm title '${title}'`);
    const steps = await sec.locator("#confirm-steps").textContent();
    assert(steps.includes("拨打119报警"), "the confirm dialog lists the checklist step");
    assert(await sec.locator("#confirm-drill").isVisible(), "the confirm dialog is marked as a drill");
    // 取消 really cancels: nothing starts.
    await sec.locator("#confirm-cancel").click();
    await sec.waitForTimeout(300);
    assert(await overlayText(display) === null, "cancel started nothing");
    await sec.locator('button.pb-btn[data-playbook="fire"]').click();
    const t0 = Date.now();
    await sec.locator("#confirm-ok").click();
    await display.waitForFunction(() => {
      const o = document.getElementById("emergency-overlay");
      return o && o.textContent.includes("紧急疏散") && /DRILL|演练/.test(o.textContent);
    }, null, { timeout: 2000, polling: 50 });
    log(`  display in evacuation (drill) after ${Date.now() - t0} ms`);
    await sec.locator("#confirm").waitFor({ state: "hidden", timeout: 2000 });
  });

  await test("(b) the console shows the fire drill and acknowledges 拨打119报警", async () => {
    await fire.waitFor({ timeout: 2000 });
    assert((await fire.locator(".incident-head").textContent()).includes("演练 DRILL"), "the incident is marked 演练 DRILL");
    assert((await sec.locator("#status").textContent()).includes("演练 DRILL"), "the status bar marks the drill");
    await callStep.waitFor({ timeout: 2000 });
    const doorStep = await fire.locator("li.step", { hasText: "door_main" }).textContent();
    assert(/\d\d:\d\d:\d\d/.test(doorStep), `the door step shows its done time: '${doorStep}'`);
    await sec.locator('#gpio-out li[data-line="door_main"][data-value="1"]').waitFor({ timeout: 2000 });
    await callStep.locator(".ack-btn").click();
    await callStep.locator(".ack-info").waitFor({ timeout: 2000 });
    const info = await callStep.locator(".ack-info").textContent();
    assert(info.includes("已确认") && info.includes("安保") && /\d\d:\d\d:\d\d/.test(info),
      `the acknowledgement shows who and when: '${info}'`);
    assert(await callStep.locator(".ack-btn").count() === 0, "no 确认完成 button on a done step");
    await sec.locator("#log", { hasText: "拨打119报警" }).waitFor({ timeout: 2000 }).catch(() => {});
    const logText = await sec.locator("#log").textContent();
    assert(logText.includes("启动 火警") && logText.includes("拨打119报警"), `the incident log: '${logText}'`);
    await display.waitForTimeout(1300);   // a calm moment of the pulsing background
    await display.screenshot({ path: path.join(SHOTS, "evacuation.png") });
    await sec.screenshot({ path: path.join(SHOTS, "security.png") });
  });

  await test("(c) the fire panel input makes the drill real; clear is refused while it is active", async () => {
    const t0 = Date.now();
    await admin.request("gpio.sim.set", { line: "fire_panel", value: 1 });
    await display.waitForFunction(() => {
      const o = document.getElementById("emergency-overlay");
      return o && o.textContent.includes("紧急疏散") && !/DRILL|演练/.test(o.textContent);
    }, null, { timeout: 2000, polling: 50 });
    log(`  display lost its DRILL marking after ${Date.now() - t0} ms`);
    await sec.waitForFunction(() => {
      const c = document.querySelector('.incident[data-playbook="fire"]');
      return c && !c.classList.contains("is-drill") && !c.textContent.includes("DRILL");
    }, null, { timeout: 2000 });
    await sec.locator('#gpio-in li[data-line="fire_panel"][data-value="1"]').waitFor({ timeout: 2000 });
    assert((await fire.locator(".incident-head").textContent()).includes("输入 fire_panel"), "triggered by the input");
    // A real fire restarts with a fresh checklist: the drill's tick does not count.
    await callStep.locator(".ack-btn").waitFor({ timeout: 2000 });
    await fire.locator(".clear-reason").fill("消防确认为误报");
    await fire.locator(".clear-btn").click();
    await fire.locator(".incident-msg.err").waitFor({ timeout: 2000 });
    const msg = await fire.locator(".incident-msg").textContent();
    assert(msg.includes("fire_panel"), `the refusal names the input: '${msg}'`);
    assert(await overlayText(display) !== null, "the evacuation goes on after the refused clear");
  });

  await test("(d) panel reset, clear with a reason: the display's overlay goes within 2 s", async () => {
    await admin.request("gpio.sim.set", { line: "fire_panel", value: 0 });
    await sec.locator('#gpio-in li[data-line="fire_panel"][data-value="0"]').waitFor({ timeout: 2000 });
    await fire.locator(".latch.latched").waitFor({ timeout: 2000 });   // debounced and latched
    // An empty reason is refused on the page, before anything is sent.
    await fire.locator(".clear-reason").fill("");
    await fire.locator(".clear-btn").click();
    assert((await fire.locator(".incident-msg").textContent()).includes("原因"), "a reason is asked for");
    assert(await overlayText(display) !== null, "no clear without a reason");
    await fire.locator(".clear-reason").fill("消防确认为误报");
    const t0 = Date.now();
    await fire.locator(".clear-btn").click();
    await display.waitForFunction(() => !document.getElementById("emergency-overlay"), null,
      { timeout: 2000, polling: 50 });
    log(`  overlay gone after ${Date.now() - t0} ms`);
    await sec.locator(".incident").first().waitFor({ state: "detached", timeout: 2000 });
    await sec.locator('#gpio-out li[data-line="door_main"][data-value="0"]').waitFor({ timeout: 2000 });
    const status = await sec.locator("#status").textContent();
    assert(status.includes("当前无紧急事件"), `status bar after the clear: '${status}'`);
    await sec.locator("#log", { hasText: "消防确认为误报" }).waitFor({ timeout: 2000 }).catch(() => {});
    const logText = await sec.locator("#log").textContent();
    assert(logText.includes("演练转为真实事件") && logText.includes("消防确认为误报"),
      `the log records the takeover and the clear: '${logText}'`);
  });
  admin.close();
}

await runBrowserTest({ name: "security", readyPath: "/security", watchdogMs: 120000 }, main);
