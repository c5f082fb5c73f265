// Live voting: a double-click, a tap, or Enter/Space on a focused candidate sends its id; the server broadcasts
// {"type":"vote","user":id,"count":n} and {"type":"notify","msg":...}. Text only, never HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = ["connecting", "open", "closing", "closed"];
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/vote/ws");

function showState() {
  const s = NAMES[ws.readyState];
  $("state").textContent = s;
  $("state").className = "state " + s;
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

// A closed page: the candidates are shown disabled and leave the Tab order.
function disable() {
  $("candidates").setAttribute("aria-disabled", "true");
  $("candidates").classList.add("disabled");
  document.querySelectorAll("#candidates li").forEach((li) => { li.tabIndex = -1; });
}

ws.addEventListener("open", showState);
ws.addEventListener("close", (e) => {
  showState();
  disable();
  $("error").textContent = e.code === 1008
    ? "Your session ended (" + e.reason + "). Please log in again."
    : "Disconnected (" + e.code + "). Reload the page to reconnect.";
});
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

ws.addEventListener("message", (e) => {
  let m;
  try { m = JSON.parse(e.data); } catch (_) { return; }
  if (m.type === "counts") {
    // Sent once when the socket opens: the counts as of then (votes cast between the page's
    // render and now included); "vote" messages follow for every later change.
    m.counts.forEach((c) => setCount(c.user, c.count));
    markMine(m.voted);
  } else if (m.type === "vote") {
    setCount(m.user, m.count);
  } else if (m.type === "voted") {
    markMine(m.candidate);
  } else if (m.type === "notify") {
    alertBox(String(m.msg));
  } else if (m.type === "error") {
    $("error").textContent = m.error;
  }
});
showState();
