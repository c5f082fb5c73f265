// Live voting: double-click sends the candidate id; the server broadcasts
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

function alertBox(text) {
  const div = document.createElement("div");
  div.className = "alert notify";
  div.setAttribute("role", "alert");
  div.textContent = text;
  $("alerts").prepend(div);
}

document.querySelectorAll("#candidates li").forEach((li) => {
  li.addEventListener("dblclick", () => {
    if (ws.readyState === 1) ws.send(li.dataset.id);
  });
});

ws.addEventListener("open", showState);
ws.addEventListener("close", (e) => {
  showState();
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
    li.classList.toggle("mine", li.dataset.id === String(candidate));
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
