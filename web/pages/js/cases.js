// cases.js: the public board of case progress (/cases, Ankang (八)1 事项办理情况实时滚动公示).
// It reads cases.board, which holds ticket codes, matter names, status and deadlines only: no
// names, no staff. The board refreshes every 30 s and soon after a ticket is finished; when the
// rows do not fit they scroll slowly, pause at the end and start again.
import { boot, el, startClock } from "./hall.js";

const REFRESH_MS = 30000;
const AFTER_FINISH_MS = 1500;     // case.* events are not for screens: re-read after ticket.finished
const SCROLL_STEP_PX = 1;
const SCROLL_EVERY_MS = 40;
const SCROLL_PAUSE_MS = 4000;
const STATUS_TEXT = { open: "办理中", warning: "即将到期", overdue: "已超期", closed: "已办结" };
const $ = (id) => document.getElementById(id);

let client = null;
let refreshTimer = null;
let soonTimer = null;
let pausedUntil = Date.now() + SCROLL_PAUSE_MS;

startClock($("clock"));

const pad2 = (n) => String(n).padStart(2, "0");
function deadlineText(ms) {
  const d = new Date(ms);
  // a deadline at midnight is the end of the day before: 24:00, as people read it
  if (d.getHours() === 0 && d.getMinutes() === 0) {
    const e = new Date(ms - 1);
    return `${e.getMonth() + 1}月${e.getDate()}日 24:00`;
  }
  return `${d.getMonth() + 1}月${d.getDate()}日 ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function render(list) {
  const count = (s) => list.filter((c) => c.status === s).length;
  const active = list.filter((c) => c.status !== "closed").length;
  $("summary").replaceChildren(
    el("span", {}, "在办 ", el("b", { id: "n-active" }, active), " 件"),
    el("span", {}, "即将到期 ", el("b", {}, count("warning")), " 件"),
    el("span", { class: "overdue" }, "已超期 ", el("b", { id: "n-overdue" }, count("overdue")), " 件"),
    el("span", {}, "今日办结 ", el("b", {}, count("closed")), " 件"));
  if (!list.length) {
    $("rows").replaceChildren(el("div", { class: "cases-empty" }, "暂无在办事项"));
    return;
  }
  $("rows").replaceChildren(...list.map((c) =>
    el("div", { class: "case-row st-" + c.status, "data-code": c.code, "data-status": c.status },
      el("span", { class: "c-code" }, c.code),
      el("span", { class: "c-matter" }, c.matter || "—"),
      el("span", { class: "c-kind" }, c.kind || ""),
      el("span", { class: "c-status" }, STATUS_TEXT[c.status] || c.status),
      el("span", { class: "c-deadline" }, c.status === "closed" ? "—" : deadlineText(c.deadline)))));
}

async function refresh() {
  if (!client) return;
  try {
    const r = await client.request("cases.board");
    render(r.cases || []);
  } catch (e) { /* offline: the banner says so; the last board stays */ }
}

function refreshSoon() {
  clearTimeout(soonTimer);
  soonTimer = setTimeout(refresh, AFTER_FINISH_MS);
}

// Scrolls the rows when they overflow; at the bottom it waits, then starts from the top.
setInterval(() => {
  const box = $("scroll");
  if (Date.now() < pausedUntil || box.scrollHeight <= box.clientHeight) return;
  if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1) {
    box.scrollTop = 0;
    pausedUntil = Date.now() + SCROLL_PAUSE_MS;
    return;
  }
  box.scrollTop += SCROLL_STEP_PX;
  if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1) pausedUntil = Date.now() + SCROLL_PAUSE_MS;
}, SCROLL_EVERY_MS);

boot("cases", {
  onState: (state, c) => {
    client = c;
    if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name;
  },
  onStatus: (status, detail, c) => {
    if (status !== "ready") return;
    client = c;
    refresh();
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refresh, REFRESH_MS);
  },
  onEvent: (ev) => { if (ev.ev === "ticket.finished") refreshSoon(); },
  events: ["ticket.finished", "emergency.changed"],
}, { title: "公示屏登录", label: "设备令牌" }).then((c) => { client = c; refresh(); });
