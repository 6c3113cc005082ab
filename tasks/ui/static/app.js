// The status page: one event stream (server-sent events) keeps the table and the log panes
// current; each button is a POST carrying the session's token (docs/ui.md).
"use strict";
const token = document.querySelector('meta[name="token"]').content;
const q = "?token=" + encodeURIComponent(token);
const body = document.querySelector("#rows tbody");
const LINES = 200;  // the server keeps as many; the page never holds more
let runtime = "", readOnly = false;

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function when(t) { return t ? new Date(t * 1000).toLocaleTimeString() : "-"; }

function button(verb, name, label) {
  const b = text("button", label, "act");
  b.dataset.verb = verb;
  b.dataset.name = name;
  return b;
}

function row(r) {
  let tr = document.getElementById("row-" + r.name);
  if (!tr) {
    tr = document.createElement("tr");
    tr.id = "row-" + r.name;
    const logs = document.createElement("tr");
    logs.className = "logs";
    const td = document.createElement("td");
    td.colSpan = 8;
    const pre = text("pre", "", "log");
    pre.id = "log-" + r.name;
    td.appendChild(pre);
    logs.appendChild(td);
    body.appendChild(tr);
    body.appendChild(logs);
  }
  tr.dataset.verdict = r.verdict;
  tr.replaceChildren();
  tr.appendChild(text("td", r.name, "name"));
  tr.appendChild(text("td", r.kind, "kind"));
  const image = text("td", r.image, "image");
  if (r.synced) image.appendChild(text("span", "synced", "synced"));
  tr.appendChild(image);
  tr.appendChild(text("td", r.ready + "/" + r.desired, "ready"));
  const health = document.createElement("td");
  health.className = "health";
  health.appendChild(text("span", r.verdict, "verdict"));
  if (r.reason) health.appendChild(text("div", r.reason, "reason"));
  tr.appendChild(health);
  tr.appendChild(text("td", r.result ? r.result + " (" + r.seconds.toFixed(1) + " s)" : "-", "cycle"));
  tr.appendChild(text("td", when(r.changed_at), "changed"));
  const acts = document.createElement("td");
  if (!readOnly) {
    acts.appendChild(button("rebuild", r.name, "rebuild"));
    if (runtime === "compose" && r.kind !== "job") acts.appendChild(button("restart", r.name, "restart"));
  }
  tr.appendChild(acts);
}

function logs(name, lines) {
  const pre = document.getElementById("log-" + name);
  if (!pre) return;
  const kept = (pre.textContent ? pre.textContent.split("\n") : []).concat(lines).slice(-LINES);
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = kept.join("\n");
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function show(s) {
  runtime = s.header.runtime;
  readOnly = s.header.read_only;
  document.getElementById("runtime").textContent = runtime;
  document.getElementById("commit").textContent = s.header.commit;
  document.getElementById("stale").hidden = readOnly;
  const err = document.getElementById("error");
  err.hidden = !s.error;
  err.textContent = s.error;
  const busy = document.getElementById("busy");
  busy.hidden = !s.busy;
  busy.textContent = s.busy ? "A run holds the checkout (" + s.busy + "): the rows are read again when it ends." : "";
  s.rows.forEach(row);
  // A new connection starts with every line the server keeps: the panes start again too.
  if (s.full) document.querySelectorAll("pre.log").forEach((pre) => { pre.textContent = ""; });
  for (const [name, lines] of Object.entries(s.logs)) logs(name, lines);
  document.querySelectorAll("button.act").forEach((b) => {
    const key = (b.dataset.verb + " " + (b.dataset.name || "")).trim();
    b.dataset.state = s.actions[key] || "";
    b.title = s.actions[key] || "";
  });
  const graph = document.getElementById("graph-body");
  if (s.graph && graph.dataset.shown !== String(s.graph)) {
    graph.dataset.shown = String(s.graph);
    const img = document.createElement("img");
    img.src = "api/graph" + q + "&v=" + s.graph;  // a new picture after each action
    img.alt = "task graph (stale tasks highlighted)";
    graph.replaceChildren(img);
  }
  document.body.dataset.version = s.version;
}

document.addEventListener("click", async (e) => {
  const b = e.target.closest("button.act");
  if (!b) return;
  await fetch("api/action", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Stackbuild-Token": token },
    body: JSON.stringify({ verb: b.dataset.verb, name: b.dataset.name || "" }),
  });
});

const live = document.getElementById("live");
const events = new EventSource("api/events" + q);
events.onopen = () => { live.textContent = "live"; live.className = "fact on"; };
events.onerror = () => { live.textContent = "reconnecting"; live.className = "fact off"; };
events.onmessage = (e) => show(JSON.parse(e.data));
