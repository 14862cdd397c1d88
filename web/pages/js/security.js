// security.js: the security console (安保控制台) on a tablet: start a playbook (or a drill of it),
// follow the active incidents and tick their checklists, clear them with a reason, watch every
// GPIO line, the faults and the incident log.
import { boot, el, errorText, forgetToken, formatTime, startClock } from "./hall.js";

const PAGE = "security";
const $ = (id) => document.getElementById(id);
const DRILL = "演练 DRILL";
const LOG_MAX = 200;
const CLEAR_REASONS = ["演练结束", "消防确认为误报", "险情已排除", "处置完毕"];

// English sub-labels of the built-in playbooks (a config may add others: their id is shown).
const PLAYBOOK_EN = {
  fire: "Fire", explosion_gas: "Explosion / toxic gas", earthquake: "Earthquake",
  suspicious_object: "Suspicious object", power_failure: "Power failure",
  extreme_weather: "Extreme weather", epidemic: "Epidemic", illness: "Illness / injury",
  water_failure: "Water failure", network_fault: "Network / IT fault", mass_incident: "Mass incident",
};

// What the conventional lines mean (docs/emergency.md, "Lines the built-ins use").
const LINE_TEXT = {
  fire_panel: "火灾报警控制器 Fire panel", ups_on_battery: "UPS 电池供电 UPS on battery",
  door_main: "主门禁（1=释放） Main doors", power_nonfire: "非消防电源 Non-fire power",
  hvac_fans: "空调风机 HVAC fans", siren: "警报器 Siren", windows_open: "开窗器 Windows",
  backup_power: "备用电源 Backup power", water_valve: "供水阀 Water valve",
};

const ROLE_TEXT = { staff: "窗口人员", security: "安保", admin: "管理员", display: "显示屏", kiosk: "取号机" };
const GRADE_TEXT = { I: "I 级 重大", II: "II 级 较大", III: "III 级 一般", 1: "I 级 重大", 2: "II 级 较大", 3: "III 级 一般" };

let client = null;
let playbooks = [];            // from emergency.playbooks, highest severity first
let drillMode = false;
let pendingTrigger = null;     // the playbook the confirm dialog is about
const lines = new Map();       // name -> {name, dir, value, at}
const faults = new Map();      // key -> fault event
const localLog = [];           // {at, playbook, drill, text}, newest first
let serverLog = null;          // records of incidents.list, or null while it is not available
let lastEm = null;             // the emergency object as of the last emergency.changed seen
const cards = new Map();       // playbook -> incident card element (kept: the reason box survives renders)
let logFetchTimer = null;

startClock($("clock"), { date: false });

// ---- small helpers ---------------------------------------------------------------------------

const isDrillText = (drill) => (drill ? el("span", { class: "drill-badge" }, DRILL) : null);

function roleWho(who) {
  if (!who) return "";
  if (who.startsWith("gpio:")) return "输入 " + who.slice(5);
  const [role, ...rest] = who.split(" ");
  return (ROLE_TEXT[role] || role) + (rest.length ? " " + rest.join(" ") : "");
}

// The console needs the word and the server's msg (it names the line).
const errFull = (err) => errorText(err, { msg: " — " });

function clearErrText(err) {
  const m = err && err.code === "conflict" && /still active[^:]*:\s*(\S+)\s*$/.exec(err.msg || "");
  if (m) return `无法解除：触发输入 ${m[1]} 仍处于报警状态，请先复位该输入（如火灾报警控制器）。` +
    ` Cannot clear: input ${m[1]} is still active.`;
  return "解除失败：" + errFull(err);
}

function showMsg(node, text, kind) {
  node.textContent = text || "";
  node.classList.remove("err", "ok", "info");
  node.classList.add("sec-msg", kind || "info");
  node.classList.toggle("hidden", !text);
}

function since(ms) {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return (h ? `${h} 小时 ` : "") + `${m} 分 ${s % 60} 秒`;
}

function playbookName(id) {
  const pb = playbooks.find((p) => p.id === id);
  return pb ? pb.name : id;
}

function stepText(st) {
  switch (st.do) {
    case "gpio": return `输出 ${st.line} → ${st.value}` + (LINE_TEXT[st.line] ? `（${LINE_TEXT[st.line]}）` : "");
    case "queue_freeze": return "暂停取号 Queue frozen";
    case "display":
      return st.mode === "evacuation" ? "屏幕：紧急疏散 Screens: evacuation"
        : `屏幕：${st.mode === "notice" ? "通知" : st.mode || ""}` + (st.text ? ` — ${st.text}` : "");
    case "announce": return `广播${st.loop ? "（循环）" : ""}：${st.text || ""}`;
    case "notice": return `通知广播：${st.text || ""}`;
    case "alert": return `内部通知 → ${(st.roles || []).map((r) => ROLE_TEXT[r] || r).join("、")}：${st.text || ""}`;
    case "occupancy":
      if (st.mode === "appointments_only") return "仅办理预约业务 Appointments only";
      return `限流：排队不超过 ${st.cap} 人 Occupancy cap`;
    case "checklist": return st.text || "";
    default: return st.do + (st.text ? "：" + st.text : "");
  }
}

// ---- incidents -------------------------------------------------------------------------------

function incidentsOf(em) {
  if (!em || !em.active) return [];
  if (Array.isArray(em.incidents) && em.incidents.length) return em.incidents;
  return [em];   // an older server without incidents[]: the primary incident alone
}

function renderStatus(em) {
  const list = incidentsOf(em);
  const bar = $("status");
  if (!list.length) {
    bar.className = "sec-status ok";
    bar.replaceChildren("当前无紧急事件 ", el("small", {}, "No active emergency"));
    return;
  }
  const allDrill = list.every((i) => i.drill);
  bar.className = "sec-status " + (allDrill ? "drill" : "alarm");
  bar.replaceChildren(el("span", {}, "紧急事件进行中 "), el("small", {}, "Emergency active: "),
    ...list.map((i) => el("span", { class: "status-inc" }, i.name || i.playbook, isDrillText(i.drill),
      i.silent ? el("span", { class: "silent-badge" }, "静默") : null)));
}

function stepRow(inc, st, idx) {
  const done = st.done_at !== null && st.done_at !== undefined;
  // an output the controller could not set, or whose feedback did not follow: failed, never done
  const failed = !done && st.failed_at;
  const li = el("li", { class: "step " + (st.do === "checklist" ? "check" : "auto") +
    (done ? " done" : failed ? " failed" : " pending"), "data-step": idx });
  li.append(el("span", { class: "step-mark", "aria-hidden": "true" }, done ? "✓" : failed ? "✗" : "○"),
    el("span", { class: "step-text" }, stepText(st)));
  const right = el("span", { class: "step-state" });
  if (st.do === "checklist") {
    if (done) {
      right.append(el("span", { class: "ack-info" },
        `已确认 ${roleWho(st.ack_by)} ${formatTime(st.ack_at || st.done_at, true)}`));
    } else {
      const btn = el("button", { class: "btn btn-green ack-btn" }, "确认完成", el("small", {}, "Done"));
      btn.addEventListener("click", () => ack(inc.playbook, idx, btn));
      right.append(btn);
    }
  } else if (failed) {
    right.append(el("span", { class: "failed-info", role: "alert" },
      `执行失败 ${formatTime(st.failed_at, true)}：${st.failed || ""}，请人工处置`));
  } else {
    right.append(el("span", { class: "done-time" }, done ? formatTime(st.done_at, true) : "未执行"));
  }
  li.append(right);
  return li;
}

function clearForm(playbook) {
  const input = el("input", { class: "clear-reason", type: "text", maxlength: "120",
    placeholder: "解除原因（必填） Reason", "aria-label": "解除原因" });
  const btn = el("button", { class: "btn btn-red clear-btn" }, "解除事件", el("small", {}, "Clear"));
  btn.addEventListener("click", () => clearIncident(playbook, input, btn));
  const chips = el("div", { class: "reason-chips" }, ...CLEAR_REASONS.map((r) =>
    el("button", { class: "chip", type: "button", onclick: () => { input.value = r; input.focus(); } }, r)));
  return el("div", { class: "clear-form" }, el("div", { class: "clear-row" }, input, btn), chips);
}

function incidentCard(inc) {
  let card = cards.get(inc.playbook);
  if (!card) {
    card = el("article", { class: "incident", "data-playbook": inc.playbook },
      el("div", { class: "incident-head" }), el("ol", { class: "steps" }),
      el("div", { class: "sec-msg incident-msg hidden", role: "alert" }), clearForm(inc.playbook));
    cards.set(inc.playbook, card);
  }
  const key = JSON.stringify(inc);
  if (card.dataset.key === key) return card;
  card.dataset.key = key;
  card.classList.toggle("is-drill", !!inc.drill);
  card.classList.toggle("is-silent", !!inc.silent);
  card.querySelector(".incident-head").replaceChildren(
    el("div", { class: "incident-title" },
      el("span", { class: "incident-name" }, inc.name || inc.playbook),
      el("span", { class: "incident-en" }, PLAYBOOK_EN[inc.playbook] || inc.playbook),
      isDrillText(inc.drill),
      inc.silent ? el("span", { class: "silent-badge" }, "静默 silent") : null),
    el("div", { class: "incident-meta" },
      el("span", {}, `开始 ${formatTime(inc.started_at, true)}`),
      el("span", {}, "已持续 ", el("b", { class: "elapsed", "data-since": inc.started_at }, since(inc.started_at))),
      el("span", {}, `触发 ${roleWho(inc.triggered_by)}`),
      el("span", {}, `级别 ${inc.severity ?? ""}`),
      el("span", { class: "latch " + (inc.latched ? "latched" : "held") },
        inc.latched ? "已锁存 latched" : "触发输入有效 input active")));
  card.querySelector(".steps").replaceChildren(...(inc.steps || []).map((st, i) => stepRow(inc, st, i)));
  return card;
}

// Reports of staff waiting for security (emergency.report of a `confirm` playbook): 确认启动 starts
// the playbook for real, 排除 drops the report with a reason (docs/emergency.md).
function renderReports(em) {
  const box = $("reports");
  const reports = (em && em.reports) || [];
  box.classList.toggle("hidden", !reports.length);
  const keep = new Set(reports.map((r) => String(r.id)));
  for (const n of [...box.children]) if (!keep.has(n.dataset.report)) n.remove();
  for (const r of reports) {
    if (box.querySelector(`[data-report="${r.id}"]`)) continue;
    const reason = el("input", { class: "clear-reason", type: "text", maxlength: "120",
      placeholder: "排除原因（排除时必填）", "aria-label": "排除原因" });
    const msg = el("div", { class: "sec-msg" });
    const go = el("button", { class: "btn btn-red report-confirm", type: "button" }, "确认启动", el("small", {}, "Confirm"));
    const drop = el("button", { class: "btn btn-grey report-dismiss", type: "button" }, "排除", el("small", {}, "Dismiss"));
    const answer = async (confirm) => {
      if (!confirm && !reason.value.trim()) { showMsg(msg, "请填写排除原因", "err"); reason.focus(); return; }
      go.disabled = drop.disabled = true;
      try {
        await client.request("emergency.confirm", confirm ? { report: r.id, confirm: true }
          : { report: r.id, confirm: false, reason: reason.value.trim() });
      } catch (err) {
        showMsg(msg, errorText(err), "err");
        go.disabled = drop.disabled = false;
      }
    };
    go.addEventListener("click", () => answer(true));
    drop.addEventListener("click", () => answer(false));
    box.append(el("div", { class: "report-card", role: "alert", "data-report": String(r.id), "data-playbook": r.playbook },
      el("div", { class: "report-head" }, `待确认报告：${r.name}`, el("small", {}, ` ${r.by} ${formatTime(r.at, true)}`)),
      r.note ? el("div", { class: "report-note-text" }, r.note) : null,
      el("div", { class: "clear-row" }, reason, go, drop), msg));
  }
}

function renderIncidents(em) {
  renderReports(em);
  const list = incidentsOf(em);
  const box = $("incidents");
  const keep = new Set(list.map((i) => i.playbook));
  for (const id of [...cards.keys()]) if (!keep.has(id)) cards.delete(id);
  if (!list.length) {
    box.replaceChildren(el("div", { class: "sec-empty" }, "当前无紧急事件 ", el("small", {}, "No active incident")));
    return;
  }
  const nodes = list.map(incidentCard);
  // Reorder only when needed, so a focused reason box keeps its focus.
  const same = nodes.length === box.children.length && nodes.every((n, i) => box.children[i] === n);
  if (!same) box.replaceChildren(...nodes);
}

setInterval(() => {
  for (const n of document.querySelectorAll("[data-since]")) n.textContent = since(Number(n.dataset.since));
}, 1000);

async function ack(playbook, step, btn) {
  const card = cards.get(playbook);
  btn.disabled = true;
  try {
    const r = await client.request("emergency.ack", { playbook, step });
    if (client.state) client.state.emergency = r.emergency;
    if (card) showMsg(card.querySelector(".incident-msg"), "");
    render(client.state);
  } catch (err) {
    btn.disabled = false;
    if (card) showMsg(card.querySelector(".incident-msg"), "确认失败：" + errFull(err), "err");
  }
}

async function clearIncident(playbook, input, btn) {
  const card = cards.get(playbook);
  const msg = card && card.querySelector(".incident-msg");
  const reason = input.value.trim();
  if (!reason) {
    showMsg(msg, "请填写解除原因（例如：演练结束、消防确认为误报）。 A reason is required.", "err");
    input.focus();
    return;
  }
  btn.disabled = true;
  try {
    const r = await client.request("emergency.clear", { playbook, reason });
    input.value = "";
    showMsg(msg, "");
    if (client.state) client.state.emergency = r.emergency;
    render(client.state);
  } catch (err) {
    showMsg(msg, clearErrText(err), "err");
  } finally {
    btn.disabled = false;
  }
}

// ---- playbooks and the confirm step ----------------------------------------------------------

function sevClass(pb) {
  if (pb.silent) return "sev-silent";
  if (pb.severity >= 85) return "sev-high";
  if (pb.severity >= 40) return "sev-mid";
  return "sev-low";
}

let playbooksKey = "";

function renderPlaybooks() {
  const box = $("playbooks");
  if (!playbooks.length) return;
  const active = new Map(incidentsOf(client && client.state && client.state.emergency).map((i) => [i.playbook, i]));
  // Rebuild only when something shown changed: a button replaced under a finger loses the tap.
  const key = JSON.stringify([drillMode, playbooks.length, [...active.values()].map((i) => [i.playbook, i.drill])]);
  if (key === playbooksKey) return;
  playbooksKey = key;
  box.replaceChildren(...playbooks.map((pb) => {
    const inc = active.get(pb.id);
    return el("button", { class: `pb-btn ${sevClass(pb)}` + (inc ? " running" : ""), "data-playbook": pb.id,
      onclick: () => askTrigger(pb) },
      el("span", { class: "pb-name" }, pb.name),
      el("span", { class: "pb-en" }, PLAYBOOK_EN[pb.id] || pb.id),
      el("span", { class: "pb-tags" },
        drillMode ? el("span", { class: "drill-badge" }, DRILL) : null,
        pb.silent ? el("span", { class: "silent-badge" }, "静默") : null,
        inc ? el("span", { class: "run-badge" }, inc.drill ? "演练中" : "进行中") : null));
  }));
}

function setDrillMode(on) {
  drillMode = on;
  const t = $("drill-toggle");
  t.setAttribute("aria-checked", on ? "true" : "false");
  t.classList.toggle("on", on);
  $("playbooks-panel").classList.toggle("drill-on", on);
  $("drill-hint").classList.toggle("hidden", !on);
  renderPlaybooks();
}

function askTrigger(pb) {
  pendingTrigger = { id: pb.id, drill: drillMode };
  $("confirm-title").textContent = `确认启动 ${pb.name} 预案？`;
  $("confirm-sub").textContent = (drillMode ? "演练：以下步骤将照常执行（门禁、警报等会动作），所有屏幕和记录标记为演练。"
    : "将立即执行以下步骤 These steps run at once:") + (pb.silent ? " 静默预案：不通知显示屏和取号机。" : "");
  $("confirm-drill").classList.toggle("hidden", !drillMode);
  $("confirm").classList.toggle("is-drill", drillMode);
  $("confirm-steps").replaceChildren(...(pb.steps || []).map((st) =>
    el("li", { class: st.do === "checklist" ? "check" : "" }, (st.do === "checklist" ? "待办：" : "") + stepText(st))));
  $("confirm-ok").disabled = false;
  $("confirm").classList.remove("hidden");
}

function closeConfirm() {
  pendingTrigger = null;
  $("confirm").classList.add("hidden");
}

async function confirmTrigger() {
  if (!pendingTrigger) return;
  const { id, drill } = pendingTrigger;
  $("confirm-ok").disabled = true;
  const args = { playbook: id };
  if (drill) args.drill = true;
  try {
    const r = await client.request("emergency.trigger", args);
    if (client.state) client.state.emergency = r.emergency;
    showMsg($("trigger-msg"), `已启动 ${playbookName(id)} 预案` + (drill ? `（${DRILL}）` : ""), "ok");
    render(client.state);
  } catch (err) {
    showMsg($("trigger-msg"), `启动 ${playbookName(id)} 失败：` + errFull(err), "err");
  }
  closeConfirm();
}

$("drill-toggle").addEventListener("click", () => setDrillMode(!drillMode));
$("confirm-cancel").addEventListener("click", closeConfirm);
$("confirm-ok").addEventListener("click", confirmTrigger);
$("confirm").addEventListener("click", (e) => { if (e.target === $("confirm")) closeConfirm(); });
$("logout").addEventListener("click", () => { forgetToken(PAGE); location.reload(); });

// ---- GPIO lines and faults -------------------------------------------------------------------

function lineRow(l) {
  const active = l.value === 1;
  return el("li", { class: "gpio " + l.dir + (active ? " on" : " off"), "data-line": l.name, "data-value": l.value },
    el("span", { class: "gpio-name" }, el("b", {}, l.name),
      LINE_TEXT[l.name] ? el("small", {}, LINE_TEXT[l.name]) : null),
    el("span", { class: "gpio-time" }, l.at ? formatTime(l.at, true) : ""),
    el("span", { class: "gpio-val" }, String(l.value ?? "?")));
}

function renderLines() {
  const all = [...lines.values()];
  const ins = all.filter((l) => l.dir === "in");
  const outs = all.filter((l) => l.dir !== "in");
  const none = () => el("li", { class: "sec-empty" }, "无 None");
  $("gpio-in").replaceChildren(...(ins.length ? ins.map(lineRow) : [none()]));
  $("gpio-out").replaceChildren(...(outs.length ? outs.map(lineRow) : [none()]));
}

async function loadLines() {
  try {
    const r = await client.request("gpio.list");
    const known = new Map(lines);
    lines.clear();
    for (const l of r.lines || []) {
      const prev = known.get(l.name);
      lines.set(l.name, { name: l.name, dir: l.dir, value: l.value, at: prev && prev.value === l.value ? prev.at : null });
    }
    showMsg($("gpio-msg"), r.backend === "sim" ? "模拟输入输出 sim backend" : "", "info");
  } catch (err) {
    showMsg($("gpio-msg"), "无法读取输入输出：" + errFull(err), "err");
  }
  renderLines();
}

// A fault event says what failed and whether it still does; a later event with the same key
// (source/kind/name) replaces it, one that says it is over removes it.
function faultKey(f) { return String(f.source || f.kind || f.name || f.what || f.component || "fault"); }
function faultOver(f) {
  return f.active === false || f.cleared === true || f.resolved === true ||
    ["cleared", "resolved", "recovered", "ok", "ended"].includes(f.state || f.status);
}

function renderFaults() {
  const list = [...faults.values()];
  if (!list.length) {
    $("faults").replaceChildren(el("li", { class: "sec-empty" }, "无故障 ", el("small", {}, "No active fault")));
    return;
  }
  $("faults").replaceChildren(...list.map((f) => el("li", { class: "fault" },
    el("span", { class: "fault-grade" }, GRADE_TEXT[f.grade] || (f.grade ? String(f.grade) : "故障")),
    el("span", { class: "fault-text" }, el("b", {}, faultKey(f)), " ", f.msg || f.text || f.detail || ""),
    el("span", { class: "fault-time" }, formatTime(f.since || f.started_at || f.at || Date.now(), true)))));
}

function stateFaults(state) {
  if (!state || !Array.isArray(state.faults)) return;
  faults.clear();
  for (const f of state.faults) if (!faultOver(f)) faults.set(faultKey(f), f);
}

// ---- the incident log ------------------------------------------------------------------------

function stepsAcked(before, after) {
  const out = [];
  (after.steps || []).forEach((st, i) => {
    const old = (before.steps || [])[i];
    if (st.do === "checklist" && st.done_at != null && (!old || old.done_at == null))
      out.push(`确认完成：${st.text}（${roleWho(st.ack_by)}）`);
  });
  return out;
}

// What an emergency.changed event changed, compared with the emergency seen before it.
function describeChange(prev, ev) {
  const before = new Map(incidentsOf(prev).map((i) => [i.playbook, i]));
  const after = new Map(incidentsOf(ev).map((i) => [i.playbook, i]));
  const rows = [];
  for (const [id, inc] of after) {
    const old = before.get(id);
    const name = inc.name || id;
    if (!old) {
      rows.push({ playbook: id, drill: inc.drill, text: `启动 ${name}${inc.drill ? "（演练）" : ""}，触发：${roleWho(inc.triggered_by)}` });
      continue;
    }
    if (old.drill && !inc.drill) {
      rows.push({ playbook: id, drill: false, text: `演练转为真实事件 ${name}，触发：${roleWho(inc.triggered_by)}` });
      continue;
    }
    if (old.started_at !== inc.started_at) {
      rows.push({ playbook: id, drill: inc.drill, text: `重新启动 ${name}，触发：${roleWho(inc.triggered_by)}` });
      continue;
    }
    for (const t of stepsAcked(old, inc)) rows.push({ playbook: id, drill: inc.drill, text: t });
    if (old.latched !== inc.latched)
      rows.push({ playbook: id, drill: inc.drill, text: inc.latched ? "触发输入已恢复，事件保持（锁存）" : "触发输入再次有效" });
  }
  for (const [id, inc] of before) {
    if (after.has(id)) continue;
    rows.push({ playbook: id, drill: inc.drill, text: `解除 ${inc.name || id}` +
      (ev.reason ? `，原因：${ev.reason}` : "") + (ev.cleared_by ? `（${roleWho(ev.cleared_by)}）` : "") });
  }
  if (!rows.length) rows.push({ playbook: ev.playbook || "", drill: !!ev.drill, text: "状态更新" });
  return rows;
}

// The server's incident log (docs/incidents.md): {n, at, kind, playbook, drill, who, detail}.
function recordText(r) {
  const d = r.detail || {};
  const name = r.playbook ? playbookName(r.playbook) : "";
  const step = d.text || (d.line ? `${d.line} → ${d.value}` : d.do || "");
  switch (r.kind) {
    case "triggered": return `启动 ${name}`;
    case "drill_started": return `启动 ${name}（演练）`;
    case "drill_became_real": return `${name} 演练转为真实事件 drill became real`;
    case "step_done": return `完成：${step}`;
    case "checklist_ack": return `确认：${step}`;
    case "input_changed": return `输入 ${d.line} → ${d.value}`;
    case "cleared": return `解除 ${name}` + (d.reason ? `（原因：${d.reason}）` : "");
    case "fault_raised": return `故障 ${d.kind || ""} ${d.grade || ""}`;
    case "fault_cleared": return `故障恢复 ${d.kind || ""}`;
    case "chain_broken": return "记录链校验失败 chain broken";
    default: return r.kind || "";
  }
}

function recordRow(r) {
  const at = r.at ?? r.ts ?? r.time ?? r.started_at;
  const pb = r.playbook || "";
  const text = r.kind ? recordText(r) : (r.text || r.what || r.summary || r.action || r.event || r.ev || "");
  const extra = [r.reason ? "原因：" + r.reason : "", r.who || r.by || r.cleared_by || r.triggered_by
    ? roleWho(r.who || r.by || r.cleared_by || r.triggered_by) : ""].filter(Boolean).join(" · ");
  return el("li", { class: "log-row" + (r.drill ? " is-drill" : "") },
    el("span", { class: "log-time" }, typeof at === "number" ? formatTime(at, true) : String(at || "")),
    el("span", { class: "log-pb" }, pb ? playbookName(pb) : ""),
    el("span", { class: "log-text" }, String(text), extra && !String(text).includes(extra) ? ` · ${extra}` : "",
      isDrillText(r.drill)));
}

function renderLog() {
  const server = Array.isArray(serverLog);
  const rows = server ? [...serverLog].sort((a, b) => (b.n ?? b.at ?? 0) - (a.n ?? a.at ?? 0)) : localLog;
  $("log-src").textContent = server ? "服务器记录 server log" : "本页打开以来 since this page opened";
  $("log").replaceChildren(...(rows.length ? rows.slice(0, LOG_MAX).map(recordRow)
    : [el("li", { class: "sec-empty" }, "暂无记录 ", el("small", {}, "No entries"))]));
}

async function loadServerLog() {
  try {
    const r = await client.request("incidents.list");
    serverLog = Array.isArray(r.records) ? r.records : null;
  } catch (err) {
    serverLog = null;   // not available on this server: the local list stays
  }
  renderLog();
}

function scheduleLogFetch() {
  if (!Array.isArray(serverLog)) return;
  clearTimeout(logFetchTimer);
  logFetchTimer = setTimeout(loadServerLog, 50);   // the record is written before the event is sent
}

// ---- wiring ----------------------------------------------------------------------------------

function render(state) {
  if (!state) return;
  if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name;
  stateFaults(state);
  renderStatus(state.emergency);
  renderIncidents(state.emergency);
  renderPlaybooks();
  renderFaults();
}

function onEvent(ev, state) {
  if (ev.ev === "gpio.changed") {
    const old = lines.get(ev.line);
    lines.set(ev.line, { name: ev.line, dir: ev.dir || (old && old.dir) || "in", value: ev.value, at: ev.at });
    renderLines();
  } else if (ev.ev === "emergency.changed") {
    for (const row of describeChange(lastEm, ev)) {
      localLog.unshift(Object.assign({ at: ev.at }, row));
    }
    localLog.length = Math.min(localLog.length, LOG_MAX);
    lastEm = JSON.parse(JSON.stringify(state ? state.emergency : ev));
    renderLog();
    scheduleLogFetch();
  } else if (ev.ev === "fault") {
    if (faultOver(ev)) faults.delete(faultKey(ev)); else faults.set(faultKey(ev), ev);
    renderFaults();
  }
}

async function onReady(c) {
  client = c;
  $("who").textContent = c.role ? `· ${ROLE_TEXT[c.role] || c.role}` : "";
  if (c.role !== "security" && c.role !== "admin") {
    $("denied").textContent = `此页面需要安保或管理员令牌（当前为 ${ROLE_TEXT[c.role] || c.role}）。请点击右上角“退出”后重新登录。`;
    $("denied").classList.remove("hidden");
    return;
  }
  $("denied").classList.add("hidden");
  if (!lastEm) lastEm = JSON.parse(JSON.stringify((c.state && c.state.emergency) || { active: false, incidents: [] }));
  try {
    const r = await c.request("emergency.playbooks");
    playbooks = (r.playbooks || []).slice().sort((a, b) => (b.severity || 0) - (a.severity || 0));
  } catch (err) {
    $("playbooks").replaceChildren(el("div", { class: "sec-msg err" }, "无法读取预案：" + errFull(err)));
  }
  render(c.state);
  await loadLines();
  await loadServerLog();
}

renderFaults();
renderLog();
boot(PAGE, {
  emergencyOverlay: false,   // the console must stay usable during an evacuation
  onState: (state) => render(state),
  onEvent,
  onStatus: (status, detail, c) => { if (status === "ready") onReady(c); },
}, { title: "安保控制台登录", label: "安保令牌 Security token" });
