import { createHash } from "node:crypto";

// The web console: one static page, no build step. It lists active alerts and acknowledges
// them through the API with the admin token the operator types (kept in sessionStorage only,
// for this tab). Rows are built with textContent, never innerHTML, so alert messages cannot
// inject markup; the Content-Security-Policy admits only this page's own script and style.

export const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
header { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-bottom: 1rem; }
input { padding: .3rem; } button { padding: .3rem .7rem; cursor: pointer; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.critical { color: #b00020; font-weight: 600; } .warning { color: #a15c00; font-weight: 600; }
#status { color: #555; }
`;

export const SCRIPT = `
const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem("apimon.token") || "";
$("token").value = token();
$("save").onclick = () => { sessionStorage.setItem("apimon.token", $("token").value.trim()); load(); };
async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: "Bearer " + token(), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(res.status + " " + (data.detail || res.statusText));
  return data;
}
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
async function load() {
  if (!token()) { $("status").textContent = "Enter the admin token."; return; }
  try {
    const page = await api("GET", "/api/v1/alerts?limit=100");
    const body = $("alerts");
    body.replaceChildren();
    for (const a of page.items) {
      const row = document.createElement("tr");
      cell(row, a.id);
      cell(row, a.severity, a.severity);
      cell(row, a.type);
      cell(row, a.status);
      cell(row, a.message);
      cell(row, a.occurrences);
      cell(row, new Date(a.lastSeenAt).toLocaleString());
      const actions = cell(row, "");
      if (a.status === "firing") {
        const button = document.createElement("button");
        button.textContent = "Acknowledge";
        button.onclick = async () => {
          button.disabled = true;
          const by = $("by").value.trim();
          try { await api("POST", "/api/v1/alerts/" + a.id + "/acknowledge", by ? { by } : {}); }
          catch (e) { $("status").textContent = e.message; }
          load();
        };
        actions.appendChild(button);
      } else {
        actions.textContent = "by " + (a.acknowledgedBy || "someone");
      }
      body.appendChild(row);
    }
    $("status").textContent = page.items.length + " active alert(s), updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("status").textContent = e.message;
  }
}
load();
setInterval(load, 10000);
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>apimon alerts</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <strong>apimon alerts</strong>
  <input id="token" type="password" placeholder="admin token" autocomplete="off" size="28">
  <button id="save">Use token</button>
  <input id="by" placeholder="your name (for acknowledgements)" size="28">
  <span id="status"></span>
</header>
<table>
  <thead><tr><th>#</th><th>Severity</th><th>Type</th><th>Status</th><th>Message</th><th>Count</th><th>Last seen</th><th></th></tr></thead>
  <tbody id="alerts"></tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Headers for the console page: only its own inline script and style run; API calls go to this origin. */
export const CONSOLE_HEADERS: Record<string, string> = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};
