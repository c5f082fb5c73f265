// Live voting: a double-click, a tap, or Enter/Space on a focused candidate sends its id; the server broadcasts
// {"type":"vote","user":id,"count":n} and {"type":"notify","msg":...}. Text only, never HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = ["connecting", "open", "closing", "closed"];
let ws = null;
let retries = 0;

function showState() {
  const s = NAMES[ws.readyState];
  $("state").textContent = s;
  $("state").className = "state " + s;
  document.body.dataset.state = s;
}

// A notify alert: the time it arrived, the text, and a button that dismisses it.
function alertBox(text) {
  const div = document.createElement("div");
  div.className = "alert notify";
  div.setAttribute("role", "alert");
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = new Date().toLocaleTimeString();
  const msg = document.createElement("span");
  msg.className = "msg";
  msg.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "dismiss";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => div.remove());
  div.append(time, msg, close);
  $("alerts").prepend(div);
}

function vote(li) {
  if (ws.readyState === 1) ws.send(li.dataset.id);
}

// Mouse: double-click (as in the original demo). Touch: a tap (a double tap would zoom).
// Keyboard: each candidate is a button in the Tab order; Enter or Space votes.
document.querySelectorAll("#candidates li").forEach((li) => {
  li.addEventListener("dblclick", () => vote(li));
  li.addEventListener("pointerup", (e) => {
    if (e.pointerType === "touch") vote(li);
  });
  li.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      vote(li);
    }
  });
});

// While the page is not connected the candidates are shown disabled and leave the Tab order.
function setEnabled(on) {
  $("candidates").setAttribute("aria-disabled", on ? "false" : "true");
  $("candidates").classList.toggle("disabled", !on);
  document.querySelectorAll("#candidates li").forEach((li) => { li.tabIndex = on ? 0 : -1; });
}

// Connects, and after a drop reconnects by itself (1, 2, 4, 8, then every 15 s) with the state
// showing when; the counts snapshot sent on every (re)connection brings the page up to date. A
// 1008 close (logged out, session expired) does not retry: the page asks to log in again.
function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/vote/ws");
  showState();
  ws.addEventListener("open", () => {
    retries = 0;
    showState();
    setEnabled(true);
    $("error").textContent = "";
  });
  ws.addEventListener("close", (e) => {
    setEnabled(false);
    if (e.code === 1008) {
      showState();
      $("error").textContent = "Your session ended (" + e.reason + "). Please log in again.";
      return;
    }
    const delay = Math.min(1000 * 2 ** retries, 15000);
    retries += 1;
    $("state").textContent = "reconnecting in " + Math.round(delay / 1000) + " s";
    $("state").className = "state reconnecting";
    document.body.dataset.state = "reconnecting";
    setTimeout(connect, delay);
  });
  ws.addEventListener("message", onMessage);
}

function setCount(id, count) {
  const el = $("count-" + id);
  if (el) el.textContent = String(count);
}

function markMine(candidate) {
  document.querySelectorAll("#candidates li").forEach((li) => {
    const mine = li.dataset.id === String(candidate);
    li.classList.toggle("mine", mine);
    li.setAttribute("aria-pressed", mine ? "true" : "false");
  });
}

function onMessage(e) {
  let m;
  try { m = JSON.parse(e.data); } catch (_) { return; }
  if (m.type === "counts") {
    // Sent once when the socket opens: the counts as of then (votes cast between the page's
    // render and now included); "vote" messages follow for every later change.
    m.counts.forEach((c) => setCount(c.user, c.count));
    if ("voted" in m) markMine(m.voted);
  } else if (m.type === "vote") {
    setCount(m.user, m.count);
  } else if (m.type === "voted") {
    markMine(m.candidate);
  } else if (m.type === "status") {
    // Several nodes on Redis: the shared store went away (votes refused) or came back.
    $("error").textContent = m.redis === "down" ? m.text : "";
  } else if (m.type === "notify") {
    alertBox(String(m.msg));
  } else if (m.type === "error") {
    $("error").textContent = m.error;
  }
}

setEnabled(false);
connect();
