import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

// The console's own stylesheet and script, and Chart.js from node_modules: everything is served
// from this origin (air-gapped installs work, and the CSP can say 'self' and nothing else).

export const CONSOLE_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#f5f6f8; --card:#fff; --accent:#2f5bd3;
  --crit:#c62828; --warn:#b26a00; --ok:#2e7d32; --info:#455a64; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
.visually-hidden { position:absolute; width:1px; height:1px; margin:-1px; overflow:hidden; clip-path:inset(50%); white-space:nowrap; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.5rem; background:#1d2330; color:#fff; }
header.top .brand { font-weight:700; font-size:16px; color:#fff; letter-spacing:.02em; }
header.top nav { display:flex; gap:.2rem; flex:1; flex-wrap:wrap; }
header.top nav a { color:#c9d1e3; padding:.35rem .7rem; border-radius:6px; }
header.top nav a.active, header.top nav a:hover { background:#323b50; color:#fff; text-decoration:none; }
header.top form { margin:0; }
main { max-width:1280px; margin:0 auto; padding:1.2rem 1.5rem 3rem; }
h1 { font-size:22px; margin:.2rem 0 1rem; overflow-wrap:anywhere; } h2 { font-size:16px; margin:1.5rem 0 .6rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem 1.2rem; margin-bottom:1rem; }
.card > h2:first-child { margin-top:0; }
.grid .field input:not([type=checkbox]):not([type=number]), .grid .field select { width:100%; }
td.message a { color:inherit; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(140px,1fr)); gap:.8rem; margin-bottom:1rem; }
a.stat { color:inherit; text-decoration:none; } a.stat:hover { border-color:var(--accent); }
.stat { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:.8rem 1rem; }
.stat .n { font-size:26px; font-weight:700; } .stat .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.05em; }
.stat.critical .n { color:var(--crit); } .stat.warning .n { color:var(--warn); }
table { border-collapse:collapse; width:100%; background:var(--card); }
.table { border:1px solid var(--line); border-radius:10px; overflow:auto; margin-bottom:1rem; }
th, td { text-align:left; padding:.5rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfc; }
tr:last-child td { border-bottom:0; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
/* Text the APIs hold (an email, a name, an endpoint) may be one long word: it wraps anywhere rather
   than widen its table past the page. Numbers, times and the short values a machine made (ids, key
   prefixes, addresses: td.whole) keep their words whole, or a long word beside them would squeeze
   them to a letter a line. */
td { overflow-wrap:anywhere; } td.num, td.whole, td time { overflow-wrap:normal; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:12px; font-weight:600; border:1px solid transparent; white-space:nowrap; }
.badge.critical { background:#fdecea; color:var(--crit); border-color:#f5c2bd; }
.badge.warning { background:#fff4e0; color:var(--warn); border-color:#f3d7a6; }
.badge.firing { background:#fdecea; color:var(--crit); } .badge.acknowledged { background:#e8eefc; color:var(--accent); }
.badge.resolved, .badge.succeeded, .badge.on { background:#e7f4e8; color:var(--ok); }
.badge.failed, .badge.off, .badge.expired { background:#eceff1; color:var(--info); }
.badge.silenced, .badge.active { background:#f3e5f5; color:#7b1fa2; } .badge.held { background:#eef2f7; color:#475569; } .badge.pending { background:#e8eefc; color:var(--accent); }
.muted { color:var(--muted); } .small { font-size:12px; }
.mono, code { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; }
form.bulk { display:flex; gap:.6rem; align-items:flex-end; flex-wrap:wrap; margin-bottom:.8rem; } form.bulk > * { min-width:0; max-width:100%; }
form.bulk .note { flex:1 1 18rem; } form.bulk .note input { width:100%; }
th.select, td.select { width:1%; padding-right:0; }
label.tick { display:inline-flex; align-items:center; margin:0; cursor:pointer; } label.tick input { width:1.05rem; height:1.05rem; margin:0; padding:0; }
form.filters { display:flex; gap:.6rem; align-items:flex-end; flex-wrap:wrap; margin-bottom:1rem; } form.filters > * { min-width:0; max-width:100%; }
label { display:block; font-size:12px; color:var(--muted); margin-bottom:.2rem; }
input, select, textarea { font:inherit; padding:.4rem .5rem; border:1px solid #c9cfd9; border-radius:6px; background:#fff; color:var(--fg); }
input, select, textarea { max-width:100%; }
.hint .mono { white-space:nowrap; } fieldset.scope label { display:inline-block; margin-right:1.2rem; } input[type=number] { width:8rem; } input.wide { width:100%; } table.silences button { white-space:nowrap; } textarea { width:100%; min-height:4rem; }
button, .button { font:inherit; padding:.42rem .9rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; display:inline-block; }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button.danger { background:#fff; color:var(--crit); border-color:#e3a19b; }
header.top button { background:transparent; border-color:#59627a; color:#c9d1e3; padding:.3rem .7rem; }
/* Who signed in: a long operator name ends in an ellipsis (whole in its title), the role stays. */
header.top .who { display:flex; min-width:0; max-width:24rem; color:#c9d1e3; font-size:12.5px; white-space:nowrap; }
header.top .who-name { min-width:0; overflow:hidden; text-overflow:ellipsis; } header.top .who-role { flex:none; white-space:pre; }
.read-only, .warning-box { padding:.6rem .9rem; border-radius:8px; margin-bottom:1rem; background:#fff4e0; border:1px solid #f3d7a6; }
tr.revoked td { color:var(--muted); } .badge.revoked { background:#eceff1; color:var(--info); }
.field { margin-bottom:.8rem; }
.field .error, .error { color:var(--crit); font-size:12.5px; margin-top:.2rem; }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(260px,1fr)); gap:1rem; }
fieldset { border:1px solid var(--line); border-radius:10px; padding:.6rem 1rem .2rem; margin:0 0 1rem; background:var(--card); }
legend { font-weight:600; padding:0 .3rem; }
fieldset.read-only-form { border:0; padding:0; margin:0; background:none; min-width:0; }
.notice { padding:.6rem .9rem; border-radius:8px; margin-bottom:1rem; background:#e7f4e8; border:1px solid #b9dfbc; }
.alert-box { padding:.6rem .9rem; border-radius:8px; margin-bottom:1rem; background:#fdecea; border:1px solid #f5c2bd; }
.secret { display:flex; gap:.5rem; align-items:center; } .secret code { padding:.4rem .6rem; background:#f0f2f6; border-radius:6px; word-break:break-all; }
.pager { display:flex; gap:.6rem; align-items:center; }
ul.changes { list-style:none; margin:.3rem 0 0; padding:0; font-size:12.5px; color:var(--muted); } ul.changes li { overflow-wrap:anywhere; }
details.changes summary { cursor:pointer; font-size:12px; color:var(--accent); } form.filters .target { padding:.45rem 0; }
.spaced { margin-top:.8rem; }
.actions { display:flex; gap:.4rem; flex-wrap:wrap; } .actions form { margin:0; }
/* A change of one field of a row (an operator's role or name): its control and button on one line. */
form.inline { display:flex; gap:.4rem; align-items:center; flex-wrap:wrap; margin:0; } form.inline input { flex:1 1 10rem; min-width:0; }
form.inline.role { flex-wrap:nowrap; } form.inline button { white-space:nowrap; }
details.rename > summary { list-style:none; } details.rename > summary::-webkit-details-marker { display:none; }
details.rename[open] { order:1; flex-basis:100%; } details.rename[open] > form { margin-top:.4rem; }
.chart { position:relative; height:240px; }
/* A key's three limits share one line: in a narrow card (a third of the page, or a phone) the
   fields narrow together rather than leave "Per day" alone on a second line. */
.limits { display:flex; gap:.4rem; } .limits .field { flex:0 1 8rem; min-width:0; } .limits input[type=number] { width:100%; }
dl.facts { display:grid; grid-template-columns:max-content minmax(0,1fr); gap:.3rem 1rem; margin:0; } dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; overflow-wrap:anywhere; }
.signin { max-width:380px; margin:10vh auto; }
.signin h1 { text-align:center; } .signin input { width:100%; } .signin button { width:100%; margin-top:.6rem; }
.tabs { display:flex; gap:.3rem; margin-bottom:1rem; } .tabs a { padding:.3rem .8rem; border:1px solid var(--line); border-radius:6px; background:#fff; }
.tabs a.active { background:var(--accent); color:#fff; border-color:var(--accent); }
.message { white-space:pre-wrap; word-break:break-word; }
td[data-label] .label { display:none; }
/* A phone: the menu takes its own row below the brand, and a list of alerts becomes one block
   per alert, its message across the whole width, so it reads without scrolling sideways. */
@media (max-width: 640px) {
  header.top { flex-wrap:wrap; gap:.4rem 1rem; padding:.5rem 1rem; }
  /* Who signed in takes the room between the brand and Sign out, however long the name. */
  header.top .who { flex:1 1 0; justify-content:flex-end; }
  header.top nav { order:3; flex-basis:100%; }
  main { padding:1rem 1rem 2rem; }
  table.alerts thead { display:none; }
  table.alerts tr { display:flex; flex-wrap:wrap; align-items:baseline; gap:.3rem .6rem; padding:.6rem .8rem; border-bottom:1px solid var(--line); }
  table.alerts tr:last-child { border-bottom:0; }
  table.alerts td { border:0; padding:0; }
  table.alerts td.message { order:1; flex-basis:100%; }
  table.alerts td[data-label] { order:2; color:var(--muted); font-size:12.5px; }
  table.alerts td[data-label] .label { display:inline; }
  table.alerts td.num { text-align:left; }
  table.alerts td.select { width:auto; align-self:center; }
  table.alerts td.select:empty { display:none; }
  /* The checkbox keeps its place but takes taps from a thumb-sized square around it. */
  table.alerts label.tick { padding:.5rem; margin:-.5rem 0 -.5rem -.5rem; }
  /* Without its header row, "select all" heads the list as a row of its own, in words. */
  table.alerts thead:has(label.tick:not([hidden])) { display:block; }
  table.alerts thead th:not(.select) { display:none; }
  table.alerts thead th.select { width:auto; padding:0; border:0; background:none; }
  table.alerts th.select .visually-hidden { position:static; width:auto; height:auto; margin:0 0 0 .5rem; overflow:visible; clip-path:none; }
  table.stack thead { display:none; }
  table.stack tr { display:block; padding:.5rem .8rem; border-bottom:1px solid var(--line); }
  table.stack tr:last-child { border-bottom:0; }
  /* A value flows as text beside its label (a name and "(you)", a badge and a time, on one line
     as far as they fit), the label floated into the cell's left padding. */
  table.stack td { display:block; border:0; padding:.15rem 0; text-align:left; overflow-wrap:anywhere; }
  table.stack td[data-label] { display:flow-root; padding-left:7.25rem; }
  table.stack td[data-label]::before { content:attr(data-label); float:left; width:6.5rem; margin-left:-7.25rem; color:var(--muted); font-size:12.5px; line-height:calc(14px * 1.45); }
  table.stack td:empty { display:none; }
}
`;

export const CONSOLE_JS = `
"use strict";
// Copy buttons, confirmations, local times, "select all", auto-refresh of the live regions, and charts.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; }, () => { button.textContent = "Select and copy"; });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const d = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(d.getTime())) { el.title = el.textContent; el.textContent = d.toLocaleString(); }
  }
}
localTimes(document);
// Date-time fields marked data-utc hold UTC (what the server reads and writes): shown and typed in
// the browser's time zone, named in their label, and turned back into UTC as their form is sent.
const pad = (n) => String(n).padStart(2, "0");
const localField = (d) =>
  d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time";
for (const input of document.querySelectorAll("input[type=datetime-local][data-utc]")) {
  const utc = new Date(input.value + ":00Z");
  if (input.value && !Number.isNaN(utc.getTime())) input.value = localField(utc);
  for (const label of input.labels) for (const name of label.querySelectorAll("[data-time-zone]")) name.textContent = zone;
}
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  for (const input of event.target.querySelectorAll("input[type=datetime-local][data-utc]")) {
    const local = new Date(input.value);
    if (input.value && !Number.isNaN(local.getTime())) input.value = local.toISOString().slice(0, 16);
  }
});
// "Select all" in a table's header ticks or clears every box of its rows. Shown only with this
// script, and only while the table has a row to tick.
function selectAll(root) {
  for (const all of root.querySelectorAll("[data-select-all]")) {
    const boxes = [...all.closest("table").querySelectorAll("tbody input[type=checkbox]")];
    const ticked = boxes.filter((box) => box.checked).length;
    all.closest("label").hidden = boxes.length === 0;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
}
selectAll(document);
// A form whose checkboxes sit in a table elsewhere (by their form attribute) shows only while it has one.
function joinedForms() {
  for (const form of document.querySelectorAll("form[data-joined-by-boxes]")) {
    form.hidden = !document.querySelector('input[type=checkbox][form="' + form.id + '"]');
  }
}
document.addEventListener("change", (event) => {
  const table = event.target.closest("table");
  if (!table || !table.querySelector("[data-select-all]")) return;
  if (event.target.matches("[data-select-all]")) {
    for (const box of table.querySelectorAll("tbody input[type=checkbox]")) box.checked = event.target.checked;
  }
  selectAll(table);
});
// A checkbox across a refresh: the row's by its name and value, the header's "select all" by itself.
const tickKey = (box) => (box.matches("[data-select-all]") ? "select all" : box.name + "=" + box.value);
const refresh = Number(document.body.dataset.refresh || 0);
if (refresh > 0) {
  // Regions marked data-live are replaced by their fresh copies; forms outside them keep their input.
  // A box ticked in a region is ticked in its fresh copy (same name and value: the alerts ticked to
  // acknowledge), and keeps the focus; a box whose row left the list goes with it.
  // A form sent (signing out, acknowledging) takes the page elsewhere: a refresh answered after it
  // must not replace that navigation, as a refresh that finds the session ended would.
  // A page the browser brings back from its history (Back) refreshes again.
  let leaving = false;
  document.addEventListener("submit", (event) => { if (!event.defaultPrevented) leaving = true; });
  window.addEventListener("pageshow", (event) => { if (event.persisted) leaving = false; });
  setInterval(async () => {
    if (document.hidden || leaving) return;
    try {
      const res = await fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin" });
      if (leaving) return;
      // The session ended (signed out elsewhere, or its token revoked): the page says so at sign-in.
      if (res.redirected && new URL(res.url).pathname === "/sign-in") { location.assign(res.url); return; }
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      for (const live of document.querySelectorAll("[data-live][id]")) {
        const fresh = doc.getElementById(live.id);
        if (!fresh) continue;
        const ticked = new Set([...live.querySelectorAll("input[type=checkbox][name]:checked")].map(tickKey));
        const active = document.activeElement;
        const focused = live.contains(active) && active.matches("input[type=checkbox]") ? tickKey(active) : undefined;
        live.replaceWith(document.adoptNode(fresh));
        for (const box of fresh.querySelectorAll("input[type=checkbox][name]")) {
          if (ticked.has(tickKey(box))) box.checked = true;
        }
        localTimes(fresh);
        selectAll(fresh);
        joinedForms();
        for (const box of fresh.querySelectorAll("input[type=checkbox]")) if (tickKey(box) === focused) box.focus();
      }
    } catch (e) { /* the next tick tries again */ }
  }, refresh * 1000);
}
const palette = ["#2f5bd3", "#c62828", "#b26a00", "#2e7d32", "#7b1fa2", "#00838f", "#6d4c41"];
for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
  const stacked = spec.stacked === true;
  new Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d, i) => ({
        label: d.label, data: d.data, borderColor: d.color || palette[i % palette.length],
        backgroundColor: (d.color || palette[i % palette.length]) + (spec.type === "line" ? "22" : "cc"),
        borderWidth: spec.type === "line" ? 2 : 0, pointRadius: spec.type === "line" ? 2.5 : 0, tension: 0.25, fill: spec.type === "line" && !stacked ? false : undefined,
        spanGaps: true,
      })),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked, ticks: { maxTicksLimit: 12, autoSkip: true } },
        y: { stacked, beginAtZero: true, title: { display: !!spec.yTitle, text: spec.yTitle || "" } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
}
`;

/** Chart.js's UMD build from this service's node_modules (read once at startup). */
export function loadChartJs(): string {
  const entry = require.resolve("chart.js");
  return readFileSync(join(dirname(entry), "chart.umd.min.js"), "utf8");
}
