// display.js: the hall board: the latest call very large, the last calls, every window, the queues.
import { boot, el, startClock, waitText, formatTime, WINDOW_STATUS_TEXT, SCREEN_EVENTS } from "./hall.js";
import { playChime, chimeBlocked, unlockChime } from "./chime.js";

const $ = (id) => document.getElementById(id);
startClock($("clock"));

function render(state) {
  if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name;
  const calls = state.recent_calls || [];
  const last = calls[0];
  $("latest").classList.toggle("idle", !last);
  $("latest-please").textContent = last ? (last.recall ? "再次呼叫" : "请") : " ";
  $("latest-code").textContent = last ? last.code : "欢迎光临";
  $("latest-to").textContent = last ? "号 到" : " ";
  $("latest-win").textContent = last ? (last.window_name || last.window + "号窗口") + " 办理" : " ";

  const older = calls.slice(1, 8);
  if (!older.length) $("recent").replaceChildren(el("li", { class: "rc-none" }, "暂无"));
  else $("recent").replaceChildren(...older.map((c) => el("li", {},
    el("span", { class: "rc-code" }, c.code),
    el("span", { class: "rc-win" }, "→ " + (c.window_name || c.window + "号窗口")),
    el("span", { class: "rc-time" }, formatTime(c.at)))));

  $("windows").replaceChildren(...(state.windows || []).map((w) => {
    const cur = w.current;
    let code = "等候叫号";
    if (w.status === "paused") code = "暂停服务";
    else if (w.status === "closed") code = "暂未开放";
    else if (cur) code = cur.code;
    const showCode = w.status === "open" && cur;
    return el("div", { class: "bw " + w.status + (showCode ? "" : " nocode"), "data-window": w.id },
      el("div", { class: "bw-name" }, w.name),
      el("div", { class: "bw-code" + (showCode ? "" : " muted") }, code),
      el("div", { class: "bw-state" }, showCode ? (cur.state === "serving" ? "办理中" : "已呼叫")
        : (w.status === "open" ? WINDOW_STATUS_TEXT.open : " ")));
  }));

  $("queues").replaceChildren(...(state.categories || []).map((c) => {
    const q = (state.queues || {})[c.id] || {};
    return el("div", { class: "bq" },
      el("span", {}, `${c.id} ${c.name}`),
      el("span", {}, el("span", { class: "bq-n" }, q.waiting || 0), " 人 ",
        el("span", { class: "bq-w" }, waitText(q.est_wait_s))));
  }));
}

function flash() {
  const box = $("latest");
  box.classList.remove("flash");
  void box.offsetWidth;   // restart the animation on back-to-back calls
  box.classList.add("flash");
}

function onEvent(ev, state) {
  if (ev.ev !== "ticket.called") return;
  const em = (state && state.emergency) || {};
  if (em.active && !em.silent) return;   // no call chimes over an evacuation
  flash();
  playChime();
  updateSoundHint();
}

function updateSoundHint() {
  $("sound-hint").classList.toggle("hidden", !chimeBlocked());
}
document.addEventListener("click", () => unlockChime().then(updateSoundHint));
setTimeout(updateSoundHint, 1500);

boot("display", {
  onState: (state) => render(state),
  onEvent,
  events: SCREEN_EVENTS,
}, { title: "显示屏登录", label: "设备令牌" });
