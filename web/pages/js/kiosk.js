// kiosk.js: the visitor's ticket machine: one button per category, a ticket card after a tap.
import { boot, el, errorText, startClock, waitText, categoryName } from "./hall.js";

const CARD_SECONDS = 10;
const grid = document.getElementById("categories");
const notice = document.getElementById("notice");
let client = null;
let busy = false;       // a ticket card (or a request) is on screen: the menu waits
let cardTimer = null;

startClock(document.getElementById("clock"));

function render(state) {
  if (state.hall && state.hall.name) {
    document.getElementById("hall-name").textContent = state.hall.name;
    document.title = "取号 - " + state.hall.name;
  }
  notice.classList.toggle("hidden", state.open !== false);
  notice.textContent = "当前不在办公时间，暂停取号";
  grid.replaceChildren(...(state.categories || []).map((c) => {
    const q = (state.queues || {})[c.id] || {};
    const waiting = q.waiting || 0;
    return el("button", { class: "cat-btn", "data-category": c.id, disabled: busy, onclick: () => issue(c.id) },
      el("div", { class: "cat-head" },
        el("span", { class: "cat-letter" }, c.id),
        el("span", { class: "cat-name" }, c.name)),
      el("div", { class: "cat-info" }, "等候 ", el("b", {}, waiting), " 人　", waitText(q.est_wait_s)));
  }));
}

function setBusy(b) {
  busy = b;
  for (const b2 of grid.querySelectorAll("button")) b2.disabled = b;
}

function closeCard() {
  clearInterval(cardTimer);
  cardTimer = null;
  const o = document.getElementById("ticket-overlay");
  if (o) o.remove();
  setBusy(false);
}

function showCard(card) {
  const back = el("div", { class: "t-back" });
  const overlay = el("div", { class: "ticket-overlay", id: "ticket-overlay", onclick: closeCard }, card);
  card.append(back);
  document.body.append(overlay);
  let left = CARD_SECONDS;
  const tick = () => {
    back.replaceChildren(el("button", { class: "btn btn-light" }, `返回（${left} 秒）`));
    if (left-- <= 0) closeCard();
  };
  tick();
  cardTimer = setInterval(tick, 1000);
}

async function issue(category) {
  if (busy || !client) return;
  setBusy(true);
  try {
    const r = await client.request("ticket.issue", { category, priority: "normal" });
    const t = r.ticket || {};
    const ahead = typeof t.ahead === "number" ? t.ahead : 0;
    showCard(el("div", { class: "ticket-card", id: "ticket-card" },
      el("div", { class: "t-label" }, "您的号码"),
      el("div", { class: "t-code", id: "ticket-code" }, t.code || ""),
      el("div", { class: "t-cat" }, categoryName(client.state, t.category || category)),
      el("div", { class: "t-row" }, "前面还有 ", el("b", {}, ahead), " 人"),
      el("div", { class: "t-row" }, "预计等待 ", el("b", {}, Math.max(0, Math.ceil((t.est_wait_s || 0) / 60))), " 分钟"),
      el("div", { class: "t-hint" }, "请留意大厅显示屏和语音叫号，过号请到服务台咨询")));
  } catch (err) {
    showCard(el("div", { class: "ticket-card error", id: "ticket-card" },
      el("div", { class: "t-code" }, "暂时无法取号"),
      el("div", { class: "t-msg", id: "ticket-error" }, errorText(err)),
      el("div", { class: "t-hint" }, "如需帮助，请咨询导办人员")));
  }
}

boot("kiosk", {
  onState: (state, c) => { client = c; render(state); },
}, { title: "取号机登录", label: "设备令牌" }).then((c) => { client = c; });
