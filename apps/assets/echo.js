// Echo page: one WebSocket to /echo/ws; shows readyState live and logs what comes back (as text only).
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = ["connecting", "open", "closing", "closed"];
let ws = null;

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
  $("connect").disabled = !!ws && ws.readyState < 2;
  $("close").disabled = !ws || ws.readyState !== 1;
  $("send").disabled = !ws || ws.readyState !== 1;
}

$("connect").addEventListener("click", () => {
  ws = new WebSocket(wsUrl("/echo/ws"));
  showState();
  ws.addEventListener("open", () => { log("connected"); showState(); });
  ws.addEventListener("message", (e) => { log("← " + e.data, "mine"); });
  ws.addEventListener("error", () => { log("error", "error"); showState(); });
  ws.addEventListener("close", (e) => {
    log("closed (" + e.code + (e.reason ? " " + e.reason : "") + ")");
    showState();
  });
});

$("close").addEventListener("click", () => { if (ws) { ws.close(1000, "bye"); showState(); } });

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!ws || ws.readyState !== 1) return;
  ws.send($("text").value);
  log("→ " + $("text").value);
  $("text").value = "";
});

showState();
