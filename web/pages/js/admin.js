// admin.js: the manager dashboard (管理看板, /admin): live load per category and per window, the
// day's waits, service times and satisfaction (report.day), alerts, overdue cases, ratings,
// follow-ups and faults, charts of the queues over time and of hourly arrivals, and the daily
// report as a printable page or a CSV download. Needs an admin token (docs/reports.md).
// Commands that a hall may not have (alerts.list, cases.list, ratings.stats, followups.list)
// show "not available" in their panel; the rest of the page keeps working.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { boot, el, errorText, forgetToken, startClock, waitText, WINDOW_STATUS_TEXT } from "./hall.js";

const PAGE = "admin";
const $ = (id) => document.getElementById(id);
const REPORT_REFRESH_MS = 30000;
const REPORT_AFTER_EVENT_MS = 1500;
const SAMPLE_EVERY_MS = 15000;
const WAIT_POINTS_MAX = 720;
const SAT_TARGET = 0.95;
const COLORS = ["#0b4ea2", "#c8161d", "#0a8a3a", "#e08a00", "#6a3d9a", "#1f9fb4", "#b15928", "#555"];
const ROLE_TEXT = { staff: "窗口人员", security: "安保", admin: "管理员", display: "显示屏", kiosk: "取号机" };

let client = null;
let state = null;
let report = null;              // report.day's tree for today
let reportTimer = null;
let issuedSinceReport = 0;      // ticket.issued seen since the last report (live count)
let hourlyLocal = new Array(24).fill(0);
const alerts = new Map();       // id -> alert (alerts.list, then alert.raised / alert.cleared)
let alertsAvailable = null;     // null = not asked yet, false = the hall has no alerts.list
const faults = new Map();       // kind -> fault event
let waitChart = null;
let hourChart = null;
let cats = [];                  // [{id, name}] in config order
const waitData = { x: [], y: [] };

startClock($("clock"), { date: true });

// ---- small helpers -------------------------------------------------------------------------

function mmss(s) {
  if (typeof s !== "number") return "–";
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function pct(x) { return typeof x === "number" ? (x * 100).toFixed(1) + "%" : "–"; }

function todayInput() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function notAvailable(node, err, what) {
  const li = node.tagName === "UL" ? "li" : "div";
  node.replaceChildren(el(li, { class: "adm-na" },
    `暂不可用 not available（${what}: ${err && err.code ? err.code : "?"}${err && err.msg ? " — " + err.msg : ""}）`));
}

// report.day (and any command of an earlier day) may answer {loading: true, retry_ms}: ask again.
async function requestDay(args) {
  for (let i = 0; i < 100; i++) {
    const r = await client.request("report.day", args);
    if (!r.loading) return r;
    await new Promise((res) => setTimeout(res, Math.max(100, Math.min(5000, r.retry_ms || 300))));
  }
  throw { code: "timeout", msg: "the day is still being read" };
}

// ---- the cards and tables --------------------------------------------------------------------

function reportRow(dim, id) {
  return report && (report[dim] || []).find((r) => r.id === id);
}

function renderCards() {
  if (!state) return;
  const q = state.queues || {};
  const waiting = Object.values(q).reduce((n, x) => n + (x.waiting || 0), 0);
  $("k-waiting").textContent = String(waiting);
  const open = (state.windows || []).filter((w) => w.status === "open" || w.status === "paused").length;
  $("k-open").textContent = `${open} / ${(state.windows || []).length}`;
  const tot = report && report.totals;
  $("k-issued").textContent = tot ? String(tot.issued + issuedSinceReport) : String(issuedSinceReport || "–");
  $("k-served").textContent = tot ? String(tot.served) : "–";
  $("k-wait").textContent = tot ? mmss(tot.wait.avg_s) : "–";
  const sat = tot && tot.ratings.satisfaction;
  const ks = $("k-sat");
  ks.textContent = pct(sat);
  ks.className = typeof sat === "number" ? (sat >= SAT_TARGET ? "good" : "below") : "";
  $("k-alerts").textContent = alertsAvailable === false && !alerts.size ? "–" : String(alerts.size);
}

function renderQueues() {
  if (!state) return;
  const q = state.queues || {};
  const rows = cats.map((c) => {
    const x = q[c.id] || {};
    const r = reportRow("categories", c.id);
    return el("tr", { "data-cat": c.id },
      el("td", {}, el("b", {}, c.id), " ", c.name),
      el("td", { class: "n big", "data-k": "waiting" }, String(x.waiting || 0)),
      el("td", { class: "n" }, String(x.priority_waiting || 0)),
      el("td", { class: "n" }, waitText(x.est_wait_s)),
      el("td", { class: "n", "data-k": "issued" }, r ? String(r.issued) : "–"),
      el("td", { class: "n" }, r ? mmss(r.wait.avg_s) : "–"),
      el("td", { class: "n" }, r ? mmss(r.wait.p95_s) : "–"),
      el("td", { class: "n" }, r ? mmss(r.service.avg_s) : "–"));
  });
  $("queues").tBodies[0].replaceChildren(...rows);
}

function renderWindows() {
  if (!state) return;
  const rows = (state.windows || []).map((w) => {
    const r = reportRow("windows", w.id);
    const cur = w.current;
    return el("tr", { "data-window": w.id },
      el("td", {}, w.name || String(w.id)),
      el("td", {}, el("span", { class: "st st-" + w.status }, WINDOW_STATUS_TEXT[w.status] || w.status),
        w.pause_reason ? " " + w.pause_reason : ""),
      el("td", {}, w.staff_name || w.staff || "–"),
      el("td", {}, cur ? el("span", { class: "ticket-code" }, cur.code) : "–",
        cur ? ` ${cur.state === "serving" ? "办理中" : "已呼叫"}` : ""),
      el("td", { class: "n" }, r ? String(r.served) : "–"),
      el("td", { class: "n" }, r ? mmss(r.service.avg_s) : "–"),
      el("td", { class: "n" }, r ? pct(r.ratings.satisfaction) : "–"));
  });
  $("windows").tBodies[0].replaceChildren(...rows);
}

function renderFaults() {
  const list = [...faults.values()];
  if (!list.length) {
    $("faults").replaceChildren(el("li", { class: "adm-empty" }, "无故障 ", el("small", {}, "No faults")));
    return;
  }
  $("faults").replaceChildren(...list.map((f) => el("li", { class: "hot" },
    `${f.kind} · ${f.grade_zh || f.grade || ""} · ${f.detail || ""}`)));
}

// stats: the ratings.stats reply (its figures are under `stats`: counts by level, n,
// satisfaction_rate, target, meets_target, and groups when asked `by`), false when the hall has
// no ratings.stats, undefined to redraw with the last reply (the day's report arrived first).
function renderRatings(stats) {
  if (stats === undefined) stats = renderRatings.last;
  else renderRatings.last = stats;
  const box = $("ratings");
  const names = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"];
  const bars = (lv) => {
    const max = Math.max(1, ...lv);
    const grid = el("div", { class: "levels" });
    for (let i = 4; i >= 0; i--) {
      grid.append(el("span", {}, `${i + 1} ${names[i]}`),
        el("div", {}, el("div", { class: "bar" + (i < 2 ? " low" : ""), style: `width:${(lv[i] / max) * 100}%` })),
        el("span", { class: "n" }, String(lv[i])));
    }
    return grid;
  };
  const st = stats && typeof stats === "object" && stats.stats && typeof stats.stats === "object" ? stats.stats : null;
  const target = st && typeof st.target === "number" ? st.target : SAT_TARGET;
  const targetText = `目标 ${Math.round(target * 1000) / 10}%`;
  const verdict = (meets) => (meets === true ? el("b", { style: "color:var(--green)" }, " 达标")
    : meets === false ? el("b", { style: "color:var(--red)" }, " 未达标") : "");
  const parts = [];
  const tot = report && report.totals;
  if (tot) {
    parts.push(el("div", { "data-k": "today" }, `今日评价 ${tot.ratings.count} 条，满意率 ${pct(tot.ratings.satisfaction)}（${targetText}）`),
      bars(tot.ratings.levels || [0, 0, 0, 0, 0]));
  }
  if (st) {
    const counts = st.counts || {};
    const lv = names.map((n) => Number(counts[n]) || 0);
    const n = typeof st.n === "number" ? st.n : lv.reduce((a, b) => a + b, 0);
    const range = st.from || st.to ? `（${st.from || "…"}–${st.to || "…"}）` : "";
    parts.push(el("div", { "data-k": "all" }, `全部评价${range} ${n} 条，满意率 ${pct(st.satisfaction_rate)}（${targetText}）`,
      verdict(st.meets_target)));
    if (!tot) parts.push(bars(lv));
    else parts.push(el("div", { class: "adm-empty" }, names.map((x, i) => `${x} ${lv[i]}`).reverse().join(" · ")));
    const groups = (st.groups || []).filter((g) => g && g.n);
    if (groups.length) {
      parts.push(el("table", { class: "adm-table" },
        el("tbody", {}, ...groups.map((g) => el("tr", { "data-group": g.key },
          el("td", {}, g.name || g.key), el("td", { class: "n" }, `${g.n} 条`),
          el("td", { class: "n" }, pct(g.satisfaction_rate), verdict(g.meets_target)))))));
    }
  } else if (stats === false) {
    parts.push(el("div", { class: "adm-na" }, "ratings.stats 暂不可用 not available"));
  }
  box.replaceChildren(...(parts.length ? parts : [el("div", { class: "adm-empty" }, "无数据 No data")]));
}

// ---- optional panels: what other parts of the hall may provide -------------------------------

const clock = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleString("zh-CN", { hour12: false }) : "");
const winText = (w) => (w ? `${w}号窗口` : "");
const staffText = (x) => x.staff_name || x.staff || "";

// One line for an alert, a case or a follow-up, from whichever fields it has.
function describe(x, kind) {
  if (!x || typeof x !== "object") return String(x);
  const bits = [];
  if (kind === "case") {
    bits.push(`#${x.case ?? x.id ?? "?"} ${x.kind || ""} ${x.matter_name || x.matter || ""}`.trim(), x.code,
      winText(x.window), staffText(x), x.deadline ? "期限 " + clock(x.deadline) : "");
  } else if (kind === "followup") {
    bits.push(`#${x.id ?? "?"} ${x.code || ""}`, x.level ? `${x.score} ${x.level}` : x.score, x.reason,
      winText(x.window), staffText(x), x.opened_at ? clock(x.opened_at) : "");
  } else {
    bits.push(x.kind, winText(x.window), x.category, staffText(x), x.msg || x.message || x.text,
      x.at ? clock(x.at) : "");
  }
  return bits.filter((b) => b !== undefined && b !== null && b !== "").join(" · ") || JSON.stringify(x);
}

function firstArray(r, keys) {
  for (const k of keys) if (Array.isArray(r[k])) return r[k];
  return [];
}

function isOverdue(c) {
  if (c.overdue === true || c.status === "overdue" || c.state === "overdue") return true;
  const due = c.due_at || c.deadline;
  const open = !c.closed_at && c.status !== "closed" && c.state !== "closed";
  return open && typeof due === "number" && due < Date.now();
}

function renderAlerts() {
  const list = [...alerts.values()];
  if (alertsAvailable === false && !list.length) return;   // the not-available note stays
  $("alerts").replaceChildren(...(list.length ? list.map((a) => el("li", { class: "hot" }, describe(a, "alert")))
    : [el("li", { class: "adm-empty" }, "无告警 ", el("small", {}, "No active alerts"))]));
  renderCards();
}

async function loadAlerts() {
  try {
    const r = await client.request("alerts.list");
    alertsAvailable = true;
    alerts.clear();
    for (const a of firstArray(r, ["alerts", "items", "active"])) {
      if (a.active === false || a.cleared_at) continue;
      alerts.set(String(a.id ?? alerts.size), a);
    }
    renderAlerts();
  } catch (err) {
    alertsAvailable = false;
    if (!alerts.size) notAvailable($("alerts"), err, "alerts.list");
    renderCards();
  }
}

async function loadCases() {
  try {
    let r;
    try {
      r = await client.request("cases.list", { status: "overdue" });
    } catch (err) {
      if (err.code !== "bad_request") throw err;
      r = await client.request("cases.list");   // a cases.list without a status filter
    }
    const over = firstArray(r, ["cases", "items"]).filter(isOverdue);
    $("k-overdue").textContent = String(over.length);
    $("cases").replaceChildren(...(over.length ? over.map((c) => el("li", { class: "hot" }, describe(c, "case")))
      : [el("li", { class: "adm-empty" }, "无超期办件 ", el("small", {}, "No overdue cases"))]));
  } catch (err) {
    $("k-overdue").textContent = "–";
    notAvailable($("cases"), err, "cases.list");
  }
}

async function loadFollowups() {
  try {
    const r = await client.request("followups.list");
    const open = firstArray(r, ["followups", "items"]).filter((f) => !f.closed_at && f.status !== "closed");
    $("followups").replaceChildren(...(open.length ? open.map((f) => el("li", {}, describe(f, "followup")))
      : [el("li", { class: "adm-empty" }, "无待回访 ", el("small", {}, "No open follow-ups"))]));
  } catch (err) {
    notAvailable($("followups"), err, "followups.list");
  }
}

async function loadRatings() {
  try {
    renderRatings(await client.request("ratings.stats"));
  } catch (err) {
    renderRatings(false);
  }
}

// ---- the day's report --------------------------------------------------------------------------

async function loadReport() {
  clearTimeout(reportTimer);
  reportTimer = setTimeout(loadReport, REPORT_REFRESH_MS);
  try {
    const r = await requestDay({});
    report = r.report;
    issuedSinceReport = 0;
    hourlyLocal = new Array(24).fill(0);
    renderCards();
    renderQueues();
    renderWindows();
    renderRatings(undefined);
    drawHourly();
    loadRatings();
  } catch (err) {
    $("k-served").textContent = "–";
    showReportMsg("今日统计不可用：" + errorText(err, { msg: " — " }), true);
  }
}

function soon() {
  clearTimeout(reportTimer);
  reportTimer = setTimeout(loadReport, REPORT_AFTER_EVENT_MS);
}

function showReportMsg(text, isErr) {
  const m = $("report-msg");
  m.textContent = text || "";
  m.classList.toggle("err", !!isErr);
  m.classList.toggle("hidden", !text);
}

function chosenDay() {
  const v = $("report-day").value || todayInput();
  return Number(v.replaceAll("-", ""));
}

async function openReport() {
  // the window opens on the click itself (no popup blocker), the page follows when it is read
  const w = window.open("", "_blank");
  showReportMsg("正在生成日报… Building the report");
  try {
    const r = await requestDay({ day: chosenDay(), format: "html" });
    const url = URL.createObjectURL(new Blob([r.html], { type: "text/html;charset=utf-8" }));
    if (w) w.location.href = url; else location.href = url;
    showReportMsg(`日报 ${r.day} 已打开（${r.events} 条事件）`);
  } catch (err) {
    if (w) w.close();
    showReportMsg("无法生成日报：" + errorText(err, { msg: " — " }), true);
  }
}

async function downloadCsv() {
  showReportMsg("正在生成 CSV… Building the CSV");
  try {
    const r = await requestDay({ day: chosenDay(), format: "csv" });
    // the byte-order mark that tells spreadsheets "UTF-8" is eaten by the browser's UTF-8 decoder
    const csv = r.csv.startsWith("\ufeff") ? r.csv : "\ufeff" + r.csv;
    const a = el("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" })),
      download: `report-${r.day}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    showReportMsg(`已下载 report-${r.day}.csv（${r.events} 条事件）`);
  } catch (err) {
    showReportMsg("无法下载：" + errorText(err, { msg: " — " }), true);
  }
}

// ---- charts ---------------------------------------------------------------------------------------

function chartWidth(node) { return Math.max(300, node.clientWidth || 600); }

function sampleQueues() {
  if (!state || !cats.length) return;
  const q = state.queues || {};
  waitData.x.push(Date.now() / 1000);
  cats.forEach((c, i) => waitData.y[i].push((q[c.id] && q[c.id].waiting) || 0));
  if (waitData.x.length > WAIT_POINTS_MAX) {
    waitData.x.shift();
    waitData.y.forEach((s) => s.shift());
  }
  if (waitChart) waitChart.setData([waitData.x, ...waitData.y]);
}

function makeWaitChart() {
  const node = $("chart-waiting");
  waitData.y = cats.map(() => []);
  sampleQueues();
  waitChart = new uPlot({
    width: chartWidth(node), height: 240,
    // at least the last 10 minutes on the axis, so a fresh page does not label seconds
    scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 600), max] },
      y: { range: (u, min, max) => [0, Math.max(5, max + 1)] } },
    series: [{ label: "时间" }, ...cats.map((c, i) => ({
      label: `${c.id} ${c.name}`, stroke: COLORS[i % COLORS.length], width: 2, paths: uPlot.paths.stepped({ align: 1 }),
    }))],
    axes: [{}, { label: "排队人数" }],
  }, [waitData.x, ...waitData.y], node);
}

function hourlyData() {
  const base = (report && report.hourly_arrivals) || new Array(24).fill(0);
  return [Array.from({ length: 24 }, (_, h) => h), base.map((n, h) => n + hourlyLocal[h])];
}

function drawHourly() {
  const node = $("chart-hourly");
  if (hourChart) { hourChart.setData(hourlyData()); return; }
  hourChart = new uPlot({
    width: chartWidth(node), height: 240,
    scales: { x: { time: false, range: [-0.5, 23.5] }, y: { range: (u, min, max) => [0, Math.max(5, max + 1)] } },
    series: [{ label: "时" }, {
      label: "取号 Issued", stroke: "#0b4ea2", fill: "rgba(11,78,162,0.55)", points: { show: false },
      paths: uPlot.paths.bars({ size: [0.7, 40] }),
    }],
    axes: [{ values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? `${v}时` : "")) }, {}],
  }, hourlyData(), node);
}

window.addEventListener("resize", () => {
  if (waitChart) waitChart.setSize({ width: chartWidth($("chart-waiting")), height: 240 });
  if (hourChart) hourChart.setSize({ width: chartWidth($("chart-hourly")), height: 240 });
});

// ---- wiring -----------------------------------------------------------------------------------------

function render(s) {
  if (!s) return;
  state = s;
  if (s.hall && s.hall.name) $("hall-name").textContent = s.hall.name;
  if (!cats.length) {
    cats = (s.categories && s.categories.length ? s.categories
      : Object.entries(s.queues || {}).map(([id, q]) => ({ id, name: q.name || id })));
  }
  for (const f of s.faults || []) faults.set(f.kind, f);
  for (const k of [...faults.keys()]) if (!(s.faults || []).some((f) => f.kind === k)) faults.delete(k);
  renderCards();
  renderQueues();
  renderWindows();
  renderFaults();
}

function onEvent(ev, s) {
  if (s) state = s;
  switch (ev.ev) {
    case "queue.changed":
      sampleQueues();
      renderCards();
      renderQueues();
      break;
    case "ticket.issued": {
      issuedSinceReport++;
      const h = new Date(ev.at).getHours();
      hourlyLocal[h]++;
      if (hourChart) hourChart.setData(hourlyData());
      renderCards();
      soon();
      break;
    }
    case "ticket.finished": case "ticket.noshow": case "ticket.rated": case "ticket.called":
    case "ticket.transferred":
      soon();
      break;
    case "alert.raised":
      alerts.set(String(ev.id ?? (ev.alert && ev.alert.id) ?? ev.seq), Object.assign({ at: ev.at }, ev.alert || ev));
      renderAlerts();
      break;
    case "alert.cleared":
      alerts.delete(String(ev.id ?? (ev.alert && ev.alert.id)));
      renderAlerts();
      break;
    case "case.opened": case "case.closed": case "case.overdue":
      loadCases();
      soon();
      break;
    case "followup.opened": case "followup.closed":
      loadFollowups();
      soon();
      break;
    case "fault":
      if (ev.active === false) faults.delete(ev.kind); else faults.set(ev.kind, ev);
      renderFaults();
      break;
    default:
      break;
  }
}

async function onReady(c) {
  client = c;
  $("who").textContent = c.role ? `· ${ROLE_TEXT[c.role] || c.role}` : "";
  if (c.role !== "admin") {
    $("denied").textContent = `此页面需要管理员令牌（当前为 ${ROLE_TEXT[c.role] || c.role}）。请点击右上角“退出”后重新登录。`;
    $("denied").classList.remove("hidden");
    return;
  }
  $("denied").classList.add("hidden");
  render(c.state);
  if (!waitChart && cats.length) makeWaitChart();
  drawHourly();
  await loadReport();
  await Promise.all([loadAlerts(), loadCases(), loadFollowups()]);
}

$("report-day").value = todayInput();
$("report-day").max = todayInput();
$("open-report").addEventListener("click", openReport);
$("download-csv").addEventListener("click", downloadCsv);
$("logout").addEventListener("click", () => { forgetToken(PAGE); location.reload(); });
setInterval(sampleQueues, SAMPLE_EVERY_MS);

boot(PAGE, {
  emergencyOverlay: false,   // the manager must still see the hall during an evacuation
  onState: (s) => render(s),
  onEvent,
  onStatus: (status, detail, c) => { if (status === "ready") onReady(c); },
}, { title: "管理看板登录", label: "管理员令牌 Admin token" });
