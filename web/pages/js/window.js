// window.js: the small screen above one window (/display/window/N or ?w=N).
import { boot, startClock, SCREEN_EVENTS } from "./hall.js";

const $ = (id) => document.getElementById(id);
const fromQuery = Number(new URLSearchParams(location.search).get("w"));
const fromPath = Number(location.pathname.split("/").filter(Boolean).pop());
const WINDOW_ID = fromQuery || fromPath || 0;

startClock($("clock"), { date: false });

function render(state) {
  const w = (state.windows || []).find((x) => x.id === WINDOW_ID);
  const body = $("ws-body");
  if (!w) {
    $("ws-name").textContent = WINDOW_ID ? `${WINDOW_ID}号窗口` : "窗口";
    body.className = "ws-body closed";
    $("ws-code").textContent = "";
    $("ws-state").textContent = WINDOW_ID ? "未配置此窗口" : "网址中缺少窗口号";
    $("ws-reason").textContent = "";
    return;
  }
  document.title = w.name;
  $("ws-name").textContent = w.name;
  $("ws-staff").textContent = w.status !== "closed" && w.staff_name
    ? `${w.staff_title || "工作人员"}：${w.staff_name}` : "";
  const cur = w.current;
  body.className = "ws-body " + w.status + (body.classList.contains("flash") ? " flash" : "");
  if (w.status === "closed") {
    $("ws-code").textContent = "";
    $("ws-state").textContent = "暂未开放";
    $("ws-reason").textContent = "请到其他窗口办理";
  } else if (w.status === "paused") {
    $("ws-code").textContent = "";
    $("ws-state").textContent = "暂停服务";
    $("ws-reason").textContent = w.pause_reason ? "原因：" + w.pause_reason : "";
  } else if (cur) {
    $("ws-code").textContent = cur.code;
    $("ws-state").textContent = cur.state === "serving" ? "正在办理" : "请到本窗口办理";
    $("ws-reason").textContent = "";
  } else {
    $("ws-code").textContent = "";
    $("ws-state").textContent = "欢迎光临 · 等候叫号";
    $("ws-reason").textContent = "";
  }
}

function onEvent(ev) {
  if (ev.ev !== "ticket.called" || ev.window !== WINDOW_ID) return;
  const body = $("ws-body");
  body.classList.remove("flash");
  void body.offsetWidth;   // restart the animation on a recall
  body.classList.add("flash");
}

boot("window", { onState: render, onEvent, events: SCREEN_EVENTS }, { title: "窗口屏登录", label: "设备令牌" });
