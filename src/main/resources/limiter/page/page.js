// The limiter's status page: asks the management server's JSON answers every few seconds and draws them. Every
// value goes in as text (textContent), never as HTML: user names and addresses come from the nodes' logs.
"use strict";

const REFRESH_MS = 5000;
let shownUser = null;
let lastTotals = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null ? "" : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function fill(tableId, rows, emptyText, columns) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const td = el("td", emptyText, "empty");
    td.colSpan = columns;
    const tr = document.createElement("tr");
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

function when(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return "";
  const date = new Date(Number(epochSeconds) * 1000);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function ago(epochSeconds, now) {
  if (epochSeconds === null || epochSeconds === undefined) return "";
  const seconds = Math.max(0, Math.round(Number(now) - Number(epochSeconds)));
  return seconds < 120 ? seconds + " s ago" : Math.round(seconds / 60) + " min ago";
}

async function json(path, options) {
  const response = await fetch(path, Object.assign({ cache: "no-store", credentials: "same-origin" }, options));
  if (!response.ok) {
    const error = new Error(path + ": " + response.status + " " + (await response.text()));
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function userLink(name) {
  const link = el("a", name, "user");
  link.addEventListener("click", () => showUser(name));
  return link;
}

function done(user) {
  if (user.restore_at !== null) return "disabled until " + when(user.restore_at);
  if (user.acted) return "reported";
  return "within VIOLATION_GRACE";
}

function drawOverview(overview) {
  const now = overview.now;
  document.getElementById("over-total").textContent = "(" + overview.over_total + ")";
  fill("over", overview.over.map(user => row([
    userLink(user.username),
    user.devices.length + " / " + user.limit,
    user.devices.map(device => device.addresses.join(" ")).join(", "),
    [...new Set(user.devices.flatMap(device => device.nodes))].join(", "),
    user.over_since === null ? "" : when(user.over_since) + " (" + ago(user.over_since, now) + ")",
    done(user),
  ])), "No user is over its limit.", 6);
  fill("verdicts", overview.verdicts.map(verdict => row([
    when(verdict.at), userLink(verdict.user), verdict.verdict, verdict.reason,
  ])), "No verdict yet.", 4);
  const totals = { at: Number(now), events: overview.events_consumed_total };
  let rate = "";
  if (lastTotals !== null && totals.at > lastTotals.at) {
    rate = ((totals.events - lastTotals.events) / (totals.at - lastTotals.at)).toFixed(1) + " events/s, ";
  }
  lastTotals = totals;
  document.getElementById("totals").textContent = rate + overview.events_consumed_total + " events consumed by "
    + "this instance, queue lag " + overview.consumer_lag_seconds.toFixed(1) + " s, " + overview.users_tracked
    + " users seen in the last " + overview.window_seconds + " s, default limit " + overview.default_limit + ".";
  const limitForm = document.getElementById("limit");
  for (const input of limitForm.querySelectorAll("input, button")) input.disabled = !overview.limit_changes_allowed;
  if (!overview.limit_changes_allowed) {
    document.getElementById("limit-result").textContent = "Changing limits here needs MANAGEMENT_AUTH_FILE.";
  }
}

async function drawNodes() {
  let nodes = [];
  try {
    nodes = (await json("/observe/limiter/nodes")).nodes;
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  fill("nodes", nodes.map(node => {
    const heartbeat = el("span", ago(node.last_heartbeat, Date.now() / 1000) + (node.silent ? " (silent)" : ""),
      node.silent ? "bad" : "");
    const offset = node.clock_offset_seconds === null || node.clock_offset_seconds === undefined ? "unknown"
      : Number(node.clock_offset_seconds).toFixed(1) + " s" + (node.clock_skewed ? " (skewed)" : "");
    return row([
      node.node_name + (node.node_name === node.node_id ? "" : " (" + node.node_id + ")"),
      heartbeat,
      node.lag_bytes === undefined ? "" : node.lag_bytes + " bytes",
      node.events_per_second === undefined ? "" : Number(node.events_per_second).toFixed(1),
      el("span", offset, node.clock_skewed ? "bad" : ""),
      node.version === undefined ? "" : node.version,
    ]);
  }), "No node data.", 6);
}

async function showUser(name) {
  shownUser = name;
  document.getElementById("search-name").value = name;
  await drawUser();
}

async function drawUser() {
  if (shownUser === null) return;
  const user = await json("/observe/limiter/users/" + encodeURIComponent(shownUser));
  const now = Date.now() / 1000;
  const windowSeconds = lastWindow();
  let summary = user.username + ": " + user.devices.length + " devices in the last " + windowSeconds + " s, limit "
    + user.limit + " (" + (user.limit_source === "set" ? "set by " + user.limit_set_by + " " + ago(user.limit_set_at, now)
      : user.limit_source === "file" ? "from USER_LIMITS_FILE" : "IP_LIMIT") + ")";
  if (user.over_since !== null) summary += "; over the limit since " + when(user.over_since);
  if (user.restore_at !== null) summary += "; disabled by the limiter until " + when(user.restore_at);
  document.getElementById("user-summary").textContent = summary;
  document.getElementById("user").hidden = false; // first: a hidden timeline has no width to draw in
  drawTimeline(user.devices, now, windowSeconds);
}

function lastWindow() {
  return window.limiterWindowSeconds || 300;
}

// One row a device, the window from left (its start) to right (now), a mark where the device was last seen.
function drawTimeline(devices, now, windowSeconds) {
  const svg = document.getElementById("timeline");
  const ns = "http://www.w3.org/2000/svg";
  const width = svg.clientWidth || 800;
  const left = 260, right = 20, rowHeight = 22, top = 10;
  const height = top + Math.max(1, devices.length) * rowHeight + 24;
  svg.style.height = height + "px";
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.replaceChildren();
  const x = seconds => left + (width - left - right) * (1 - Math.min(windowSeconds, Math.max(0, now - seconds)) / windowSeconds);
  const text = (value, tx, ty, anchor) => {
    const node = document.createElementNS(ns, "text");
    node.setAttribute("x", tx); node.setAttribute("y", ty);
    if (anchor) node.setAttribute("text-anchor", anchor);
    node.textContent = value;
    svg.appendChild(node);
  };
  const axisY = top + Math.max(1, devices.length) * rowHeight;
  const axis = document.createElementNS(ns, "line");
  axis.setAttribute("class", "axis");
  axis.setAttribute("x1", left); axis.setAttribute("x2", width - right);
  axis.setAttribute("y1", axisY); axis.setAttribute("y2", axisY);
  svg.appendChild(axis);
  text("-" + windowSeconds + " s", left, axisY + 16, "start");
  text("now", width - right, axisY + 16, "end");
  if (devices.length === 0) text("no device in the window", left, top + 14, "start");
  devices.forEach((device, i) => {
    const y = top + i * rowHeight + 14;
    text(device.addresses.join(" ") + " via " + device.nodes.join(", "), 4, y, "start");
    const mark = document.createElementNS(ns, "circle");
    mark.setAttribute("class", "mark");
    mark.setAttribute("cx", x(Number(device.last_seen)));
    mark.setAttribute("cy", y - 4);
    mark.setAttribute("r", 5);
    const title = document.createElementNS(ns, "title");
    title.textContent = "last seen " + when(device.last_seen);
    mark.appendChild(title);
    svg.appendChild(mark);
  });
}

async function changeLimit(method) {
  const result = document.getElementById("limit-result");
  const value = document.getElementById("limit-value").value.trim();
  const options = { method: method };
  if (method === "PUT") {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify({ limit: /^\d+$/.test(value) ? Number(value) : value });
  }
  try {
    const limit = await json("/observe/limiter/users/" + encodeURIComponent(shownUser) + "/limit", options);
    result.textContent = "Limit of " + shownUser + " is " + limit.limit + " (" + limit.source
      + ") from the next check on.";
    await drawUser();
  } catch (error) {
    result.textContent = error.message;
  }
}

async function refresh() {
  const problem = document.getElementById("problem");
  try {
    const overview = await json("/observe/limiter/overview");
    window.limiterWindowSeconds = overview.window_seconds;
    drawOverview(overview);
    await drawNodes();
    await drawUser();
    problem.hidden = true;
    document.getElementById("refreshed").textContent = "refreshed " + new Date().toLocaleTimeString()
      + ", every " + REFRESH_MS / 1000 + " s";
  } catch (error) {
    problem.textContent = "Cannot refresh: " + error.message;
    problem.hidden = false;
  }
}

document.getElementById("search").addEventListener("submit", event => {
  event.preventDefault();
  showUser(document.getElementById("search-name").value.trim()).catch(error => {
    document.getElementById("user-summary").textContent = error.message;
  });
});
document.getElementById("limit").addEventListener("submit", event => {
  event.preventDefault();
  changeLimit("PUT");
});
document.getElementById("limit-default").addEventListener("click", () => changeLimit("DELETE"));
refresh();
setInterval(refresh, REFRESH_MS);
