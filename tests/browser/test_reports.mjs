// test_reports.mjs: staff raise the alarm from their tablet (紧急报告), and the security console
// confirms. A suspicious object reported on the staff page waits as 待确认报告 on the console until
// security confirms it; then its incident card is shown. The silent duress call (静默求助) closes
// the sheet and says nothing on the staff tablet. Env: HK_BIN, HK_SRC.
import path from "node:path";
import { assert, runBrowserTest, SHOTS, test } from "./harness.mjs";

async function main({ base, newPage }) {
  const staff = await newPage(1280, 800);
  const sec = await newPage(1280, 800);
  await staff.goto(`${base}/staff#token=staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp`);
  await sec.goto(`${base}/security#token=security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u`);
  await sec.locator('button.pb-btn[data-playbook="fire"]').waitFor({ timeout: 10000 });
  await staff.locator("#report-open").waitFor({ timeout: 10000 });

  await test("a report from the staff tablet waits for security, who confirms it", async () => {
    await staff.locator("#report-open").click();
    const pb = staff.locator('#report-list button[data-playbook="suspicious_object"]');
    await pb.waitFor({ timeout: 5000 });
    assert((await pb.textContent()).includes("安保确认"), "suspicious_object is marked as waiting for security");
    const fire = await staff.locator('#report-list button[data-playbook="fire"]').textContent();
    assert(fire.includes("立即启动"), `fire is reported at once: '${fire}'`);
    await staff.locator("#report-note").fill("东侧座椅下无人背包");
    await pb.click();
    await staff.locator("#report-sheet.hidden").waitFor({ state: "attached", timeout: 5000 });
    const card = sec.locator('.report-card[data-playbook="suspicious_object"]');
    await card.waitFor({ timeout: 5000 });
    const text = await card.textContent();
    assert(text.includes("待确认报告") && text.includes("东侧座椅下无人背包") && text.includes("staff 0001"),
      `the console's pending report: '${text}'`);
    await sec.screenshot({ path: path.join(SHOTS, "security-report.png") });
    await card.locator(".report-confirm").click();
    await sec.locator('.incident[data-playbook="suspicious_object"]').waitFor({ timeout: 5000 });
    await card.waitFor({ state: "detached", timeout: 5000 });
    const inc = sec.locator('.incident[data-playbook="suspicious_object"]');
    await inc.locator(".clear-reason").fill("排爆确认无危险");
    await inc.locator(".clear-btn").click();
    await inc.waitFor({ state: "detached", timeout: 5000 });
  });

  await test("静默求助 leaves no trace on the staff tablet and reaches the console", async () => {
    const msgBefore = await staff.locator("#msg, #pick-msg").allTextContents();
    await staff.locator("#report-open").click();
    await staff.locator("#report-duress").click();
    await staff.locator("#report-sheet.hidden").waitFor({ state: "attached", timeout: 5000 });
    await sec.locator('.incident[data-playbook="public_security"]').waitFor({ timeout: 5000 });
    const msgAfter = await staff.locator("#msg, #pick-msg").allTextContents();
    assert(JSON.stringify(msgAfter) === JSON.stringify(msgBefore), `the staff tablet says something: ${msgAfter}`);
    assert(await staff.locator("#silent-alert.hidden").count() === 1, "the staff tablet shows the silent incident");
    assert(!(await staff.locator("body").textContent()).includes("胁迫"), "the staff tablet names the duress call");
  });
}

await runBrowserTest({ name: "reports", readyPath: "/staff", watchdogMs: 120000 }, main);
