// Chat room: the server sends {"type":"hello","uid"} first, then the history, then live messages.
// Every message is inserted with textContent, never as HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = ["connecting", "open", "closing", "closed"];
let myUid = null;

const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws");

function showState() {
  const s = NAMES[ws.readyState];
  $("state").textContent = s;
  $("state").className = "state " + s;
  $("send").disabled = ws.readyState !== 1;
}

// The time of day, with the date in front when it is not today.
function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return (today ? "" : d.toLocaleDateString() + " ") + d.toLocaleTimeString();
}

// The text sent and not yet seen back: the input is cleared only when the room echoes it, so a
// refused message (too long, rate limit, not stored) stays in the input to edit or resend.
let pending = null;

function append(m) {
  const li = document.createElement("li");
  li.className = "msg" + (m.uid === myUid ? " mine" : "") + (m.history ? " history" : "");
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = when(m.time) + " " + String(m.uid).slice(0, 8);
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = m.message;
  li.append(meta, body);
  $("log").appendChild(li);
  $("log").scrollTop = $("log").scrollHeight;
}

ws.addEventListener("open", showState);
ws.addEventListener("close", (e) => {
  showState();
  $("error").textContent = "disconnected (" + e.code + (e.reason ? " " + e.reason : "") + ")";
});
ws.addEventListener("message", (e) => {
  let m;
  try { m = JSON.parse(e.data); } catch (_) { return; }
  if (m.type === "hello") {
    myUid = m.uid;
    $("uid").textContent = m.uid;
    document.body.dataset.uid = m.uid;
  } else if (m.type === "message") {
    append(m);
    if (!m.history && m.uid === myUid && pending !== null && m.message === pending) {
      if ($("text").value === pending) $("text").value = "";
      pending = null;
    }
  } else if (m.type === "history_end") {
    document.body.dataset.history = "loaded";
  } else if (m.type === "error") {
    $("error").textContent = m.error;
    pending = null;
  }
});

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text || ws.readyState !== 1) return;
  ws.send(JSON.stringify({ message: text }));
  pending = text;
  $("error").textContent = "";
});

showState();
