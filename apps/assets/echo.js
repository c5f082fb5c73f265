// Echo page: one WebSocket to /echo/ws; shows readyState live and logs what comes back (as text only).
// Connect and Close are the user's: once connected, a drop the user did not ask for (a server
// restart, a network loss) reconnects by itself after 1, 2, 4, 8, then every 15 s, with the state
// showing when; Close (or Connect again) ends the retries.
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = ["connecting", "open", "closing", "closed"];
let ws = null;
let retries = 0;
let retryTimer = null;

function wsUrl(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

function log(text, cls) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.textContent = text;
  $("log").appendChild(li);
  $("log").scrollTop = $("log").scrollHeight;
}

function showState() {
  const s = ws ? NAMES[ws.readyState] : "closed";
  $("state").textContent = s;
  $("state").className = "state " + s;
  document.body.dataset.state = s;
  $("connect").disabled = !!ws && ws.readyState < 2;
  $("close").disabled = !ws || ws.readyState !== 1;
  $("send").disabled = !ws || ws.readyState !== 1;
}

function cancelRetry() {
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
}

function connect() {
  cancelRetry();
  const sock = new WebSocket(wsUrl("/echo/ws"));
  ws = sock;
  showState();
  sock.addEventListener("open", () => { retries = 0; log("connected"); showState(); });
  sock.addEventListener("message", (e) => { log("← " + e.data, "mine"); });
  sock.addEventListener("error", () => { showState(); });
  sock.addEventListener("close", (e) => {
    if (ws !== sock) return;
    log("closed (" + e.code + (e.reason ? " " + e.reason : "") + ")");
    if (sock.userClosed) { ws = null; showState(); return; }
    // Not asked for: try again, later each time.
    const delay = Math.min(1000 * 2 ** retries, 15000);
    retries += 1;
    $("state").textContent = "reconnecting in " + Math.round(delay / 1000) + " s";
    $("state").className = "state reconnecting";
    document.body.dataset.state = "reconnecting";
    $("connect").disabled = false;
    $("close").disabled = false; // stops the retries
    $("send").disabled = true;
    retryTimer = setTimeout(connect, delay);
  });
}

$("connect").addEventListener("click", () => { retries = 0; connect(); });

$("close").addEventListener("click", () => {
  cancelRetry();
  if (ws && ws.readyState < 2) {
    ws.userClosed = true;
    ws.close(1000, "bye");
  } else {
    ws = null;
  }
  showState();
});

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!ws || ws.readyState !== 1) return;
  ws.send($("text").value);
  log("→ " + $("text").value);
  $("text").value = "";
});

showState();
