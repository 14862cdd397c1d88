// rate.js: the rating device (评价器) at one window (/rate/N or ?w=N), logged in with a kiosk token.
// When window N finishes a ticket it asks the visitor to rate the service: five levels (GB/T 39734);
// 不满意 and 非常不满意 need a reason from the hall's list and may add a short text. Then thanks,
// then back to idle. Only ticket codes are shown, never a visitor's data.
import { boot, el, errorText, startClock } from "./hall.js";

const ASK_SECONDS = 60;          // an unanswered request goes back to idle
const THANKS_SECONDS = 5;
const ERROR_SECONDS = 6;
const $ = (id) => document.getElementById(id);
const fromQuery = Number(new URLSearchParams(location.search).get("w"));
const fromPath = Number(location.pathname.split("/").filter(Boolean).pop());
const WINDOW_ID = fromQuery || fromPath || 0;

// The levels and reasons come from the hall (ratings.reasons); these are only the fallback.
let levels = [
  { score: 5, name: "非常满意", needs_reason: false }, { score: 4, name: "满意", needs_reason: false },
  { score: 3, name: "基本满意", needs_reason: false }, { score: 2, name: "不满意", needs_reason: true },
  { score: 1, name: "非常不满意", needs_reason: true },
];
let reasons = [];
let textMax = 300;
let client = null;
let pending = null;       // {code} the ticket being rated
let timer = null;
let busy = false;

startClock($("clock"), { date: false });

function screen(name, ...children) {
  clearTimeout(timer);
  timer = null;
  const main = $("screen");
  main.dataset.screen = name;
  main.replaceChildren(...children);
}

function later(seconds, fn) {
  clearTimeout(timer);
  timer = setTimeout(fn, seconds * 1000);
}

function idle() {
  pending = null;
  busy = false;
  screen("idle",
    el("div", { class: "rate-title" }, "欢迎您对我们的服务进行评价"),
    el("div", { class: "rate-sub" }, WINDOW_ID ? "办理完成后，请在此为本窗口的服务评价" : "网址中缺少窗口号（/rate/窗口号）"));
}

function stars(n) { return "★".repeat(n); }

function ask(code) {
  pending = { code };
  busy = false;
  screen("ask",
    el("div", { class: "rate-sub" }, "您的号码"),
    el("div", { class: "rate-code", id: "rate-code" }, code),
    el("div", { class: "rate-title" }, "请您对本次服务作出评价"),
    el("div", { class: "rate-levels" }, ...levels.map((l) =>
      el("button", { class: "rate-btn", "data-score": l.score, onclick: () => pick(l) },
        el("span", { class: "face" }, stars(l.score)), l.name))));
  later(ASK_SECONDS, idle);
}

function pick(level) {
  if (!pending || busy) return;
  if (!level.needs_reason) { send(level.score, null, null); return; }
  let reason = null;
  const text = el("textarea", { class: "rate-text", id: "rate-text", placeholder: "可选：请简要说明（不要填写个人信息）" });
  const submit = el("button", { class: "btn btn-primary", id: "rate-submit", disabled: true,
    onclick: () => send(level.score, reason, text.value.trim() || null) }, "提交评价");
  const buttons = reasons.map((r) => el("button", { class: "reason-btn", "data-reason": r, onclick: (e) => {
    reason = r;
    for (const b of buttons) b.classList.toggle("picked", b === e.currentTarget);
    submit.disabled = false;
    later(ASK_SECONDS, idle);
  } }, r));
  text.addEventListener("input", () => {
    // the hall takes at most textMax bytes of UTF-8: cut by characters until it fits
    while (new TextEncoder().encode(text.value).length > textMax) text.value = text.value.slice(0, -1);
    later(ASK_SECONDS, idle);
  });
  screen("reason",
    el("div", { class: "rate-title" }, `您选择了“${level.name}”，请告诉我们原因`),
    el("div", { class: "rate-reasons", id: "reasons" }, ...buttons),
    text,
    el("div", { class: "rate-actions" },
      el("button", { class: "btn btn-light", onclick: () => ask(pending.code) }, "返回"),
      submit));
  later(ASK_SECONDS, idle);
}

async function send(score, reason, text) {
  if (!pending || busy || !client) return;
  busy = true;
  const args = { code: pending.code, score };
  if (reason) args.reason = reason;
  if (text) args.text = text;
  try {
    await client.request("ticket.rate", args);
    screen("thanks", el("div", { class: "rate-thanks", id: "rate-thanks" }, "感谢您的评价！"),
      el("div", { class: "rate-sub" }, "欢迎再次光临"));
    later(THANKS_SECONDS, idle);
  } catch (err) {
    screen("error", el("div", { class: "rate-error", id: "rate-error" }, "评价未能提交：" + errorText(err)));
    later(ERROR_SECONDS, idle);
  } finally {
    busy = false;
    pending = null;
  }
}

function render(state) {
  const w = (state.windows || []).find((x) => x.id === WINDOW_ID);
  $("win-name").textContent = w ? `${w.name} · 服务评价` : "服务评价";
  if (w) document.title = `服务评价 - ${w.name}`;
  $("staff").textContent = w && w.status !== "closed" && w.staff_name
    ? `${w.staff_title || "工作人员"}：${w.staff_name}` : "";
}

function onEvent(ev) {
  if (ev.ev === "ticket.finished" && ev.window === WINDOW_ID) ask(ev.code);
  else if (ev.ev === "ticket.rated" && pending && ev.code === pending.code && !busy) idle();   // rated elsewhere
}

async function loadReasons(c) {
  try {
    const r = await c.request("ratings.reasons");
    if (Array.isArray(r.levels) && r.levels.length === 5) levels = r.levels;
    if (Array.isArray(r.reasons)) reasons = r.reasons;
    if (typeof r.text_max === "number") textMax = r.text_max;
  } catch (e) { /* an older hall: the fallback levels, no reasons */ }
}

idle();
boot("rate", {
  onState: (state, c) => { client = c; render(state); },
  onStatus: (status, detail, c) => { if (status === "ready") { client = c; loadReasons(c); } },
  onEvent,
  events: ["ticket.finished", "ticket.rated", "window.changed", "emergency.changed"],
}, { title: "评价器登录", label: "设备令牌（取号机令牌）" }).then((c) => { client = c; });
