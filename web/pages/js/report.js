// report.js: the "紧急报告" button of the staff and guide tablets (docs/emergency.md "Staff
// raise the alarm"). The first person to discover an incident reports it (DB43/T 2422.4
// §6.1.1.1, §6.1.5.1, §6.4.1): a playbook whose `report` is `now` starts at once, one whose
// `report` is `confirm` waits for security's confirmation on the console. 静默求助 is the silent
// duress call of a counter: it starts the silent public_security playbook and shows nothing on
// this tablet but the sheet closing.
import { el, errorText } from "./hall.js";

export function mountReport(container, getClient, say) {
  const sheet = el("div", { class: "report-sheet hidden", id: "report-sheet", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "report-title" });
  const list = el("div", { class: "report-list", id: "report-list" });
  const note = el("input", { class: "report-note", id: "report-note", type: "text", maxlength: "60",
    placeholder: "补充说明（可选）：位置、情况", "aria-label": "补充说明" });
  const close = el("button", { class: "btn btn-grey", id: "report-cancel", type: "button" }, "取消");
  const duress = el("button", { class: "btn btn-grey report-duress", id: "report-duress", type: "button" }, "静默求助");
  sheet.append(el("div", { class: "report-box" },
    el("h2", { id: "report-title" }, "紧急报告 Report an emergency"),
    el("p", { class: "report-hint" }, "火警等立即启动预案；其余报告由安保确认后启动。"),
    note, list, el("div", { class: "report-actions" }, duress, close)));
  const open = el("button", { class: "btn btn-red report-open", id: "report-open", type: "button" }, "紧急报告");
  container.append(open);
  document.body.append(sheet);

  const hide = () => { sheet.classList.add("hidden"); note.value = ""; open.focus(); };
  close.addEventListener("click", hide);
  sheet.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });

  async function send(args, quiet) {
    try {
      const r = await getClient().request("emergency.report", args);
      hide();
      if (quiet) return;      // a duress call leaves no trace on the counter's screen
      say(r.report.started ? "已报告，预案已启动" : "已报告，等待安保确认", "ok");
    } catch (err) {
      say(`报告失败：${errorText(err)}`, "err");
    }
  }
  duress.addEventListener("click", () => send({ duress: true }, true));

  open.addEventListener("click", async () => {
    list.replaceChildren();
    try {
      const { playbooks } = await getClient().request("emergency.playbooks");
      for (const p of playbooks.filter((x) => x.report)) {
        const b = el("button", { class: "btn report-pb " + (p.report === "now" ? "btn-red" : "btn-amber"),
          type: "button", "data-playbook": p.id }, p.name,
          el("small", {}, p.report === "now" ? "立即启动" : "安保确认"));
        b.addEventListener("click", () => send(note.value.trim() ? { playbook: p.id, note: note.value.trim() } : { playbook: p.id }));
        list.append(b);
      }
    } catch (err) {
      say(`读取预案失败：${errorText(err)}`, "err");
      return;
    }
    sheet.classList.remove("hidden");
    (list.querySelector("button") || close).focus();
  });
}
