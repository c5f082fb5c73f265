// Chat room: the server sends {"type":"hello","uid","member"} first, then the history, then live
// messages. Every message is inserted with textContent, never as HTML.
//
// The page keeps its identity and its place: the member token from hello is kept in
// localStorage (a reload or a reconnect presents it and keeps the same uid, so your messages stay
// marked as yours), and after a drop the page reconnects by itself with backoff, asking only for
// the messages after the newest one it has (no duplicates, no gap up to the history size).
// With several nodes on Redis each message also carries its epoch: the page presents it with
// the offset, and a {"type":"reset"} (Redis lost data, or the history no longer reaches back
// that far) clears the log before the latest history comes.
"use strict";
const $ = (id) => document.getElementById(id);
const MEMBER_KEY = "ws-chat-member";
let myUid = null;
let ws = null;
let lastId = 0;
let epoch = null;
let retries = 0;
let retryTimer = null;

// The text sent and not yet seen back: a refusal (too long, rate limit, not stored) puts it back
// into the input (if nothing was typed since) to edit or resend.
let pending = null;

function setState(name, text) {
  $("state").textContent = text || name;
  $("state").className = "state " + name;
  document.body.dataset.state = name;
  $("send").disabled = name !== "open";
}

// The time of day, with the date in front when it is not today.
function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return (today ? "" : d.toLocaleDateString() + " ") + d.toLocaleTimeString();
}

function append(m) {
  if (m.epoch !== undefined && m.epoch !== epoch) {
    epoch = m.epoch; // a new epoch always follows a reset; be sure anyway
    lastId = 0;
  }
  if (m.id <= lastId) return; // already shown (a reconnect never replays, but be sure)
  lastId = m.id;
  const li = document.createElement("li");
  li.className = "msg" + (m.uid === myUid ? " mine" : "") + (m.history ? " history" : "");
  li.dataset.id = String(m.id);
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

function storedMember() {
  try { return localStorage.getItem(MEMBER_KEY); } catch (_) { return null; }
}

function connect() {
  retryTimer = null;
  const params = new URLSearchParams();
  const member = storedMember();
  if (member) params.set("member", member);
  if (lastId > 0) params.set("since", String(lastId));
  if (epoch) params.set("epoch", epoch);
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws"
    + (params.toString() ? "?" + params : "");
  setState("connecting");
  ws = new WebSocket(url);
  ws.addEventListener("open", () => {
    retries = 0;
    setState("open");
    $("error").textContent = "";
  });
  ws.addEventListener("close", (e) => {
    // Back off 1, 2, 4, 8, then every 15 s; the state says when the next try is.
    const delay = Math.min(1000 * 2 ** retries, 15000);
    retries += 1;
    setState("reconnecting", "reconnecting in " + Math.round(delay / 1000) + " s");
    $("error").textContent = e.code === 1008 && e.reason ? "Disconnected: " + e.reason : "";
    retryTimer = setTimeout(connect, delay);
  });
  ws.addEventListener("message", onMessage);
}

function onMessage(e) {
  let m;
  try { m = JSON.parse(e.data); } catch (_) { return; }
  if (m.type === "hello") {
    myUid = m.uid;
    $("uid").textContent = m.uid;
    document.body.dataset.uid = m.uid;
    try { localStorage.setItem(MEMBER_KEY, m.member); } catch (_) { /* private mode: per page */ }
  } else if (m.type === "message") {
    append(m);
    if (!m.history && m.uid === myUid && m.message === pending) pending = null;
  } else if (m.type === "reset") {
    // What the page has cannot be continued: start again from the latest history.
    $("log").replaceChildren();
    lastId = 0;
    epoch = m.epoch;
    $("error").textContent = m.reason === "epoch"
      ? "The server lost the chat history; showing the latest messages."
      : "You were away too long to catch up; showing the latest messages.";
    document.body.dataset.resets = String(Number(document.body.dataset.resets || 0) + 1);
  } else if (m.type === "status") {
    $("error").textContent = m.redis === "down" ? m.text : "";
    document.body.dataset.redis = m.redis;
  } else if (m.type === "history_end") {
    if (m.epoch) epoch = m.epoch;
    document.body.dataset.history = "loaded";
  } else if (m.type === "error") {
    $("error").textContent = m.error;
    if (pending !== null && $("text").value === "") $("text").value = pending;
    pending = null;
  }
}

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text || !ws || ws.readyState !== 1) return;
  ws.send(JSON.stringify({ message: text }));
  pending = text;
  $("text").value = "";
  $("error").textContent = "";
});

connect();
