// hall.js: the shared hall.v1 client of the pages (WebSocket + MessagePack), plus the pieces every
// page needs: device token, login form, offline banner, emergency overlay, clock and Chinese texts.
import { encode, decode } from "../vendor/msgpack/index.mjs";

const PING_EVERY_MS = 1000;     // heartbeat: one state.get a second
const PING_LATE_MS = 1500;      // no reply by then: the server counts as lost (banner)
const PING_DEAD_MS = 4000;      // no reply by then: drop the socket and reconnect
const REQUEST_TIMEOUT_MS = 10000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
const RECENT_CALLS_MAX = 10;

// Stable error words of the protocol, as people at the hall should read them.
export const ERROR_TEXT = {
  unauthenticated: "令牌无效，请重新登录",
  forbidden: "无此操作权限",
  bad_request: "请求有误",
  not_found: "未找到",
  conflict: "当前状态不允许此操作",
  queue_empty: "当前无人排队",
  closed: "当前不在办公时间，暂停取号",
  frozen: "大厅暂停取号（紧急情况）",
  unavailable: "服务暂时不可用，请稍后再试",
  offline: "离线：操作未发送，请等待网络恢复",
  timeout: "服务器无响应，请重试",
};

// errorText(err, {msg, appointment}): what every page says about a refused request.
//   msg: a separator ("：" on the staff pages, " — " on the consoles): the word, then the
//     controller's own sentence (it names the rule or the line). Without it, a visitor's screen:
//     the word alone (the sentence only for a word it does not know).
//   appointment: a refused check-in, in the visitor's words (true, or the number to name).
export function errorText(err, { msg: sep = "", appointment = null } = {}) {
  if (!err) return "未知错误";
  const checkIn = appointment && checkInText(err, appointment);
  if (checkIn) return checkIn;
  if (!sep) return ERROR_TEXT[err.code] || err.msg || err.code || "未知错误";
  const word = ERROR_TEXT[err.code] || err.code || "错误";
  const msg = err.msg || "";
  return msg && msg !== word && err.code !== "offline" && err.code !== "timeout" ? word + sep + msg : word;
}

// The hall's message for a refused check-in is for operators; the visitor gets it in Chinese.
function checkInText(err, number) {
  const msg = err.msg || "";
  // an unknown number and a wrong check code get the same answer (docs/security.md)
  if (err.code === "not_found") {
    return typeof number === "string" ? `未找到预约号 ${number}，或手机号后四位不符，请核对预约短信或凭证`
      : "未找到该预约号，或手机号后四位不符，请核对预约短信或凭证";
  }
  if (err.code === "unavailable" && msg.includes("failed check-ins")) return "本机签到失败次数过多，请到服务台办理";
  if (err.code !== "conflict") return null;
  const from = msg.match(/check in from (?:(\d{4}-\d{2}-\d{2}) )?(\d{2}:\d{2})/);
  if (msg.includes("too early")) return "尚未到签到时间" + (from ? `，请于 ${from[1] ? from[1] + " " : ""}${from[2]} 后签到` : "");
  const t = msg.match(/already checked in: ticket (\S+)/);
  if (t) return `该预约已签到，号码是 ${t[1]}`;
  if (msg.includes("cancelled")) return "该预约已取消，请取普通号";
  if (msg.includes("missed") || msg.includes("released")) return "已超过预约时段，请取普通号";
  return null;
}

// connect(token, {onState, onEvent, onStatus, events}) -> client.
// events: hello's subscription (docs/protocol.md), e.g. the screens' SCREEN_EVENTS. A subscribed
// connection skips the seq-gap check: the server never leaves out a subscribed event of a live
// connection (a client too slow to keep up is disconnected, and every hello resyncs).
// onState(state): the hall snapshot changed (hello, state.get, or an event applied to it).
// onEvent(ev, state): every push, after it was applied to the snapshot.
// onStatus(status, detail): "connecting" | "ready" (detail: hello's reply) | "online" | "offline" |
// "denied" (wrong token: no retry).
// ping: the heartbeat, {t, everyMs} (default state.get every second; a phone may not read the
// state: ticket.get); onPing(reply) gets each answer. banner: false = no offline banner (the page
// says it itself from onStatus).
export function connect(token, handlers = {}) {
  const onState = handlers.onState || (() => {});
  const onEvent = handlers.onEvent || (() => {});
  const onStatus = handlers.onStatus || (() => {});
  const onPing = handlers.onPing || (() => {});
  const events = handlers.events || null;
  const ping = handlers.ping || { t: "state.get", everyMs: PING_EVERY_MS };
  const banner = handlers.banner !== false;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";

  let ws = null;
  let ready = false;          // hello answered on the current socket
  let stopped = false;
  let nextId = 1;
  const pending = new Map();  // id -> {resolve, reject, timer}
  let backoff = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let pingTimer = null;
  let pingSentAt = 0;         // 0: no heartbeat outstanding
  let offlineShown = false;
  let stateJson = "";
  let refetching = false;

  const client = {
    role: null,
    hall: null,
    staff: null,              // staff id of a staff token
    seq: null,                // last event seq seen (hello's seq before the first)
    state: null,
    request,
    close,
    get online() { return ready && !offlineShown; },
  };

  function setOffline(off) {
    if (off === offlineShown) return;
    offlineShown = off;
    if (banner) showOfflineBanner(off);
    onStatus(off ? "offline" : "online");
  }

  function publishState(state) {
    if (!state) return;
    const json = JSON.stringify(state);
    client.state = state;
    if (json === stateJson) return;   // the heartbeat brings the same snapshot most seconds
    stateJson = json;
    onState(state);
  }

  function send(msg) {
    ws.send(encode(msg));
  }

  function rawRequest(t, args) {
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject({ code: "offline", msg: "离线" });
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject({ code: "timeout", msg: "服务器无响应" });
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      try {
        send(Object.assign({}, args || {}, { t, id }));
      } catch (e) {
        clearTimeout(timer);
        pending.delete(id);
        reject({ code: "offline", msg: String(e) });
      }
    });
  }

  // request(t, args) -> Promise of the ok reply; rejects with {code, msg}.
  function request(t, args) {
    if (!ready) return Promise.reject({ code: "offline", msg: "离线" });
    return rawRequest(t, args);
  }

  function failPending() {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject({ code: "offline", msg: "连接已断开" });
      pending.delete(id);
    }
  }

  function refetchState() {
    if (refetching || !ready) return;
    refetching = true;
    rawRequest("state.get").then((r) => publishState(r.state)).catch(() => {})
      .finally(() => { refetching = false; });
  }

  function heartbeat() {
    if (!ready || !ws || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (pingSentAt) {
      const late = now - pingSentAt;
      if (late > PING_LATE_MS) setOffline(true);
      if (late > PING_DEAD_MS) ws.close();   // a stalled server: start over on a fresh socket
      return;
    }
    pingSentAt = now;
    rawRequest(ping.t).then((r) => {
      pingSentAt = 0;
      setOffline(false);
      publishState(r.state);
      onPing(r);
    }).catch(() => { pingSentAt = 0; });
  }

  function onPush(msg) {
    const seq = msg.seq;
    if (typeof seq === "number") {
      if (client.seq !== null && seq <= client.seq) return;   // already seen
      // prev: the seq of the previous event meant for this role (docs/protocol.md "Numbering");
      // a hole in seq alone may be an event for other roles, not a loss
      const gap = !events && client.seq !== null && typeof msg.prev === "number" && msg.prev > client.seq;
      client.seq = seq;
      if (gap) refetchState();
    }
    if (client.state) {
      applyEvent(client.state, msg);
      stateJson = "";   // force the page to render the changed snapshot
      publishState(client.state);
    }
    onEvent(msg, client.state);
    // how far the page is: the seq of the last event it applied (tests and support read it)
    if (typeof seq === "number") document.documentElement.dataset.seq = String(seq);
  }

  function onMessage(e) {
    let msg;
    try {
      msg = decode(new Uint8Array(e.data));
    } catch (err) {
      console.warn("hall: undecodable frame", err);
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.t === "ev") {
      onPush(msg);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.t === "ok") p.resolve(msg);
    else p.reject({ code: msg.code || "error", msg: msg.msg || "" });
  }

  function open() {
    if (stopped) return;
    onStatus("connecting");
    try {
      ws = new WebSocket(url, "hall.v1");
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    const sock = ws;
    // A server that accepts TCP but never answers (stopped process) must not hang us forever.
    const connectTimer = setTimeout(() => { if (sock === ws && !ready) sock.close(); }, PING_DEAD_MS + 1000);
    sock.onmessage = (e) => { if (sock === ws) onMessage(e); };
    sock.onopen = () => {
      rawRequest("hello", events ? { token, events } : { token }).then((r) => {
        if (sock !== ws) return;
        ready = true;
        backoff = BACKOFF_MIN_MS;
        client.role = r.role;
        client.hall = r.hall;
        client.staff = r.staff || null;
        client.seq = typeof r.seq === "number" ? r.seq : null;
        stateJson = "";
        publishState(r.state);
        offlineShown = true;   // force the "online" status and banner removal once per hello
        setOffline(false);
        onStatus("ready", r);
      }).catch((err) => {
        if (err && err.code === "unauthenticated") {
          close();
          onStatus("denied", err);
          return;
        }
        sock.close();
      });
    };
    sock.onclose = () => {
      clearTimeout(connectTimer);
      if (sock !== ws) return;
      ready = false;
      pingSentAt = 0;
      failPending();
      if (!stopped) {
        setOffline(true);
        scheduleReconnect();
      }
    };
    sock.onerror = () => {};   // onclose follows and handles it
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    reconnectTimer = setTimeout(() => { reconnectTimer = null; open(); }, wait);
  }

  function close() {
    stopped = true;
    clearInterval(pingTimer);
    clearTimeout(reconnectTimer);
    if (ws) ws.close();
    failPending();
    if (banner) showOfflineBanner(false);
  }

  pingTimer = setInterval(heartbeat, ping.everyMs);
  open();
  return client;
}

// Keeps the snapshot current between heartbeats; the next state.get corrects anything missed.
export function applyEvent(state, ev) {
  const win = (id) => (state.windows || []).find((w) => w.id === id);
  switch (ev.ev) {
    case "window.changed": {
      if (!ev.window) break;
      const list = state.windows || (state.windows = []);
      const i = list.findIndex((w) => w.id === ev.window.id);
      if (i >= 0) list[i] = ev.window; else list.push(ev.window);
      break;
    }
    case "queue.changed":
      if (ev.queues) state.queues = ev.queues;
      break;
    case "ticket.called": {
      const calls = state.recent_calls || (state.recent_calls = []);
      calls.unshift({ code: ev.code, window: ev.window, window_name: ev.window_name,
        category: ev.category, at: ev.at, recall: !!ev.recall });
      calls.length = Math.min(calls.length, RECENT_CALLS_MAX);
      const w = win(ev.window);
      if (w) {
        const prev = w.current && w.current.code === ev.code ? w.current : null;
        w.current = { code: ev.code, category: ev.category, state: "called",
          called_at: prev ? prev.called_at : ev.at,
          recalls: ev.recall ? ((prev && prev.recalls) || 0) + 1 : 0 };
      }
      break;
    }
    case "ticket.started": {
      const w = win(ev.window);
      if (w && w.current && w.current.code === ev.code) w.current.state = "serving";
      break;
    }
    case "ticket.finished":
    case "ticket.noshow": {
      const w = win(ev.window);
      if (w && w.current && w.current.code === ev.code) w.current = null;
      break;
    }
    case "ticket.transferred": {
      const w = win(ev.from_window);
      if (w && w.current && w.current.code === ev.code) w.current = null;
      break;
    }
    case "emergency.changed": {
      const em = {};
      for (const [k, v] of Object.entries(ev)) {
        if (k !== "t" && k !== "ev" && k !== "seq" && k !== "prev") em[k] = v;   // the envelope is not the state
      }
      state.emergency = em;
      break;
    }
    default:
      break;
  }
}

// ---- device token and login -------------------------------------------------------------------

function tokenKey(page) { return "hall.token." + page; }

// The token from "#token=..." (then kept in localStorage for this page and cut from the address
// bar), else the stored one, else null.
export function pageToken(page) {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    try { localStorage.setItem(tokenKey(page), token); } catch (e) { /* private mode */ }
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  try { return localStorage.getItem(tokenKey(page)); } catch (e) { return null; }
}

export function forgetToken(page) {
  try { localStorage.removeItem(tokenKey(page)); } catch (e) { /* private mode */ }
}

// Shows a small login form; resolves with the token typed in (also stored for this page).
export function loginForm(page, { title = "设备登录", label = "设备令牌", message = "" } = {}) {
  return new Promise((resolve) => {
    const box = el("div", { class: "login-overlay" });
    const form = el("form", { class: "login-form" });
    form.append(
      el("h1", {}, title),
      el("p", { class: "login-msg" }, message),
      el("label", { for: "login-token" }, label),
      el("input", { id: "login-token", type: "password", autocomplete: "off", required: "" }),
      el("button", { type: "submit", class: "btn btn-primary" }, "登录"),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const token = form.querySelector("input").value.trim();
      if (!token) return;
      try { localStorage.setItem(tokenKey(page), token); } catch (err) { /* private mode */ }
      box.remove();
      resolve(token);
    });
    box.append(form);
    document.body.append(box);
    form.querySelector("input").focus();
  });
}

// What the public screens show: not the GPIO lines, faults or the speakers' own events.
export const SCREEN_EVENTS = ["ticket.", "window.changed", "queue.changed", "emergency.changed"];

// boot(page, handlers, loginOpts): token (hash, storage or form) -> connect; a refused token is
// forgotten and the form asked again. Resolves with the client once it is created.
export async function boot(page, handlers, loginOpts = {}) {
  let token = pageToken(page);
  let message = "";
  for (;;) {
    if (!token) token = await loginForm(page, Object.assign({}, loginOpts, { message }));
    const denied = await new Promise((resolve) => {
      let client = null;
      client = connect(token, Object.assign({}, handlers, {
        onState(state) {
          if (handlers.emergencyOverlay !== false) renderEmergency(state.emergency);
          if (handlers.onState) handlers.onState(state, client);
        },
        onStatus(status, detail) {
          if (status === "denied") { resolve(true); return; }
          if (status === "ready") resolve(client);
          if (handlers.onStatus) handlers.onStatus(status, detail, client);
        },
      }));
    });
    if (denied !== true) return denied;
    forgetToken(page);
    token = null;
    message = ERROR_TEXT.unauthenticated;
  }
}

// ---- shared screen pieces ---------------------------------------------------------------------

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "style") node.style.cssText = v;   // through the CSSOM: the CSP refuses style attributes
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function showOfflineBanner(show) {
  let bar = document.getElementById("offline-banner");
  if (show && !bar) {
    bar = el("div", { id: "offline-banner", class: "offline-banner", role: "alert" },
      "离线 / offline — 与服务器的连接已断开，正在重新连接…");
    document.body.append(bar);
  } else if (!show && bar) {
    bar.remove();
  }
}

// Full-screen evacuation overlay on every public screen while a non-silent emergency is active.
// With a node (a phone's notice, class "hidden" when there is nothing to say), the same in one line.
export function renderEmergency(em, node = null) {
  const show = !!(em && em.active && !em.silent);
  if (node) {
    node.classList.toggle("hidden", !show);
    if (show) node.textContent = (em.drill ? "【演练 DRILL】" : "") + "大厅紧急情况：" + (em.name || "") + "，请听从现场工作人员指挥";
    return;
  }
  let box = document.getElementById("emergency-overlay");
  if (!show) {
    if (box) box.remove();
    return;
  }
  const key = JSON.stringify([em.playbook, em.name, em.drill]);
  if (box && box.dataset.key === key) return;
  if (box) box.remove();
  box = el("div", { id: "emergency-overlay", class: "emergency-overlay", role: "alert" },
    em.drill ? el("div", { class: "emergency-drill" }, "演练 DRILL") : null,
    el("div", { class: "emergency-title" }, "紧急疏散"),
    el("div", { class: "emergency-title-en" }, "EMERGENCY EVACUATION"),
    em.name ? el("div", { class: "emergency-kind" }, em.name) : null,
    el("div", { class: "emergency-exit" },
      exitArrow(),
      el("div", {},
        el("div", { class: "emergency-exit-zh" }, "请沿安全出口指示有序撤离"),
        el("div", { class: "emergency-exit-en" }, "Please leave by the nearest exit"))),
    em.drill ? el("div", { class: "emergency-drill" }, "演练 DRILL") : null);
  box.dataset.key = key;
  document.body.append(box);
}

// A drawn exit arrow: no emoji font is needed on the screen's machine.
function exitArrow() {
  const box = el("div", { class: "emergency-exit-icon", "aria-hidden": "true" });
  box.innerHTML = '<svg viewBox="0 0 100 60" width="100%" height="100%"><path fill="#fff" ' +
    'd="M0 22h58V4l42 26-42 26V38H0z"/></svg>';
  return box;
}

const WEEKDAYS = ["日", "一", "二", "三", "四", "五", "六"];
const pad2 = (n) => String(n).padStart(2, "0");

export function formatTime(ms, withSeconds = false) {
  const d = new Date(ms);
  return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + (withSeconds ? ":" + pad2(d.getSeconds()) : "");
}

// Keeps node's text a live clock: "2024年5月6日 星期一 09:30:05".
export function startClock(node, { date = true } = {}) {
  const tick = () => {
    const d = new Date();
    const day = date ? `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 星期${WEEKDAYS[d.getDay()]} ` : "";
    node.textContent = day + formatTime(d.getTime(), true);
  };
  tick();
  setInterval(tick, 1000);
}

// "预计 M 分钟" from est_wait_s.
export function waitText(s) {
  if (typeof s !== "number" || s <= 0) return "无需等待";
  return "预计 " + Math.max(1, Math.ceil(s / 60)) + " 分钟";
}

export function categoryName(state, id) {
  const c = state && (state.categories || []).find((x) => x.id === id);
  if (c) return c.name;
  const q = state && state.queues && state.queues[id];
  return (q && q.name) || id || "";
}

export const WINDOW_STATUS_TEXT = { open: "服务中", paused: "暂停服务", closed: "暂未开放" };
export const TICKET_STATE_TEXT = { called: "已呼叫", serving: "办理中" };
