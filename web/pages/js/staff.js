// staff.js: the window staff's tablet: log in with the staff PIN, check in at a post (A/B), open a
// window, call and serve, finish with the outcome and its details (四件管理), and follow the
// member's alerts, open cases and today's appointments (docs/protocol.md, docs/cases.md).
import { boot, el, errorText, forgetToken, formatTime, startClock, waitText, categoryName,
  WINDOW_STATUS_TEXT, TICKET_STATE_TEXT } from "./hall.js";
import { mountReport } from "./report.js";

const OUTCOMES = ["即办件", "承诺件", "联办件", "上报件", "补正", "受理", "不予受理"];
// Outcomes that ask for more before the finish is sent; the others finish at one tap.
const DETAILED = new Set(["承诺件", "联办件", "上报件", "补正"]);
const PAUSE_REASONS = ["临时离开", "休息", "业务咨询", "系统故障", "会议"];
const CLOSE_RESULTS = ["准予许可", "已办结，通知领取", "不予许可"];
const LIST_MAX = 10;            // partners and missing materials: 1–10 (docs/cases.md)
const ITEM_MAX_BYTES = 60;
const RESULT_MAX_BYTES = 200;
const REFRESH_MS = 60000;       // cases and appointments are also re-read on their events
const WINDOW_KEY = "hall.staff.window.";   // + staff id
const CHECKIN_KEY = "hall.staff.checkin.";  // + staff id: {window, post, late, at}, so the late flag survives a reload
const ALERT_TEXT = { late_checkin: "签到提醒", ab_away: "A岗离岗", window_empty: "窗口无人", load: "排队过长" };
const CASE_STATUS_TEXT = { open: "办理中", warning: "即将到期", overdue: "已超期", closed: "已办结" };
const APPT_STATE_TEXT = { booked: "待签到", checked_in: "已签到", released: "已释放", cancelled: "已取消" };
const $ = (id) => document.getElementById(id);
const bytes = (s) => new TextEncoder().encode(s).length;

let client = null;
let myWindow = 0;               // 0: none chosen; remembered per staff member (a shared tablet)
let opened = false;                                              // window.open answered on this connection
let duty = null;                // duty.get's windows; null until read
let matters = [];               // matters.list
let defaultDays = 20;
let myCases = [];
let appts = null;               // appointments.list's list; null until read, false when refused
const timers = {};

startClock($("clock"), { date: false });

// The error word in Chinese plus the controller's own sentence, which names what was wrong.
const errText = (err) => errorText(err, { msg: "：" });

function say(text, kind = "info") {
  for (const id of ["msg", "pick-msg"]) {
    $(id).textContent = text;
    $(id).className = "staff-msg " + kind;
  }
}

// Runs fn at most once per ms (events often come in bursts).
function debounce(key, ms, fn) {
  clearTimeout(timers[key]);
  timers[key] = setTimeout(fn, ms);
}

function winObj(state, id) {
  return ((state && state.windows) || []).find((w) => w.id === id) || null;
}

function render(state) {
  if (!state) return;
  if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name;
  const em = state.emergency || {};
  // the counter that made a silent duress call shows nothing of it: the person in front may read it
  const myDuress = !!(client && client.staff && String(em.triggered_by || "").startsWith(`staff ${client.staff} `) &&
    String(em.triggered_by).endsWith("胁迫报警"));
  $("silent-alert").classList.toggle("hidden", !(em.active && em.silent) || myDuress);
  $("silent-alert").textContent = "⚠ 内部警报：" + (em.name || em.playbook || "") + "（请按预案处置，勿向群众广播）" +
    (em.drill ? "【演练】" : "");

  const isStaff = !!(client && client.role === "staff");
  $("duty").classList.toggle("hidden", !isStaff);
  $("side").classList.toggle("hidden", !isStaff);
  const mine = opened ? winObj(state, myWindow) : null;
  $("pick").classList.toggle("hidden", !!mine);
  $("work").classList.toggle("hidden", !mine);
  const staffName = myName(state);
  $("who").textContent = client && client.staff ? `${staffName ? staffName + " " : ""}工号 ${client.staff}` : "窗口工作台";
  renderDuty();
  renderAlerts();
  if (!mine) {
    renderPick(state);
    return;
  }
  $("win-name").textContent = mine.name;
  $("win-status").textContent = WINDOW_STATUS_TEXT[mine.status] || mine.status;
  $("win-status").className = "status-pill " + mine.status;
  const cur = mine.current;
  $("cur-code").textContent = cur ? cur.code : "暂无";
  $("cur-code").classList.toggle("none", !cur);
  $("cur-meta").textContent = cur
    ? `${categoryName(state, cur.category)} · ${TICKET_STATE_TEXT[cur.state] || cur.state}` +
      (cur.recalls ? ` · 已重呼 ${cur.recalls} 次` : "")
    : (mine.status === "paused" ? "暂停原因：" + (mine.pause_reason || "无") : "请点击“叫号”");
  const paused = mine.status === "paused";
  $("b-call").disabled = !!cur || paused;
  $("b-recall").disabled = !cur || cur.state !== "called";
  $("b-start").disabled = !cur || cur.state !== "called";
  $("b-noshow").disabled = !cur || cur.state !== "called";
  $("b-finish").disabled = !cur;
  $("b-transfer").disabled = !cur;
  $("b-pause").textContent = paused ? "恢复" : "暂停";
  $("b-pause").className = "btn " + (paused ? "btn-green" : "btn-amber");
  $("queues").replaceChildren(...(mine.categories || []).map((c) => {
    const q = (state.queues || {})[c] || {};
    return el("li", {},
      el("span", {}, `${c} ${categoryName(state, c)}`),
      el("span", {}, el("b", {}, q.waiting || 0), " 人 · ", waitText(q.est_wait_s)));
  }));
}

function myName(state) {
  for (const w of duty || []) {
    for (const p of Object.values(w.posts || {})) if (p && p.id === client.staff) return p.name;
  }
  const w = ((state && state.windows) || []).find((x) => x.staff === (client && client.staff));
  return w ? w.staff_name : "";
}

function renderPick(state) {
  $("window-pick").replaceChildren(...(state.windows || []).map((w) => {
    const mineNow = client && w.staff === client.staff;
    const taken = w.status !== "closed" && !mineNow;
    const here = checkedIn();
    return el("button", { class: "btn " + (taken ? "btn-grey" : "btn-primary") + (here && here.window.id === w.id ? " here" : ""),
      "data-window": w.id, onclick: () => openWindow(w.id) },
      w.name,
      el("small", {}, taken ? `${WINDOW_STATUS_TEXT[w.status]} · ${w.staff_name || w.staff || ""}`
        : (w.categories || []).map((c) => categoryName(state, c)).join(" / ")));
  }));
}

async function openWindow(id) {
  try {
    await client.request("window.open", { window: id });
    myWindow = id;
    opened = true;
    localStorage.setItem(WINDOW_KEY + client.staff, String(id));
    say("窗口已开启，可以叫号", "ok");
  } catch (err) {
    opened = false;
    say(errText(err) + (err.code === "conflict" ? "（该窗口已由其他工作人员使用）" : ""), "err");
  }
  render(client.state);
  loadCases();
}

// Runs a staff command; errors read as plain Chinese on the tablet, with the controller's reason.
async function act(t, args, okText) {
  try {
    const r = await client.request(t, args);
    if (okText) say(typeof okText === "function" ? okText(r) : okText, "ok");
    return r;
  } catch (err) {
    say(errText(err), "err");
    return null;
  } finally {
    render(client.state);
  }
}

function sheet(title, build) {
  const old = $("sheet");
  if (old) old.remove();
  const box = el("div", { class: "sheet" }, el("h2", {}, title));
  const overlay = el("div", { class: "sheet-overlay", id: "sheet" }, box);
  const close = () => overlay.remove();
  overlay.addEventListener("click", (e) => { if (e.target === overlay) close(); });
  build(box, close);
  if (!box.querySelector(".sheet-foot .cancel")) {
    box.append(el("div", { class: "sheet-foot" }, el("button", { class: "btn btn-grey cancel", onclick: close }, "取消")));
  }
  document.body.append(overlay);
  return overlay;
}

// ---- check-in / check-out (AB posts) -----------------------------------------------------------

const POST_TEXT = { a: "A岗", b: "B岗" };

// My posts from duty.get: [{window, post, checked_in, since}].
function myPosts() {
  const me = client && client.staff;
  const out = [];
  for (const w of duty || []) {
    for (const post of ["a", "b"]) {
      const p = (w.posts || {})[post];
      if (p && p.id === me) out.push({ window: w, post, checked_in: !!p.checked_in, since: p.since });
    }
  }
  return out;
}

function checkedIn() {
  return myPosts().find((p) => p.checked_in) || null;
}

function storedCheckin() {
  try { return JSON.parse(localStorage.getItem(CHECKIN_KEY + client.staff) || "null"); } catch (e) { return null; }
}

function renderDuty() {
  if (!client || client.role !== "staff") return;
  const posts = myPosts();
  const here = checkedIn();
  const actions = $("duty-actions");
  $("duty-post").classList.toggle("hidden", !here);
  if (duty === null) {
    $("duty-text").textContent = "正在读取岗位…";
    $("duty-late").classList.add("hidden");
    actions.replaceChildren();
    return;
  }
  if (here) {
    const saved = storedCheckin();
    const late = !!(saved && saved.window === here.window.id && saved.post === here.post && saved.at === here.since && saved.late);
    $("duty-text").textContent = `已签到 ${here.window.name}` + (here.since ? ` · ${formatTime(here.since)} 起` : "");
    $("duty-post").textContent = POST_TEXT[here.post];
    $("duty-post").className = "duty-pill post-" + here.post;
    $("duty-late").classList.toggle("hidden", !late);
    actions.replaceChildren(el("button", { class: "btn btn-grey", id: "b-checkout", onclick: checkoutSheet }, "签退"));
    return;
  }
  $("duty-late").classList.add("hidden");
  if (!posts.length) {
    $("duty-text").textContent = "您在本大厅未设岗位（无需签到）";
    actions.replaceChildren();
    return;
  }
  $("duty-text").textContent = "未签到：请选择岗位签到";
  actions.replaceChildren(...posts.map((p) => el("button", { class: "btn btn-green", "data-checkin": p.window.id,
    onclick: () => checkin(p.window.id) }, `签到 ${p.window.name} · ${POST_TEXT[p.post]}`)));
}

async function loadDuty() {
  try {
    duty = (await client.request("duty.get")).windows || [];
  } catch (err) {
    duty = [];
    $("duty-text").textContent = "岗位信息不可用：" + errText(err);
  }
  render(client.state);
}

async function checkin(windowId) {
  const r = await act("staff.checkin", { window: windowId },
    (x) => `已签到 ${x.window}号窗口（${POST_TEXT[x.post] || x.post}）` + (x.late ? "，已记录迟到" : "") +
      (opened ? "" : "，请开启窗口"));
  if (r) await loadDuty();
}

function checkoutSheet() {
  const here = checkedIn();
  sheet("确认签退？", (box, close) => {
    box.append(el("p", { class: "current-meta" }, here && here.post === "a"
      ? "签退后如窗口无人接替，B岗人员会收到提醒。离开前请先暂停或关闭窗口。"
      : "签退后本岗位不再计入在岗。"),
    el("div", { class: "sheet-grid" }, el("button", { class: "btn btn-red", id: "b-checkout-ok", onclick: async () => {
      close();
      const r = await act("staff.checkout", {}, (x) => `已签退 ${x.window}号窗口（${POST_TEXT[x.post] || x.post}）`);
      if (r) await loadDuty();
    } }, "签退")));
  });
}

// ---- alerts ------------------------------------------------------------------------------------

// Mine: those that ask me to act (notify), those about me, and those of the window I run.
function myAlerts() {
  const me = client && client.staff;
  const cats = (winObj(client && client.state, myWindow) || {}).categories || [];
  return ((client && client.state && client.state.alerts) || []).filter((a) => a.notify === me || a.staff === me ||
    (opened && a.window && a.window === myWindow) || (opened && a.kind === "load" && cats.includes(a.category)));
}

function renderAlerts() {
  if (!client || client.role !== "staff") return;
  const list = myAlerts();
  $("alerts-n").textContent = String(list.length);
  $("alerts-panel").classList.toggle("hot", list.some((a) => a.notify === client.staff));
  $("alerts").replaceChildren(...(list.length ? list.map((a) => el("li", { class: "alert-row", "data-alert": a.id },
    el("div", { class: "row-head" },
      el("span", { class: "tag tag-" + (a.notify === client.staff ? "act" : "info") }, ALERT_TEXT[a.kind] || a.kind),
      a.window ? el("span", {}, `${a.window}号窗口`) : null,
      el("span", { class: "row-time" }, a.at ? formatTime(a.at) : "")),
    el("div", { class: "row-text" }, a.msg || ""),
    a.notify === client.staff
      ? el("button", { class: "btn btn-amber small", onclick: () => ackAlert(a) }, "知道了") : null))
    : [el("li", { class: "side-empty" }, "暂无提醒")]));
}

async function ackAlert(a) {
  await act("alert.ack", { alert: a.id }, "提醒已确认");
}

function onAlertEvent(ev, state) {
  if (!state) return;
  const list = state.alerts || (state.alerts = []);
  if (ev.ev === "alert.raised") {
    const a = {};
    for (const [k, v] of Object.entries(ev)) if (!["t", "ev", "seq", "prev"].includes(k)) a[k] = v;
    if (!list.some((x) => x.id === a.id)) list.push(a);
    if (a.notify === client.staff) say("新提醒：" + (a.msg || ALERT_TEXT[a.kind] || a.kind), "err");
  } else {
    const i = list.findIndex((x) => x.id === ev.id);
    if (i >= 0) list.splice(i, 1);
  }
  renderAlerts();
}

// ---- my cases (四件管理) -------------------------------------------------------------------------

function dateTime(ms) {
  if (typeof ms !== "number") return "";
  const d = new Date(ms);
  return `${d.getMonth() + 1}月${d.getDate()}日 ${formatTime(ms)}`;
}

async function loadCases() {
  if (!client || client.role !== "staff") return;
  try {
    const r = await client.request("cases.list", { status: "active" });
    // The hall answers every open case; "mine" are those I finished (the controller sorts
    // overdue first, then at risk, then by deadline).
    myCases = (r.cases || []).filter((c) => c.staff === client.staff);
    renderCases();
  } catch (err) {
    $("cases").replaceChildren(el("li", { class: "side-empty" }, "办件不可用：" + errText(err)));
  }
}

function renderCases() {
  $("cases-n").textContent = String(myCases.length);
  $("cases-panel").classList.toggle("hot", myCases.some((c) => c.status === "overdue"));
  $("cases").replaceChildren(...(myCases.length ? myCases.map((c) => el("li", { class: "case-row st-" + c.status, "data-case": c.case },
    el("div", { class: "row-head" },
      el("span", { class: "tag tag-" + c.status }, CASE_STATUS_TEXT[c.status] || c.status),
      el("b", {}, c.code), el("span", {}, c.kind),
      el("span", { class: "row-time" }, "期限 " + dateTime(c.deadline))),
    el("div", { class: "row-text" }, `#${c.case} ${c.matter_name || "未指定事项"}` +
      (c.sent_to ? ` · 上报 ${c.sent_to}` : "") + (c.partners && c.partners.length ? ` · 联办 ${c.partners.join("、")}` : "")),
    el("button", { class: "btn btn-green small", onclick: () => closeCaseSheet(c) }, "办结")))
    : [el("li", { class: "side-empty" }, "暂无在办件")]));
}

function closeCaseSheet(c) {
  sheet(`办结 #${c.case} ${c.code} ${c.kind}`, (box, close) => {
    const input = el("input", { type: "text", id: "case-result", maxlength: "200", placeholder: "办理结果，如：准予许可" });
    const err = el("div", { class: "sheet-err hidden", id: "case-err" });
    box.append(el("p", { class: "current-meta" }, `${c.matter_name || "未指定事项"} · 期限 ${dateTime(c.deadline)}`),
      el("h3", {}, "办理结果"),
      el("div", { class: "chip-row" }, ...CLOSE_RESULTS.map((x) => el("button", { class: "chip",
        onclick: () => { input.value = x; } }, x))),
      input, err);
    const submit = async () => {
      const result = input.value.trim();
      const why = !result ? "请填写办理结果" : bytes(result) > RESULT_MAX_BYTES ? "办理结果过长（最多约 60 个汉字）" : "";
      if (why) { showErr(err, why); return; }
      try {
        await client.request("case.close", { case: c.case, result });
        close();
        say(`办件 #${c.case}（${c.code}）已办结`, "ok");
      } catch (e) {
        showErr(err, errText(e));
      }
      loadCases();
    };
    box.append(el("div", { class: "sheet-foot" },
      el("button", { class: "btn btn-grey cancel", onclick: close }, "取消"),
      el("button", { class: "btn btn-green", id: "case-close-ok", onclick: submit }, "确认办结")));
  });
}

function showErr(node, text) {
  node.textContent = text;
  node.classList.remove("hidden");
}

// ---- today's appointments ----------------------------------------------------------------------

async function loadAppointments() {
  if (!client || client.role !== "staff") return;
  try {
    appts = (await client.request("appointments.list", {})).appointments || [];
  } catch (err) {
    appts = false;
    $("appts").replaceChildren(el("li", { class: "side-empty" }, "预约不可用：" + errText(err)));
    return;
  }
  renderAppointments();
}

function renderAppointments() {
  if (!appts) return;
  const cats = opened ? ((winObj(client.state, myWindow) || {}).categories || []) : [];
  $("appts-n").textContent = String(appts.filter((a) => a.state === "booked" || a.state === "checked_in").length);
  $("appts").replaceChildren(...(appts.length ? appts.map((a) => el("li", {
    class: "appt-row st-" + a.state + (cats.includes(a.category) ? " mine" : ""), "data-appt": a.number },
  el("div", { class: "row-head" },
    el("span", { class: "tag tag-" + a.state }, APPT_STATE_TEXT[a.state] || a.state),
    el("b", {}, `${a.slot_start}–${a.slot_end}`),
    el("span", {}, `${a.category} ${categoryName(client.state, a.category)}`),
    a.ticket ? el("span", { class: "row-time" }, "号 " + a.ticket) : null),
  el("div", { class: "row-text" }, `${a.number} · ${a.name}` + (a.matter ? ` · ${a.matter}` : ""))))
    : [el("li", { class: "side-empty" }, "今日暂无预约")]));
}

// ---- finishing a ticket --------------------------------------------------------------------------

async function loadMatters() {
  try {
    const r = await client.request("matters.list");
    matters = r.matters || [];
    if (typeof r.default_days === "number") defaultDays = r.default_days;
  } catch (err) {
    matters = [];
  }
}

function finishSheet() {
  const mine = winObj(client.state, myWindow);
  const cur = mine && mine.current;
  if (!cur) return;
  sheet(`办结 ${cur.code}：请选择办件类型`, (box, close) => {
    box.append(el("div", { class: "sheet-grid" }, ...OUTCOMES.map((o) =>
      el("button", { class: "btn " + (o === "不予受理" ? "btn-red" : DETAILED.has(o) ? "btn-primary" : "btn-green"),
        "data-outcome": o,
        onclick: () => {
          if (DETAILED.has(o)) { close(); finishDetails(cur, o); return; }
          close();
          act("ticket.finish", { outcome: o }, (r) => `${r.ticket.code} 已办结（${o}）`).then(loadCases);
        } }, o))));
  });
}

// A list of short texts (partners, missing materials): an input, 添加, and removable chips.
function listEditor(id, placeholder, items) {
  const input = el("input", { type: "text", id, placeholder, maxlength: "60" });
  const chips = el("div", { class: "chip-row", id: id + "-list" });
  const draw = () => chips.replaceChildren(...items.map((x, i) => el("span", { class: "chip on" }, x,
    el("button", { class: "chip-x", title: "删除", onclick: () => { items.splice(i, 1); draw(); } }, "×"))));
  // Several at once are fine: 税务局、市场监管局
  const add = () => {
    for (const x of input.value.split(/[、，,；;\n]/).map((s) => s.trim()).filter(Boolean)) {
      if (!items.includes(x)) items.push(x);
    }
    input.value = "";
    draw();
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  return { node: el("div", { class: "list-editor" }, chips,
    el("div", { class: "input-row" }, input, el("button", { class: "btn btn-light", id: id + "-add", onclick: add }, "添加"))),
  flush: add };
}

function finishDetails(cur, outcome) {
  const state = client.state;
  const forCat = matters.filter((m) => !m.category || m.category === cur.category);
  const shown = forCat.length ? forCat : matters;
  const pick = { matter: null };
  const partners = [];
  const missing = [];
  sheet(`办结 ${cur.code}：${outcome}`, (box, close) => {
    const err = el("div", { class: "sheet-err hidden", id: "finish-err" });
    const note = el("p", { class: "current-meta", id: "matter-note" });
    const noteText = () => {
      const m = matters.find((x) => x.id === pick.matter);
      if (m) return `承诺时限 ${m.promised_days} 个工作日` + (m.legal_days ? `（法定 ${m.legal_days} 个工作日）` : "") +
        (outcome === "补正" ? "" : "，系统将跟踪期限");
      if (outcome === "承诺件") return `未指定事项：按默认 ${defaultDays} 个工作日跟踪`;
      if (outcome === "联办件" || outcome === "上报件") return "未指定事项：只记录，不跟踪期限（请尽量选择事项）";
      return "";
    };
    const matterButtons = [el("button", { class: "matter on", "data-matter": "", onclick: () => choose(null) }, "不指定事项"),
      ...shown.map((m) => el("button", { class: "matter", "data-matter": m.id, onclick: () => choose(m.id) },
        el("b", {}, m.name), el("small", {}, `${m.id} · ${m.promised_days} 个工作日`)))];
    const choose = (id) => {
      pick.matter = id;
      for (const b of matterButtons) b.classList.toggle("on", (b.dataset.matter || null) === id);
      note.textContent = noteText();
    };
    box.append(el("h3", {}, "事项" + (forCat.length ? `（${categoryName(state, cur.category)}）` : "")),
      el("div", { class: "matter-list", id: "matters" }, ...matterButtons), note);
    note.textContent = noteText();

    let lead = null;
    let partnerEd = null;
    let sentTo = null;
    let missingEd = null;
    if (outcome === "联办件") {
      lead = el("select", { id: "lead-window" }, ...(state.windows || []).map((w) =>
        el("option", { value: w.id, selected: w.id === myWindow ? "" : null }, w.name)));
      partnerEd = listEditor("partners", "协办部门，如：税务局", partners);
      box.append(el("h3", {}, "牵头窗口"), lead, el("h3", {}, "协办部门（1–10 个）"), partnerEd.node);
    } else if (outcome === "上报件") {
      sentTo = el("input", { type: "text", id: "sent-to", maxlength: "60", placeholder: "上报至，如：市行政审批局" });
      box.append(el("h3", {}, "上报至"), sentTo);
    } else if (outcome === "补正") {
      missingEd = listEditor("missing", "需补正的材料，如：身份证复印件", missing);
      box.append(el("h3", {}, "需补正材料（一次性告知，1–10 项）"), missingEd.node);
    }
    box.append(err);

    const submit = async () => {
      if (partnerEd) partnerEd.flush();
      if (missingEd) missingEd.flush();
      const args = { outcome };
      if (pick.matter) args.matter = pick.matter;
      let why = "";
      if (lead) {
        args.lead_window = Number(lead.value);
        if (partners.length) args.partners = partners.slice();
        if (partners.length > LIST_MAX) why = `协办部门最多 ${LIST_MAX} 个`;
      }
      if (sentTo && sentTo.value.trim()) args.sent_to = sentTo.value.trim();
      if (missingEd) {
        if (!missing.length) why = "请至少填写一项需补正的材料";
        else if (missing.length > LIST_MAX) why = `需补正材料最多 ${LIST_MAX} 项`;
        args.missing = missing.slice();
      }
      const long = [...partners, ...missing, args.sent_to || ""].find((x) => bytes(x) > ITEM_MAX_BYTES);
      if (long) why = `“${long}”过长（每项最多约 20 个汉字）`;
      if (why) { showErr(err, why); return; }
      try {
        const r = await client.request("ticket.finish", args);
        close();
        say(`${r.ticket.code} 已办结（${outcome}）` + (r.case ? `，办件 #${r.case} 已开始跟踪` : ""), "ok");
        loadCases();
      } catch (e) {
        showErr(err, errText(e));   // the sheet stays open: fix and send again
      }
      render(client.state);
    };
    box.append(el("div", { class: "sheet-foot" },
      el("button", { class: "btn btn-grey cancel", onclick: close }, "取消"),
      el("button", { class: "btn btn-light", onclick: () => { close(); finishSheet(); } }, "返回"),
      el("button", { class: "btn btn-green", id: "finish-ok", onclick: submit }, "确认办结")));
  });
}

// ---- transfer, pause, close, leave ------------------------------------------------------------

function transferSheet() {
  const state = client.state;
  sheet("转移：请选择业务或窗口", (box, close) => {
    box.append(el("h3", {}, "转到业务类别（重新排队）"));
    box.append(el("div", { class: "sheet-grid" }, ...(state.categories || []).map((c) =>
      el("button", { class: "btn btn-primary", onclick: () => { close();
        act("ticket.transfer", { category: c.id }, (r) => `${r.ticket.code} 已转到 ${c.name}`); } }, `${c.id} ${c.name}`))));
    box.append(el("h3", {}, "转到指定窗口"));
    box.append(el("div", { class: "sheet-grid" }, ...(state.windows || []).filter((w) => w.id !== myWindow).map((w) =>
      el("button", { class: "btn btn-light", onclick: () => { close();
        act("ticket.transfer", { window: w.id }, (r) => `${r.ticket.code} 已转到 ${w.name}`); } }, w.name))));
  });
}

function pauseSheet() {
  sheet("暂停服务：请选择原因", (box, close) => {
    const input = el("input", { type: "text", placeholder: "其他原因（可选填写）" });
    const pause = (reason) => { close(); act("window.pause", { reason }, "窗口已暂停"); };
    box.append(el("div", { class: "sheet-grid" }, ...PAUSE_REASONS.map((r) =>
      el("button", { class: "btn btn-amber", onclick: () => pause(r) }, r))));
    box.append(el("h3", {}, "其他原因"), input,
      el("div", { class: "sheet-foot" }, el("button", { class: "btn btn-amber",
        onclick: () => pause(input.value.trim() || "暂停") }, "暂停")));
  });
}

function closeSheet() {
  sheet("确认关闭窗口？", (box, close) => {
    box.append(el("p", { class: "current-meta" }, "关闭后本窗口不再叫号，排队群众将由其他窗口办理。"),
      el("div", { class: "sheet-grid" }, el("button", { class: "btn btn-red", onclick: async () => {
        close();
        const r = await act("window.close", {}, "窗口已关闭");
        if (r) leaveWindow();
      } }, "关闭窗口")));
  });
}

function leaveWindow() {
  opened = false;
  myWindow = 0;
  localStorage.removeItem(WINDOW_KEY + client.staff);
  render(client.state);
}

function logout() {
  forgetToken("staff");
  if (client && client.staff) localStorage.removeItem(WINDOW_KEY + client.staff);
  location.reload();
}

$("b-call").onclick = () => act("call.next", {}, (r) => `请 ${r.ticket.code} 号到本窗口办理`);
$("b-recall").onclick = () => act("call.recall", {}, (r) => `已重呼 ${r.ticket.code}`);
$("b-start").onclick = () => act("ticket.start", {}, (r) => `${r.ticket.code} 开始办理`);
$("b-noshow").onclick = () => act("ticket.noshow", {}, (r) => `${r.ticket.code} 未到，已过号`);
$("b-finish").onclick = finishSheet;
$("b-transfer").onclick = transferSheet;
$("b-pause").onclick = () => {
  const mine = winObj(client.state, myWindow);
  if (mine && mine.status === "paused") act("window.resume", {}, "窗口已恢复服务");
  else pauseSheet();
};
$("b-close").onclick = closeSheet;
$("b-switch").onclick = () => { leaveWindow(); say("请选择窗口（原窗口保持开启，如需关闭请先回到原窗口点击“关闭窗口”）"); };
$("logout-1").onclick = logout;
$("logout-2").onclick = logout;

// ---- events ------------------------------------------------------------------------------------

function onEvent(ev, state) {
  const name = ev.ev || "";
  if (name === "alert.raised" || name === "alert.cleared") {
    onAlertEvent(ev, state);
  } else if (name === "staff.checked_in" || name === "staff.checked_out" || name === "window.changed") {
    if (name === "staff.checked_in" && ev.staff === client.staff) {
      localStorage.setItem(CHECKIN_KEY + client.staff, JSON.stringify({ window: ev.window, post: ev.post, late: !!ev.late, at: ev.at }));
    }
    debounce("duty", 150, loadDuty);
  } else if (name.startsWith("case.")) {
    debounce("cases", 150, loadCases);
  } else if (name.startsWith("appointment.") || name === "day.closed") {
    debounce("appts", 300, loadAppointments);
  }
}

function refreshAll() {
  loadDuty();
  loadCases();
  loadAppointments();
}

setInterval(() => { if (client && client.online && client.role === "staff") { loadCases(); loadAppointments(); } }, REFRESH_MS);

mountReport(document.querySelector(".topbar"), () => client, say);

boot("staff", {
  onState: (state, c) => { client = c; render(state); renderAppointments(); },
  onEvent,
  onStatus: async (status, detail, c) => {
    client = c || client;
    if (status === "ready") {
      opened = false;   // a new connection acts for no window until window.open again
      if (client.role !== "staff") {
        say("此令牌不是工作人员令牌，无法叫号", "err");
        render(client.state);
        return;
      }
      myWindow = Number(localStorage.getItem(WINDOW_KEY + client.staff)) || 0;
      await loadMatters();
      refreshAll();
      if (myWindow) openWindow(myWindow);
      else render(client.state);
    } else if (status === "offline") {
      say("离线：操作暂不可用，正在重新连接…", "err");
    }
  },
}, { title: "工作人员登录", label: "工号令牌 / PIN" });
