// guide.js: the guide's tablet at the entrance (咨询引导人员, docs/guide.md): every category's line
// live (waiting, estimated wait, the windows open for it), a normal ticket at one tap, a priority
// ticket with its reason at two (ticket.issue {priority, priority_reason}), appointment check-in
// by number, and the ticket just issued, to tell or show the visitor.
import { boot, el, errorText, forgetToken, formatTime, startClock, waitText, categoryName } from "./hall.js";
import { mountReport } from "./report.js";

// docs/protocol.md `priority_reason`: a class of visitor for the daily figures, never a name.
const REASONS = [
  { id: "elderly", text: "60岁以上老人", short: "老人", en: "Elderly 60+" },
  { id: "disabled", text: "残疾人", short: "残疾人", en: "Disabled" },
  { id: "pregnant", text: "孕妇", short: "孕妇", en: "Pregnant" },
  { id: "other", text: "其他", short: "其他", en: "Other" },
];
const REASON_TEXT = Object.fromEntries(REASONS.map((r) => [r.id, r.text]));
const REASON_SHORT = Object.fromEntries(REASONS.map((r) => [r.id, r.short]));
const RECENT_MAX = 8;
const APPT_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "-", "0", "⌫"];
const $ = (id) => document.getElementById(id);

let client = null;
let busy = false;          // a request is under way: the buttons wait (no double tickets)
const recent = [];         // tickets issued from this tablet, newest first

startClock($("clock"), { date: false });

function say(text, kind = "info") {
  $("g-msg").textContent = text;
  $("g-msg").className = "guide-msg " + kind;
}

// The error word in Chinese plus what the guide can do about it; the controller's own sentence
// (English, it names the rule) follows for the ones a guide cannot read off the word alone.
function errText(err, args) {
  if (err && err.code === "forbidden" && args && args.priority === "priority")
    return "本令牌不能发放优先号：请用工作人员令牌登录（配置 queue.priority_roles）";
  return errorText(err, { msg: "：", appointment: args && args.appointment });
}

// The windows that serve a category now: open ones first, then paused ones.
function windowsFor(state, cat) {
  const wins = (state.windows || []).filter((w) => (w.categories || []).includes(cat) && w.status !== "closed");
  return wins.sort((a, b) => (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1) || a.id - b.id);
}

function render(state) {
  if (state.hall && state.hall.name) {
    $("hall-name").textContent = state.hall.name;
    document.title = "咨询引导 - " + state.hall.name;
  }
  if (client) $("who").textContent = "咨询引导" + (client.staff ? " · 工号 " + client.staff : "");
  $("g-closed").classList.toggle("hidden", state.open !== false);
  $("g-cats").replaceChildren(...(state.categories || []).map((c) => {
    const q = (state.queues || {})[c.id] || {};
    const wins = windowsFor(state, c.id);
    const serving = wins.some((w) => w.status === "open");
    return el("div", { class: "g-cat" + (serving ? "" : " no-window"), "data-category": c.id },
      el("div", { class: "g-head" },
        el("span", { class: "g-letter" }, c.id),
        el("span", { class: "g-name" }, c.name)),
      el("div", { class: "g-figures" },
        el("span", {}, "等候 ", el("b", { class: "g-waiting" }, q.waiting || 0), " 人"),
        el("span", {}, "其中优先 ", el("span", { class: "g-prio" }, q.priority_waiting || 0)),
        el("span", { class: "g-est" }, waitText(q.est_wait_s))),
      el("div", { class: "g-wins" },
        ...(wins.length ? wins.map((w) => el("span", { class: "g-win " + w.status, "data-window": w.id },
          w.name + (w.status === "paused" ? "（暂停）" : "")))
          : [el("span", { class: "g-none" }, "暂无窗口办理，请引导群众稍候")])),
      el("div", { class: "g-actions" },
        el("button", { class: "btn btn-primary", type: "button", "data-issue": "normal", disabled: busy,
          onclick: () => issue({ category: c.id, priority: "normal" }) }, "普通取号"),
        el("button", { class: "btn btn-red", type: "button", "data-issue": "priority", disabled: busy,
          onclick: () => openReasons(c) }, "优先取号")));
  }));
}

function setBusy(b) {
  busy = b;
  for (const btn of document.querySelectorAll("#g-cats button, #appt-submit")) btn.disabled = b;
}

async function issue(args) {
  if (busy || !client) return;
  setBusy(true);
  say("正在取号…");
  try {
    // qr: the visitor scans the phone link from this screen (docs/mobile.md)
    const r = await client.request("ticket.issue", Object.assign({ qr: true }, args));
    const t = r.ticket || {};
    remember(t, !!args.appointment);
    showTicket(t, !!args.appointment);
    say(`已发放 ${t.code}（${categoryName(client.state, t.category)}）`, "ok");
    return true;
  } catch (err) {
    say(errText(err, args), "err");
    return false;
  } finally {
    setBusy(false);
  }
}

// ---- the priority reason sheet ----

function closeOverlay(id) {
  const o = $(id);
  if (o) o.remove();
}

function openReasons(cat) {
  if (busy || !client) return;
  const pick = (reason) => {
    closeOverlay("g-reason-overlay");
    issue({ category: cat.id, priority: "priority", priority_reason: reason });
  };
  const sheet = el("div", { class: "g-sheet", id: "reason-sheet", onclick: (e) => e.stopPropagation() },
    el("h2", {}, "优先取号 · " + cat.name),
    el("div", { class: "hint" }, "请选择优先办理的原因（只记录类别，不记录姓名）"),
    el("div", { class: "g-reasons" }, ...REASONS.map((r) =>
      el("button", { class: "btn btn-red", type: "button", "data-reason": r.id, onclick: () => pick(r.id) },
        r.text, el("small", {}, r.en)))),
    el("button", { class: "btn btn-grey g-cancel", type: "button", id: "reason-cancel",
      onclick: () => closeOverlay("g-reason-overlay") }, "返回"));
  document.body.append(el("div", { class: "ticket-overlay", id: "g-reason-overlay",
    onclick: () => closeOverlay("g-reason-overlay") }, sheet));
}

// ---- the issued ticket ----

function showTicket(t, appointment) {
  closeOverlay("g-ticket-overlay");
  const prio = t.priority === "priority";
  const label = appointment ? "预约签到成功" : prio ? "优先号" : "普通号";
  const ahead = typeof t.ahead === "number" ? t.ahead : 0;
  const card = el("div", { class: "ticket-card", id: "g-ticket", onclick: (e) => e.stopPropagation() },
    prio ? el("div", { class: "t-prio", id: "g-ticket-kind" },
      label + (t.priority_reason ? " · " + (REASON_TEXT[t.priority_reason] || t.priority_reason) : ""))
      : el("div", { class: "t-label", id: "g-ticket-kind" }, label),
    el("div", { class: "t-code", id: "g-ticket-code" }, t.code || ""),
    el("div", { class: "t-cat" }, categoryName(client.state, t.category)),
    el("div", { class: "t-row" }, "前面还有 ", el("b", { id: "g-ticket-ahead" }, ahead), " 人"),
    el("div", { class: "t-row" }, "预计等待 ", el("b", {}, Math.max(0, Math.ceil((t.est_wait_s || 0) / 60))), " 分钟"),
    // the phone link (docs/mobile.md): the controller draws the QR code where it gives one
    t.qr_svg ? el("img", { id: "g-ticket-qr", width: 170, height: 170, alt: "手机扫码查看排队进度",
      src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(t.qr_svg) }) : null,
    t.qr_svg ? el("div", { class: "t-hint" }, "请群众用手机扫码，随时查看排队进度") : null,
    !t.qr_svg && t.url ? el("div", { class: "t-link", id: "g-ticket-link" }, "手机查看进度：" + t.url) : null,
    el("div", { class: "t-hint" }, "请告知群众号码，留意大厅显示屏和语音叫号"),
    el("div", { class: "t-back" }, el("button", { class: "btn btn-primary", type: "button", id: "g-ticket-done",
      onclick: () => closeOverlay("g-ticket-overlay") }, "完成")));
  document.body.append(el("div", { class: "ticket-overlay", id: "g-ticket-overlay",
    onclick: () => closeOverlay("g-ticket-overlay") }, card));
}

function remember(t, appointment) {
  recent.unshift({ code: t.code, category: t.category, priority: t.priority === "priority", appointment,
    reason: t.priority_reason || null, at: Date.now() });
  recent.length = Math.min(recent.length, RECENT_MAX);
  $("g-recent").replaceChildren(...recent.map((r) => el("li", {},
    el("span", {}, el("b", {}, r.code), " ", el("span", { class: "cat" }, categoryName(client.state, r.category))),
    r.priority ? el("span", { class: "prio" },
      r.appointment ? "预约" : "优先" + (r.reason ? "·" + (REASON_SHORT[r.reason] || r.reason) : "")) : el("span", {}, "普通"),
    el("span", {}, formatTime(r.at)))));
}

// ---- appointment check-in (预约签到) ----

const apptInput = $("appt-number");
$("appt-keys").replaceChildren(...APPT_KEYS.map((k) => el("button", { class: "btn btn-light", type: "button",
  "data-key": k, onclick: () => {
    apptInput.value = k === "⌫" ? apptInput.value.slice(0, -1) : (apptInput.value + k).slice(0, 32);
  } }, k)));

async function checkIn() {
  const number = apptInput.value.trim();
  if (!number) { say("请输入预约号", "err"); apptInput.focus(); return; }
  if (await issue({ appointment: number })) apptInput.value = "";
}

$("appt-submit").addEventListener("click", checkIn);
apptInput.addEventListener("keydown", (e) => { if (e.key === "Enter") checkIn(); });
$("logout").addEventListener("click", () => { forgetToken("guide"); location.reload(); });

mountReport(document.querySelector(".topbar"), () => client, say);

boot("guide", {
  onState: (state, c) => { client = c; render(state); },
  onStatus: (status, detail, c) => {
    if (status !== "ready") return;
    client = c;
    if (c.role !== "staff" && c.role !== "admin")
      say("此页面供导办人员使用：请用工作人员令牌登录，否则只能发放普通号", "err");
  },
}, { title: "咨询引导登录", label: "工作人员令牌" }).then((c) => { client = c; if (c.state) render(c.state); });
