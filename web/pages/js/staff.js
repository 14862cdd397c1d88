// staff.js: the window staff's tablet: log in with the staff PIN, open a window, call and serve.
import { boot, el, errorText, forgetToken, startClock, waitText, categoryName,
  WINDOW_STATUS_TEXT, TICKET_STATE_TEXT } from "./hall.js";

const OUTCOMES = ["即办件", "承诺件", "联办件", "上报件", "补正", "不予受理"];
const PAUSE_REASONS = ["临时离开", "休息", "业务咨询", "系统故障", "会议"];
const WINDOW_KEY = "hall.staff.window";
const $ = (id) => document.getElementById(id);

let client = null;
let myWindow = Number(localStorage.getItem(WINDOW_KEY)) || 0;   // 0: none chosen
let opened = false;                                              // window.open answered on this connection

startClock($("clock"), { date: false });

function say(text, kind = "info") {
  const m = $("msg");
  m.textContent = text;
  m.className = "staff-msg " + kind;
  $("pick-msg").textContent = text;
  $("pick-msg").className = "staff-msg " + kind;
}

function winObj(state, id) {
  return ((state && state.windows) || []).find((w) => w.id === id) || null;
}

function render(state) {
  if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name;
  const em = state.emergency || {};
  $("silent-alert").classList.toggle("hidden", !(em.active && em.silent));
  $("silent-alert").textContent = "⚠ 内部警报：" + (em.name || em.playbook || "") + "（请按预案处置，勿向群众广播）" +
    (em.drill ? "【演练】" : "");

  const mine = opened ? winObj(state, myWindow) : null;
  $("pick").classList.toggle("hidden", !!mine);
  $("work").classList.toggle("hidden", !mine);
  const staffName = mine && mine.staff_name ? mine.staff_name + " " : "";
  $("who").textContent = client && client.staff ? `${staffName}工号 ${client.staff}` : "窗口工作台";
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

function renderPick(state) {
  $("window-pick").replaceChildren(...(state.windows || []).map((w) => {
    const mineNow = client && w.staff === client.staff;
    const taken = w.status !== "closed" && !mineNow;
    return el("button", { class: "btn " + (taken ? "btn-grey" : "btn-primary"), "data-window": w.id,
      onclick: () => openWindow(w.id) },
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
    localStorage.setItem(WINDOW_KEY, String(id));
    say("窗口已开启，可以叫号", "ok");
  } catch (err) {
    opened = false;
    say(errorText(err) + (err.msg && err.code === "conflict" ? "（该窗口已由其他工作人员使用）" : ""), "err");
  }
  render(client.state);
}

// Runs a staff command; errors read as plain Chinese on the tablet.
async function act(t, args, okText) {
  try {
    const r = await client.request(t, args);
    if (okText) say(typeof okText === "function" ? okText(r) : okText, "ok");
    return r;
  } catch (err) {
    say(errorText(err), "err");
    return null;
  } finally {
    render(client.state);
  }
}

function sheet(title, build) {
  const box = el("div", { class: "sheet" }, el("h2", {}, title));
  const overlay = el("div", { class: "sheet-overlay", id: "sheet" }, box);
  const close = () => overlay.remove();
  overlay.addEventListener("click", (e) => { if (e.target === overlay) close(); });
  build(box, close);
  box.append(el("div", { class: "sheet-foot" }, el("button", { class: "btn btn-grey", onclick: close }, "取消")));
  document.body.append(overlay);
}

function finishSheet() {
  sheet("办结：请选择办件类型", (box, close) => {
    box.append(el("div", { class: "sheet-grid" }, ...OUTCOMES.map((o) =>
      el("button", { class: "btn " + (o === "不予受理" ? "btn-red" : "btn-green"),
        onclick: () => { close(); act("ticket.finish", { outcome: o }, (r) => `${r.ticket.code} 已办结（${o}）`); } }, o))));
  });
}

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
  localStorage.removeItem(WINDOW_KEY);
  render(client.state);
}

function logout() {
  forgetToken("staff");
  localStorage.removeItem(WINDOW_KEY);
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

boot("staff", {
  onState: (state, c) => { client = c; render(state); },
  onStatus: (status, detail, c) => {
    client = c || client;
    if (status === "ready") {
      opened = false;   // a new connection acts for no window until window.open again
      if (client.role !== "staff") say("此令牌不是工作人员令牌，无法叫号", "err");
      if (myWindow) openWindow(myWindow);
      else render(client.state);
    } else if (status === "offline") {
      say("离线：操作暂不可用，正在重新连接…", "err");
    }
  },
}, { title: "工作人员登录", label: "工号令牌 / PIN" });
