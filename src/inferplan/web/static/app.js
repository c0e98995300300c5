/* inferplan web UI: every change goes through the REST API (/api/v1) with fetch. */
"use strict";

const API = "/api/v1";

async function api(method, url, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, opts);
  } catch (err) {
    return { status: 0, data: { detail: "the server did not answer (" + err + ")" } };
  }
  let data = null;
  const text = await resp.text();
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
  return { status: resp.status, data };
}

function $(sel, root) { return (root || document).querySelector(sel); }
function $all(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }

function detailText(data) {
  if (!data) return "unknown error";
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) {
    return data.detail.map((d) => (d.field ? d.field + ": " : "") + d.msg).join("; ");
  }
  return JSON.stringify(data);
}

function showPageError(msg) {
  const box = $("#page-error") || $("#form-errors");
  if (!box) { alert(msg); return; }
  box.textContent = msg;
  box.classList.remove("hidden");
  box.scrollIntoView({ block: "nearest" });
}

/* ---------- buttons present on several pages ---------- */

async function runPlan(scenarioId, button) {
  if (button) button.disabled = true;
  const r = await api("POST", API + "/plans", { scenario_id: Number(scenarioId) });
  if (r.status === 202) { window.location = "/ui/plans/" + r.data.plan_id; return true; }
  if (button) button.disabled = false;
  showPageError("Could not start the plan: " + detailText(r.data));
  return false;
}

function wireButtons() {
  $all("[data-run-plan]").forEach((b) =>
    b.addEventListener("click", () => runPlan(b.dataset.runPlan, b)));
  $all("[data-duplicate]").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    const r = await api("POST", API + "/scenarios/" + b.dataset.duplicate + "/duplicate", {});
    if (r.status === 201) window.location = "/ui/scenarios/" + r.data.id + "/edit";
    else { b.disabled = false; showPageError(detailText(r.data)); }
  }));
  $all("[data-delete-scenario]").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm("Delete this scenario and its history? Stored plans keep their copy.")) return;
    const url = API + "/scenarios/" + b.dataset.deleteScenario + "?version=" + b.dataset.version;
    const r = await api("DELETE", url);
    if (r.status === 204) window.location = "/ui/";
    else showPageError(detailText(r.data));
  }));
  $all("[data-rerun]").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    const r = await api("POST", API + "/plans/" + b.dataset.rerun + "/rerun");
    if (r.status === 202) window.location = "/ui/plans/" + r.data.plan_id;
    else { b.disabled = false; showPageError(detailText(r.data)); }
  }));
  $all("[data-delete-bench]").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm("Delete this benchmark run?")) return;
    const r = await api("DELETE", API + "/bench-runs/" + b.dataset.deleteBench);
    if (r.status === 204) window.location = "/ui/bench";
    else showPageError(detailText(r.data));
  }));
  $all("[data-delete-calibration]").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm("Delete this calibration profile?")) return;
    const r = await api("DELETE", API + "/calibrations/" + b.dataset.deleteCalibration);
    if (r.status === 204) window.location.reload();
    else showPageError(detailText(r.data));
  }));
  /* "compare two selected" tables */
  $all("form").forEach((form) => {
    const boxes = $all("input.pick2", form);
    const button = $("button.compare-two", form);
    if (!boxes.length || !button) return;
    const update = () => { button.disabled = boxes.filter((x) => x.checked).length !== 2; };
    boxes.forEach((x) => x.addEventListener("change", update));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const ids = boxes.filter((x) => x.checked).map((x) => x.value);
      if (ids.length === 2) window.location = form.action + "?a=" + ids[0] + "&b=" + ids[1];
    });
  });
}

/* ---------- scenario editor ---------- */

function setPath(obj, path, value) {
  const parts = path.split(".");
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (typeof cur[parts[i]] !== "object" || cur[parts[i]] === null || Array.isArray(cur[parts[i]])) {
      if (value === undefined) return;
      cur[parts[i]] = {};
    }
    cur = cur[parts[i]];
  }
  const last = parts[parts.length - 1];
  if (value === undefined) delete cur[last]; else cur[last] = value;
}

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function clearErrors(root) {
  $all(".field-error", root).forEach((e) => { e.textContent = ""; });
  $all(".field.invalid", root).forEach((e) => e.classList.remove("invalid"));
  ["#form-errors", "#conflict"].forEach((s) => { const b = $(s); if (b) b.classList.add("hidden"); });
}

function markField(root, field, msg) {
  let key = field;
  while (key) {
    const el = $('[data-error-for="' + CSS.escape(key) + '"]', root);
    if (el) {
      el.textContent = el.textContent ? el.textContent + "; " + msg : msg;
      const wrap = el.closest(".field");
      if (wrap) wrap.classList.add("invalid");
      return true;
    }
    if (/\[\d+\]$/.test(key)) key = key.replace(/\[\d+\]$/, "");
    else if (key.includes(".")) key = key.slice(0, key.lastIndexOf("."));
    else key = "";
  }
  return false;
}

function showFieldErrors(root, details) {
  const unplaced = [];
  details.forEach((d) => { if (!markField(root, d.field || "", d.msg)) unplaced.push(d); });
  const box = $("#form-errors") || $("#page-error");
  const n = details.length;
  box.innerHTML = "";
  const head = document.createElement("strong");
  head.textContent = n + (n === 1 ? " problem" : " problems") + " to fix" +
    (unplaced.length < n ? "; see the marked fields." : ".");
  box.appendChild(head);
  if (unplaced.length) {
    const ul = document.createElement("ul");
    unplaced.forEach((d) => {
      const li = document.createElement("li");
      li.textContent = (d.field ? d.field + ": " : "") + d.msg;
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }
  box.classList.remove("hidden");
  const first = $(".field.invalid", root) || box;
  first.scrollIntoView({ block: "center" });
}

function collectDocument(form, original) {
  const doc = JSON.parse(JSON.stringify(original));
  const local = [];
  $all("[data-field]", form).forEach((el) => {
    const path = el.dataset.field;
    const type = el.dataset.type;
    let value;
    if (type === "checks") {
      value = $all("input:checked", el).map((x) => x.value);
      const all = $all("input", el).length;
      if (value.length === all && getPath(original, path) === undefined) value = undefined;
    } else {
      const raw = (el.value || "").trim();
      if (el.validity && el.validity.badInput) {
        local.push({ field: path, msg: "enter a number" });
        value = getPath(original, path);
      } else if (raw === "") value = undefined;
      else if (type === "int" || type === "float") {
        const x = Number(raw);
        if (!Number.isFinite(x)) local.push({ field: path, msg: "enter a number" });
        else if (type === "int" && !Number.isInteger(x)) local.push({ field: path, msg: "enter a whole number" });
        value = x;
      } else if (type === "list") {
        value = raw.split(",").map((s) => s.trim()).filter((s) => s);
      } else value = raw;
      if (value === undefined && Array.isArray(getPath(original, path)) && el.tagName === "SELECT") {
        value = getPath(original, path); /* keep custom hourly weights */
      }
    }
    setPath(doc, path, value);
  });
  const volume = $('input[name="volume"]:checked', form);
  if (volume && doc.workload) {
    if (volume.value === "users") delete doc.workload.requests_per_day;
    else { delete doc.workload.users; delete doc.workload.requests_per_user_per_day; }
  }
  ["slo", "policy", "candidates", "workload", "finance"].forEach((k) => {
    if (doc[k] && typeof doc[k] === "object" && !Object.keys(doc[k]).length) delete doc[k];
  });
  return { doc, local };
}

function wireEditor() {
  const form = $("#scenario-form");
  if (!form) return;
  const original = JSON.parse($("#scenario-doc").textContent);
  const id = form.dataset.scenarioId;
  const version = form.dataset.version;
  $all(".tabs button").forEach((b) => b.addEventListener("click", () => {
    $all(".tabs button").forEach((x) => x.classList.toggle("active", x === b));
    ["form-tab", "yaml-tab"].forEach((t) => $("#" + t).classList.toggle("hidden", t !== b.dataset.tab));
  }));

  async function save(body, thenRun) {
    clearErrors(form);
    body.comment = ($("#f-comment") || {}).value || "";
    const buttons = $all("button", form);
    buttons.forEach((b) => { b.disabled = true; });
    let r;
    if (id) r = await api("PUT", API + "/scenarios/" + id, Object.assign(body, { version: Number(version) }));
    else r = await api("POST", API + "/scenarios", body);
    buttons.forEach((b) => { b.disabled = false; });
    if (r.status === 200 || r.status === 201) {
      if (thenRun) { await runPlan(r.data.id); return; }
      window.location = "/ui/scenarios/" + r.data.id;
      return;
    }
    if (r.status === 422 && Array.isArray(r.data.detail)) { showFieldErrors(form, r.data.detail); return; }
    if (r.status === 409) {
      const box = $("#conflict");
      box.innerHTML = "";
      box.append("Someone saved this scenario while you were editing (now version " +
        r.data.current_version + "). Your changes are still in the form: ");
      const a = document.createElement("a");
      a.href = "/ui/scenarios/" + id + "/diff?from=" + version + "&to=" + r.data.current_version;
      a.textContent = "see what changed";
      a.target = "_blank";
      box.append(a, ", then ");
      const reload = document.createElement("a");
      reload.href = "/ui/scenarios/" + id + "/edit";
      reload.textContent = "reload the editor";
      box.append(reload, " and reapply them.");
      box.classList.remove("hidden");
      box.scrollIntoView({ block: "nearest" });
      return;
    }
    showPageError("Could not save: " + detailText(r.data));
  }

  function fromForm(thenRun) {
    const { doc, local } = collectDocument(form, original);
    clearErrors(form);
    if (local.length) { showFieldErrors(form, local); return; }
    save({ document: doc }, thenRun);
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); fromForm(false); });
  $("#save-run").addEventListener("click", () => fromForm(true));
  $("#save-yaml").addEventListener("click", () => save({ yaml: $("#f-yaml").value }, false));
}

/* ---------- plan progress ---------- */

function wireProgress() {
  const panel = $("#progress-panel");
  if (!panel) return;
  const jobId = panel.dataset.jobId;
  const planId = panel.dataset.planId;
  const bar = $("#progress-bar");
  const text = $("#progress-text");
  const cancel = $("#cancel-job");
  if (cancel && jobId) cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    const r = await api("POST", API + "/jobs/" + jobId + "/cancel");
    if (r.status !== 200) showPageError(detailText(r.data));
  });
  let polls = 0;
  async function poll() {
    polls += 1;
    const r = jobId ? await api("GET", API + "/jobs/" + jobId) : await api("GET", API + "/plans/" + planId);
    if (r.status === 200) {
      bar.style.width = Math.round(100 * (r.data.progress || 0)) + "%";
      text.textContent = r.data.message || r.data.status;
      if (!["queued", "running"].includes(r.data.status)) { window.location.reload(); return; }
    }
    setTimeout(poll, polls < 50 ? 300 : 1500);
  }
  poll();
}

/* ---------- charts (plotly.js served by this app) ---------- */

const COLORS = ["#2456c7", "#1b7a43", "#c45a00", "#7a3db8", "#b3261e", "#00838f"];
const OTHER = ["#2456c7", "#c45a00", "#7a3db8", "#b3261e", "#00838f", "#6b7280"];
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

function short(name, n) { return name && name.length > n ? name.slice(0, n - 1) + "…" : name; }

function layout(extra) {
  return Object.assign({
    margin: { l: 60, r: 20, t: 10, b: 50 },
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1d2430" },
    paper_bgcolor: "#fff", plot_bgcolor: "#fff", showlegend: false,
    hoverlabel: { namelength: -1 },
  }, extra);
}

const CHARTS = {
  npv(el, d) {
    const names = d.npv.names;
    Plotly.newPlot(el, [{
      type: "bar", orientation: "h", y: d.npv.labels || names.map((n) => short(n, 36)), x: d.npv.values,
      customdata: names, marker: { color: names.map((n) => (n === d.pick ? "#1b7a43" : "#9db3e8")) },
      hovertemplate: "%{customdata}<br>NPV $%{x:,.0f}<extra></extra>",
    }], layout({ height: Math.max(300, 26 * names.length + 70), margin: { l: 250, r: 20, t: 10, b: 45 },
      yaxis: { autorange: "reversed" }, xaxis: { title: { text: "NPV (USD)" }, tickprefix: "$", separatethousands: true } }), CONFIG);
  },
  cash(el, d) {
    const traces = d.cash.map((c, i) => ({
      type: "scatter", mode: "lines", name: short(c.name, 40), x: c.values.map((_, m) => m), y: c.values,
      line: { width: c.name === d.pick ? 3.5 : 1.8,
        color: c.name === d.pick ? "#1b7a43" : OTHER[i % OTHER.length] },
      hovertemplate: c.name + "<br>month %{x}: $%{y:,.0f}<extra></extra>",
    }));
    Plotly.newPlot(el, traces, layout({ height: 340, showlegend: true, legend: { orientation: "h", y: -0.25 },
      margin: { l: 80, r: 20, t: 10, b: 90 },
      xaxis: { title: { text: "month" } }, yaxis: { title: { text: "cumulative USD" }, tickprefix: "$" } }), CONFIG);
  },
  latency(el, d) {
    const pts = d.latency;
    const x = pts.map((p) => p.output_tokens_per_s);
    const text = pts.map((p) => "concurrency " + p.concurrency);
    const traces = [
      { type: "scatter", mode: "lines+markers", name: "TTFT", x, y: pts.map((p) => p.ttft_ms), text,
        line: { color: COLORS[0] }, hovertemplate: "%{text}<br>%{x:,.0f} tok/s<br>TTFT %{y:,.0f} ms<extra></extra>" },
      { type: "scatter", mode: "lines+markers", name: "TPOT", x, y: pts.map((p) => p.tpot_ms), text, yaxis: "y2",
        line: { color: COLORS[2] }, hovertemplate: "%{text}<br>%{x:,.0f} tok/s<br>TPOT %{y:,.1f} ms<extra></extra>" },
    ];
    const shapes = [];
    if (d.slo && d.slo.ttft_ms) shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: d.slo.ttft_ms, y1: d.slo.ttft_ms, line: { dash: "dot", color: COLORS[0] } });
    if (d.slo && d.slo.tpot_ms) shapes.push({ type: "line", xref: "paper", yref: "y2", x0: 0, x1: 1, y0: d.slo.tpot_ms, y1: d.slo.tpot_ms, line: { dash: "dot", color: COLORS[2] } });
    Plotly.newPlot(el, traces, layout({ height: 340, showlegend: true, legend: { orientation: "h", y: -0.25 },
      margin: { l: 70, r: 70, t: 10, b: 80 }, shapes,
      xaxis: { title: { text: "output tokens/s per replica" } },
      yaxis: { title: { text: "TTFT (ms)" } },
      yaxis2: { title: { text: "TPOT (ms)" }, overlaying: "y", side: "right" } }), CONFIG);
  },
  tornado(el, d) {
    const f = d.tornado.map((t) => t.factor + " " + t.range);
    Plotly.newPlot(el, [
      { type: "bar", orientation: "h", name: "low", y: f, x: d.tornado.map((t) => t.low), marker: { color: "#1b7a43" },
        hovertemplate: "%{y}: low end %{x:$,.0f}<extra></extra>" },
      { type: "bar", orientation: "h", name: "high", y: f, x: d.tornado.map((t) => t.high), marker: { color: "#b3261e" },
        hovertemplate: "%{y}: high end %{x:$,.0f}<extra></extra>" },
    ], layout({ barmode: "overlay", height: Math.max(260, 34 * f.length + 60), showlegend: true,
      legend: { orientation: "h", y: -0.2 }, margin: { l: 200, r: 20, t: 10, b: 70 },
      yaxis: { autorange: "reversed" }, xaxis: { title: { text: "change of NPV (USD)" }, tickprefix: "$" } }), CONFIG);
  },
  npv2(el, d) {
    const c = d.npv2;
    const y = c.labels || c.names.map((n) => short(n, 36));  /* distinct: never stacked */
    Plotly.newPlot(el, [
      { type: "bar", orientation: "h", name: c.label_a, y, x: c.a, customdata: c.names, marker: { color: COLORS[0] },
        hovertemplate: "%{customdata}<br>" + c.label_a + " $%{x:,.0f}<extra></extra>" },
      { type: "bar", orientation: "h", name: c.label_b, y, x: c.b, customdata: c.names, marker: { color: COLORS[2] },
        hovertemplate: "%{customdata}<br>" + c.label_b + " $%{x:,.0f}<extra></extra>" },
    ], layout({ barmode: "group", showlegend: true, height: Math.max(320, 34 * y.length + 80),
      margin: { l: 250, r: 20, t: 10, b: 70 }, legend: { orientation: "h", y: -0.15 },
      yaxis: { autorange: "reversed" }, xaxis: { title: { text: "NPV (USD)" }, tickprefix: "$" } }), CONFIG);
  },
  bench(el, d) {
    const b = d.bench;
    Plotly.newPlot(el, [
      { type: "bar", name: "TTFT p50 (ms)", x: b.labels, y: b.ttft_p50, marker: { color: "#9db3e8" } },
      { type: "bar", name: "TTFT p99 (ms)", x: b.labels, y: b.ttft_p99, marker: { color: COLORS[0] } },
      { type: "scatter", mode: "lines+markers", name: "output tok/s", x: b.labels, y: b.output_tokens_per_s, yaxis: "y2",
        line: { color: COLORS[1] } },
    ], layout({ barmode: "group", showlegend: true, height: 340, legend: { orientation: "h", y: -0.25 },
      margin: { l: 60, r: 70, t: 10, b: 80 }, yaxis: { title: { text: "ms" } },
      yaxis2: { title: { text: "output tokens/s" }, overlaying: "y", side: "right" } }), CONFIG);
  },
};

function drawCharts() {
  const dataEl = $("#chart-data");
  if (!dataEl) return;
  if (typeof Plotly === "undefined") {
    $all("[data-chart]").forEach((el) => { el.textContent = "Charts need plotly.js, which did not load."; });
    return;
  }
  const data = JSON.parse(dataEl.textContent);
  $all("[data-chart]").forEach((el) => {
    const draw = CHARTS[el.dataset.chart];
    try { if (draw) draw(el, data); } catch (err) { el.textContent = "Chart failed: " + err; }
  });
}

/* ---------- benchmark upload and calibration profiles ---------- */

function readFile(input) {
  return new Promise((resolve, reject) => {
    const f = input.files && input.files[0];
    if (!f) { resolve(null); return; }
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(f);
  });
}

function wireBenchUpload() {
  const form = $("#bench-upload");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    let summary;
    try {
      const text = await readFile($("#f-summary"));
      if (text === null) { showFieldErrors(form, [{ field: "summary", msg: "choose the run's summary.json" }]); return; }
      summary = JSON.parse(text);
    } catch (err) {
      showFieldErrors(form, [{ field: "summary", msg: "not a JSON file (" + err.message + ")" }]);
      return;
    }
    const body = { summary };
    const records = await readFile($("#f-records"));
    if (records) body.records_jsonl = records;
    const name = $("#f-name").value.trim();
    if (name) body.name = name;
    const r = await api("POST", API + "/bench-runs", body);
    if (r.status === 201) { window.location = "/ui/bench/" + r.data.id; return; }
    if (r.status === 422 && Array.isArray(r.data.detail)) {
      showFieldErrors(form, r.data.detail.map((d) => ({
        field: d.loc && d.loc[1] === "summary" ? "summary" : d.field, msg: (d.loc && d.loc[1] === "summary" && d.field !== "summary" ? d.field + ": " : "") + d.msg,
      })));
      return;
    }
    showPageError(detailText(r.data));
  });
}

function wireCalibrations() {
  const form = $("#calibration-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {};
    $all("[data-key]", form).forEach((el) => { body[el.dataset.key] = el.value.trim(); });
    try { body.parameters = JSON.parse(body.parameters || "{}"); } catch (err) {
      showFieldErrors(form, [{ field: "parameters", msg: "not JSON: " + err.message }]);
      return;
    }
    const r = await api("POST", API + "/calibrations", body);
    if (r.status === 201) { window.location.reload(); return; }
    if (r.status === 422 && Array.isArray(r.data.detail)) { showFieldErrors(form, r.data.detail); return; }
    showPageError(detailText(r.data));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wireButtons();
  wireEditor();
  wireProgress();
  wireBenchUpload();
  wireCalibrations();
  drawCharts();
});
