// kiosk.js: the visitor's ticket machine: one button per category, a ticket card after a tap;
// "我有预约" checks an appointment in (ticket.issue {appointment}) and shows its ticket the same way.
// A keyboard-like ID card reader types the visitor's ID number and Enter into #id-number: the next
// category tap sends it as id_number (the hall decides an elderly priority ticket). The number is
// kept in memory only until that tap, or ID_SECONDS, and never shown.
import { boot, el, errorText, startClock, waitText, categoryName } from "./hall.js";

const CARD_SECONDS = 10;
const grid = document.getElementById("categories");
const notice = document.getElementById("notice");
let client = null;
let busy = false;       // a ticket card (or a request) is on screen: the menu waits
let cardTimer = null;

startClock(document.getElementById("clock"));

function render(state) {
  if (state.hall && state.hall.name) {
    document.getElementById("hall-name").textContent = state.hall.name;
    document.title = "取号 - " + state.hall.name;
  }
  notice.classList.toggle("hidden", state.open !== false);
  notice.textContent = "当前不在办公时间，暂停取号";
  grid.replaceChildren(...(state.categories || []).map((c) => {
    const q = (state.queues || {})[c.id] || {};
    const waiting = q.waiting || 0;
    return el("button", { class: "cat-btn", "data-category": c.id, disabled: busy, onclick: () => issue(c.id) },
      el("div", { class: "cat-head" },
        el("span", { class: "cat-letter" }, c.id),
        el("span", { class: "cat-name" }, c.name)),
      el("div", { class: "cat-info" }, "等候 ", el("b", {}, waiting), " 人　", waitText(q.est_wait_s)));
  }));
}

function setBusy(b) {
  busy = b;
  for (const b2 of grid.querySelectorAll("button")) b2.disabled = b;
  const a = document.getElementById("appt-btn");
  if (a) a.disabled = b;
}

function closeCard() {
  clearInterval(cardTimer);
  cardTimer = null;
  const o = document.getElementById("ticket-overlay");
  if (o) o.remove();
  setBusy(false);
}

function showCard(card) {
  const back = el("div", { class: "t-back" });
  const overlay = el("div", { class: "ticket-overlay", id: "ticket-overlay", onclick: closeCard }, card);
  card.append(back);
  document.body.append(overlay);
  let left = CARD_SECONDS;
  const tick = () => {
    back.replaceChildren(el("button", { class: "btn btn-light" }, `返回（${left} 秒）`));
    if (left-- <= 0) closeCard();
  };
  tick();
  cardTimer = setInterval(tick, 1000);
}

async function issue(category) {
  if (busy || !client) return;
  setBusy(true);
  const id = takeIdNumber();
  if (id) await requestTicket({ category, id_number: id }, "您的号码", category, idErrorText);
  else await requestTicket({ category, priority: "normal" }, "您的号码", category);
}

// ---- ID-card priority (刷身份证): the reader types 18 characters and Enter ----

const ID_SECONDS = 30;
const idInput = document.getElementById("id-number");
const idBanner = document.getElementById("id-banner");
let idNumber = null;
let idTimer = null;

function showIdBanner(text) {
  document.getElementById("id-banner-text").textContent = text || "";
  idBanner.classList.toggle("hidden", !text);
}

function takeIdNumber() {
  const id = idNumber;
  idNumber = null;
  clearTimeout(idTimer);
  showIdBanner(null);
  return id;
}

function idErrorText(err) {
  if (err && err.code === "bad_request" && /id_number/.test(err.msg || ""))
    return "身份证号码无法识别，请重新刷卡，或直接点击业务取普通号";
  return errorText(err);
}

idInput.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const v = idInput.value.trim().toUpperCase();
  idInput.value = "";
  if (v.length !== 18) { showIdBanner("未能读取身份证，请重新刷卡"); return; }
  idNumber = v;
  clearTimeout(idTimer);
  idTimer = setTimeout(takeIdNumber, ID_SECONDS * 1000);
  showIdBanner("已读取身份证，请选择业务取号（60岁以上老人为优先号）");
});
document.getElementById("id-cancel").addEventListener("click", () => { takeIdNumber(); });
// the reader types wherever the focus is: keep it on the field while nothing else needs the
// keyboard (the appointment sheet, the sign-in prompt's token field)
document.addEventListener("click", () => {
  const f = document.activeElement;
  if (document.getElementById("appt-overlay") || (f && f !== idInput && f.tagName === "INPUT")) return;
  idInput.focus({ preventScroll: true });
});
idInput.focus();

// Issues (or checks in) and shows the ticket card, or an error card with errText(err).
async function requestTicket(args, label, category, errText = errorText) {
  try {
    // qr: the controller draws the phone link's QR code only for screens that ask for it
    const r = await client.request("ticket.issue", Object.assign({ qr: true }, args));
    const t = r.ticket || {};
    const ahead = typeof t.ahead === "number" ? t.ahead : 0;
    const elderly = t.priority === "priority" && t.priority_reason === "elderly";
    showCard(el("div", { class: "ticket-card", id: "ticket-card" },
      el("div", { class: "t-label" }, elderly ? "老年人优先号 · " + label : label),
      el("div", { class: "t-code", id: "ticket-code" }, t.code || ""),
      el("div", { class: "t-cat" }, categoryName(client.state, t.category || category || "")),
      el("div", { class: "t-row" }, "前面还有 ", el("b", {}, ahead), " 人"),
      el("div", { class: "t-row" }, "预计等待 ", el("b", {}, Math.max(0, Math.ceil((t.est_wait_s || 0) / 60))), " 分钟"),
      // @mobile: the phone link's QR code (docs/mobile.md); an <img> of the SVG the controller drew
      t.qr_svg ? el("img", { id: "ticket-qr", width: 180, height: 180, alt: "手机扫码查看排队进度",
        src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(t.qr_svg) }) : null,
      t.qr_svg ? el("div", { class: "t-hint" }, "手机扫码，随时查看排队进度") : null,
      el("div", { class: "t-hint" }, "请留意大厅显示屏和语音叫号，过号请到服务台咨询")));
  } catch (err) {
    showCard(el("div", { class: "ticket-card error", id: "ticket-card" },
      el("div", { class: "t-code" }, "暂时无法取号"),
      el("div", { class: "t-msg", id: "ticket-error" }, errText(err)),
      el("div", { class: "t-hint" }, "如需帮助，请咨询导办人员")));
  }
}

// ---- appointments (预约签到): the number from the booking, typed or scanned, and the last 4
// digits of the phone (or ID) number the booking was made with, when it has them ----

const apptBtn = document.getElementById("appt-btn");
const APPT_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "-", "0", "⌫"];

function closeAppt() {
  const o = document.getElementById("appt-overlay");
  if (o) o.remove();
}

function openAppt() {
  if (busy || !client) return;
  setBusy(true);
  apptBtn.disabled = true;
  const input = el("input", { id: "appt-number", type: "text", inputmode: "text", autocomplete: "off",
    maxlength: 32, placeholder: "预约号", "aria-label": "预约号 appointment number" });
  const check = el("input", { id: "appt-check", type: "text", inputmode: "numeric", autocomplete: "off",
    maxlength: 4, placeholder: "手机号后四位", "aria-label": "手机号后四位 last 4 digits of the phone number" });
  let target = input;   // the field the on-screen keypad types into
  input.addEventListener("focus", () => { target = input; });
  check.addEventListener("focus", () => { target = check; });
  const submit = async () => {
    const number = input.value.trim(), code = check.value.trim();
    if (!number) { input.focus(); return; }
    closeAppt();
    await requestTicket(code ? { appointment: number, check: code } : { appointment: number }, "预约签到成功 · 您的号码",
      null, (err) => errorText(err, { appointment: true }));
  };
  const cancel = () => { closeAppt(); setBusy(false); apptBtn.disabled = false; };
  for (const f of [input, check]) f.addEventListener("keydown", (e) => { if (e.key === "Enter") submit(); });
  const keys = APPT_KEYS.map((k) => el("button", { class: "btn btn-light", type: "button", "data-key": k,
    onclick: () => {
      target.value = k === "⌫" ? target.value.slice(0, -1) : (target.value + k).slice(0, target.maxLength);
      target.focus();
    } }, k));
  const sheet = el("div", { class: "appt-sheet", id: "appt-sheet", onclick: (e) => e.stopPropagation() },
    el("h2", {}, "预约签到 Appointment check-in"),
    el("div", { class: "hint" }, "请输入预约短信或凭证上的预约号，以及预约时所留手机号的后四位；预约时段开始前即可签到"),
    input,
    check,
    el("div", { class: "appt-keys" }, ...keys),
    el("div", { class: "appt-actions" },
      el("button", { class: "btn btn-grey", id: "appt-cancel", type: "button", onclick: cancel }, "返回"),
      el("button", { class: "btn btn-primary", id: "appt-submit", type: "button", onclick: submit }, "签到取号")));
  document.body.append(el("div", { class: "ticket-overlay", id: "appt-overlay", onclick: cancel }, sheet));
  input.focus();
}

apptBtn.addEventListener("click", openAppt);

boot("kiosk", {
  onState: (state, c) => { client = c; render(state); },
}, { title: "取号机登录", label: "设备令牌" }).then((c) => { client = c; });
