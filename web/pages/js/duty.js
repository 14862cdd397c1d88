// duty.js: the staff-on-duty board (在岗公示, DB43/T 2422.1 §5.5.5): every window with the names,
// titles and photos of its A and B posts and whether they are checked in. Public data only; it
// uses a display token. Staff events do not reach screens, so the board asks duty.get on start,
// on every window change and every 10 s.
import { boot, el, startClock, WINDOW_STATUS_TEXT } from "./hall.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;
startClock($("clock"));

let client = null;
let asking = false;

function postRow(p, label) {
  if (!p) return el("div", { class: "dp none" }, `${label}：未设`);
  const photo = p.photo
    ? el("img", { class: "dp-photo", src: p.photo, alt: p.name })
    : el("div", { class: "dp-photo" }, (p.name || "?").slice(0, 1));
  if (p.photo) photo.addEventListener("error", () => photo.replaceWith(el("div", { class: "dp-photo" }, (p.name || "?").slice(0, 1))));
  return el("div", { class: "dp" + (p.checked_in ? " in" : ""), "data-staff": p.id },
    photo,
    el("div", {},
      el("div", { class: "dp-name" }, p.name),
      el("div", { class: "dp-title" }, p.title || " "),
      el("div", { class: "dp-post" }, `${label} · 工号 ${p.id}`)),
    el("div", { class: "dp-state" }, p.checked_in ? "在岗" : "未在岗"));
}

function render(windows) {
  $("duty").replaceChildren(...windows.map((w) => el("section", { class: "dw " + w.status, "data-window": w.id },
    el("div", { class: "dw-head" },
      el("span", { class: "dw-name" }, w.name),
      el("span", { class: "dw-status" }, WINDOW_STATUS_TEXT[w.status] || w.status)),
    postRow(w.posts && w.posts.a, "A岗"),
    postRow(w.posts && w.posts.b, "B岗"))));
}

async function refresh() {
  if (!client || asking) return;
  asking = true;
  try {
    render((await client.request("duty.get")).windows || []);
  } catch (e) {
    /* offline: the banner says so; the next refresh tries again */
  } finally {
    asking = false;
  }
}

boot("duty", {
  onState: (state) => { if (state.hall && state.hall.name) $("hall-name").textContent = state.hall.name; },
  onEvent: (ev) => { if (ev.ev === "window.changed") refresh(); },
  onStatus: (status) => { if (status === "ready" || status === "online") refresh(); },
  events: ["window.changed", "emergency.changed"],
}, { title: "在岗公示屏登录", label: "设备令牌" }).then((c) => {
  client = c;
  refresh();
  setInterval(refresh, REFRESH_MS);
});
