// test_security_outputs.mjs: the security console shows what the controller could not do. A
// relay driver that fails (the sim backend's `fail: true`) makes the fire drill's siren step
// 执行失败 (failed, never ✓), and a built-in step whose line the demo hall does not wire (the
// explosion playbook's window actuator) is a checklist item 手动开启窗户通风 with its 确认完成
// button. Env: HK_BIN, HK_SRC. Writes docs/screenshots/security-failed-output.png.
import path from "node:path";
import { assert, runBrowserTest, SHOTS, test, wsClient } from "./harness.mjs";

async function main({ base, wsUrl, newPage }) {
  const sec = await newPage(1280, 800);
  const admin = await wsClient(wsUrl);
  await admin.request("hello", { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6" });
  await sec.goto(`${base}/security#token=security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u`);
  await sec.locator('button.pb-btn[data-playbook="fire"]').waitFor({ timeout: 10000 });

  await test("a failed siren is shown as failed, never as done", async () => {
    await admin.request("gpio.sim.set", { line: "siren", fail: true });
    await admin.request("emergency.trigger", { playbook: "fire", drill: true });
    const step = sec.locator('.incident[data-playbook="fire"] li.step.failed', { hasText: "siren" });
    await step.waitFor({ timeout: 5000 });
    const text = await step.textContent();
    assert(text.includes("执行失败") && text.includes("cannot set"), `the failed step reads '${text}'`);
    assert(!text.includes("✓"), "a failed step has no tick");
    await sec.screenshot({ path: path.join(SHOTS, "security-failed-output.png") });
    await admin.request("gpio.sim.set", { line: "siren", fail: false });
    await sec.locator('.incident[data-playbook="fire"] li.step.done', { hasText: "siren" }).waitFor({ timeout: 5000 });
    await admin.request("emergency.clear", { playbook: "fire", reason: "演练结束" });
  });

  await test("an unwired built-in step is a checklist item with 确认完成", async () => {
    await admin.request("emergency.trigger", { playbook: "explosion_gas", drill: true });
    const step = sec.locator('.incident[data-playbook="explosion_gas"] li.step.check', { hasText: "手动开启窗户通风" });
    await step.waitFor({ timeout: 5000 });
    await step.locator(".ack-btn").click();
    await step.locator(".ack-info").waitFor({ timeout: 5000 });
    await admin.request("emergency.clear", { playbook: "explosion_gas", reason: "演练结束" });
  });
  admin.close();
}

await runBrowserTest({ name: "security-outputs", readyPath: "/security", watchdogMs: 120000 }, main);
