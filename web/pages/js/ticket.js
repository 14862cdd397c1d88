// ticket.js: the visitor's phone page /t/CODE?k=KEY (docs/mobile.md): where the ticket stands,
// live, and a notice (banner, vibration, chime) when it is 3 away and when it is called.
// The phone says hello with the ticket's own key ("ticket:CODE:KEY"): it may read its own ticket
// and the public queue events, nothing else. No personal data is shown or kept.
import { connect, renderEmergency } from "./hall.js";
import { playChime, unlockChime, chimeBlocked } from "./chime.js";

const SOON_AHEAD = 3;              // "3 away": the notice to come back to the hall
const REFRESH_DEBOUNCE_MS = 250;   // many events in a moment make one ticket.get
const HEARTBEAT_MS = 15000;        // a ticket.get this often, so a dead link is noticed
const EVENTS = ["ticket.called", "ticket.started", "ticket.noshow", "ticket.transferred",
  "queue.changed", "window.changed", "day.closed"];
const STATUS_TEXT = { connecting: "正在连接…", ready: "已连接，实时更新 · live", online: "已连接，实时更新 · live",
  offline: "连接已断开，正在重新连接… offline", denied: "" };

const $ = (id) => document.getElementById(id);
const code = decodeURIComponent(location.pathname.replace(/^\/t\//, "").replace(/\/.*$/, "")).toUpperCase();
const key = new URLSearchParams(location.search).get("k") || "";

let client = null;
let refreshTimer = null;
let shown = null;                  // the ticket as last rendered
let noticed = { soon: false, called: 0 };   // notices given (called: the recall count + 1)

function alertPerson(pattern) {
  if (navigator.vibrate) { try { navigator.vibrate(pattern); } catch (e) { /* not allowed: the banner stays */ } }
  if (!chimeBlocked()) playChime();
}

function showNotice(text, kind) {
  const n = $("t-notice");
  n.textContent = text;
  n.className = "notice" + (kind ? " " + kind : "");
}

function hideNotice() { $("t-notice").className = "notice hidden"; }

function render(t) {
  shown = t;
  $("t-code").textContent = t.code;
  $("t-category").textContent = t.category_name || t.category || "";
  const waiting = t.state === "waiting";
  $("t-figures").classList.toggle("hidden", !waiting);
  if (waiting) {
    $("t-position").textContent = t.position;
    $("t-ahead").textContent = t.ahead;
    $("t-wait").textContent = Math.max(0, Math.ceil((t.est_wait_s || 0) / 60));
  }
  const where = t.window_name || (t.window ? t.window + "号窗口" : "");
  const stateText = {
    waiting: t.ahead === 0 ? "下一位就是您" : "排队等候中",
    called: "请到 " + where + " 办理",
    serving: "正在 " + where + " 办理",
    done: "已办结，感谢您的耐心等候",
    noshow: "已过号，如需办理请到服务台咨询",
  }[t.state] || t.state;
  $("t-state").textContent = stateText;
  document.title = (t.state === "called" ? "【请到" + where + "】" : "") + t.code + " 排队进度";

  if (t.state === "called") {
    const n = (t.recalls || 0) + 1;
    showNotice("请 " + t.code + " 号到 " + where + " 办理" + (t.recalls ? "（再次呼叫）" : ""), "called");
    if (noticed.called < n) { noticed.called = n; alertPerson([400, 200, 400, 200, 400]); }
  } else if (waiting && t.ahead <= SOON_AHEAD) {
    showNotice("即将轮到您：前面还有 " + t.ahead + " 人，请回到大厅留意叫号", "");
    if (!noticed.soon) { noticed.soon = true; alertPerson([200, 100, 200]); }
  } else if (t.state === "noshow") {
    showNotice("您的号已过号", "bad");
  } else {
    hideNotice();
  }
  if (waiting && t.ahead > SOON_AHEAD) noticed.soon = false;   // transferred back into a longer line
}

function showTicketReply(r) {
  render(r.ticket);
  renderEmergency(r.emergency, $("t-emergency"));
}

function refresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    client.request("ticket.get").then(showTicketReply).catch((e) => {
      if (e && e.code === "not_found") { showNotice("本号已不在今日队列中", "bad"); $("t-state").textContent = "已结束"; }
    });
  }, REFRESH_DEBOUNCE_MS);
}

function onStatus(status, r) {
  $("t-status").textContent = STATUS_TEXT[status] ?? "";
  if (status === "ready") {
    if (r.hall && r.hall.name) $("t-hall").textContent = r.hall.name;
    render(r.ticket);
    renderEmergency(r.state && r.state.emergency, $("t-emergency"));
  } else if (status === "denied") {
    $("t-state").textContent = "链接无效或已过期";
    showNotice("无法查看：请重新扫描票上的二维码（二维码仅当天有效）", "bad");
  }
}

function onEvent(msg) {
  // our own call is shown at once, from the event itself; ticket.get then confirms it
  if (msg.ev === "ticket.called" && msg.code === code && shown) {
    render(Object.assign({}, shown, { state: "called", window: msg.window, window_name: msg.window_name,
      position: 0, ahead: 0, recalls: msg.recall ? (shown.recalls || 0) + 1 : shown.recalls || 0 }));
  }
  refresh();
}

$("t-alerts").addEventListener("click", () => {
  // browsers allow sound only after a touch: this is that touch
  unlockChime().then(() => {
    $("t-alerts").textContent = "提醒已开启";
    $("t-alerts").disabled = true;
    if (navigator.vibrate) { try { navigator.vibrate(50); } catch (e) { /* ignore */ } }
  });
});

if (!/^[A-Z0-9]{1,15}$/.test(code) || !key) {
  $("t-state").textContent = "链接不完整";
  showNotice("请扫描票上的二维码打开本页", "bad");
} else {
  $("t-code").textContent = code;
  // the shared hall.v1 client; the phone may not read the hall's state, so its heartbeat is its ticket
  client = connect("ticket:" + code + ":" + key, { events: EVENTS, onStatus, onEvent, banner: false,
    ping: { t: "ticket.get", everyMs: HEARTBEAT_MS }, onPing: showTicketReply });
}
