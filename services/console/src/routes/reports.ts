import { alertSeverities, alertTypes } from "@apimon/events";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, keyNames, type PageDeps } from "../context";
import { typeLabel } from "../views/format";
import { chart, duration, mayChange, namedLink, page } from "../views/layout";
import { ESTIMATED_RESPONSE_TIMES, rangeOf, rangeTabs, USAGE_RANGES, usageCharts } from "./keys";

const DAY_MS = 86_400_000;
/** A usage bucket's length, for each granularity the usage ranges ask for. */
const BUCKET_MS: Record<(typeof USAGE_RANGES)[keyof typeof USAGE_RANGES]["granularity"], number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
};
/** A response time in whole milliseconds, or a dash without requests. */
const millis = (value: number | null) => (value === null ? "—" : `${Math.round(value)} ms`);

const SEVERITY_COLORS: Record<string, string> = { warning: "#b26a00", critical: "#c62828" };
const isDay = (v: string | undefined): v is string => /^\d{4}-\d{2}-\d{2}$/.test(v ?? "");

/** Alert reports (per day by type and severity, time to acknowledge and resolve) and the usage summary. */
export function createReportPages({ alerts, keys, clock }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  routes.get("/reports", async (c) => {
    const now = clock();
    const from = isDay(c.req.query("from"))
      ? (c.req.query("from") as string)
      : new Date(now.getTime() - 29 * DAY_MS).toISOString().slice(0, 10);
    const to = isDay(c.req.query("to")) ? (c.req.query("to") as string) : now.toISOString().slice(0, 10);
    const report = await alerts.report({
      from: `${from}T00:00:00.000Z`,
      to: new Date(Date.parse(`${to}T00:00:00.000Z`) + DAY_MS).toISOString(),
    });
    const topKeys = report.byApiKey.slice(0, 10);
    const names = await keyNames(
      keys,
      topKeys.map((k) => k.apiKeyId),
    );
    const labels = report.byDay.map((d) => d.day.slice(5));
    // The link opens the settings form with the endpoint's override filled in: no use to a viewer.
    const setThresholds = (endpoint: string) =>
      mayChange(c.get("signedIn"))
        ? html`<a href="/settings?${new URLSearchParams({ endpoint })}#overrides">Set thresholds</a>`
        : "";
    const stat = (n: string | number, label: string, cls = "") =>
      html`<div class="stat ${cls}"><div class="n">${n}</div><div class="l">${label}</div></div>`;
    const body = html`<h1>Reports</h1>
<form class="filters" method="get" action="/reports">
<div><label for="f-from">From</label><input id="f-from" type="date" name="from" value="${from}"></div>
<div><label for="f-to">To</label><input id="f-to" type="date" name="to" value="${to}"></div>
<div><button type="submit">Show</button></div></form>
<div class="cards">
${stat(report.total, "alerts opened")}
${stat(report.bySeverity.critical ?? 0, "critical", "critical")}
${stat(report.bySeverity.warning ?? 0, "warning", "warning")}
${stat(duration(report.timeToAcknowledge.medianSeconds), `median time to acknowledge (${report.timeToAcknowledge.count})`)}
${stat(duration(report.timeToAcknowledge.meanSeconds), "mean time to acknowledge")}
${stat(duration(report.timeToResolve.medianSeconds), `median time to resolve (${report.timeToResolve.count})`)}
${stat(duration(report.timeToResolve.meanSeconds), "mean time to resolve")}
</div>
<div class="grid">
${chart("chart-by-type", "Alerts per day by type", {
  type: "bar",
  stacked: true,
  labels,
  datasets: alertTypes.map((t) => ({ label: typeLabel(t), data: report.byDay.map((d) => d.byType[t] ?? 0) })),
})}
${chart("chart-by-severity", "Alerts per day by severity", {
  type: "bar",
  stacked: true,
  labels,
  datasets: alertSeverities.map((s) => ({
    label: s,
    data: report.byDay.map((d) => d.bySeverity[s] ?? 0),
    color: SEVERITY_COLORS[s],
  })),
})}
</div>
<div class="grid">
<div class="card"><h2>By type</h2><table>${alertTypes.map(
      (t) =>
        html`<tr><td><a href="/history?${new URLSearchParams({ type: t, from, to, status: "resolved" })}">${typeLabel(t)}</a></td><td class="num">${report.byType[t] ?? 0}</td></tr>`,
    )}</table></div>
<div class="card"><h2>By status</h2><table>${Object.entries(report.byStatus).map(
      ([s, n]) => html`<tr><td>${s}</td><td class="num">${n}</td></tr>`,
    )}</table></div>
<div class="card"><h2>Keys with most alerts</h2>${
      report.byApiKey.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table>${topKeys.map(
            (k) =>
              html`<tr><td>${k.apiKeyId === null ? "no key (by IP)" : namedLink("/keys", k.apiKeyId, names)}</td><td class="num">${k.count}</td></tr>`,
          )}</table>`
    }</div>
</div>
<div class="card"><h2>Endpoints with most alerts</h2>
<p class="muted small">Alerts that resolved before anyone acknowledged them often mean a threshold too strict for the endpoint: give it thresholds of its own.</p>${
      report.byEndpoint.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<div class="table"><table class="stack"><thead><tr><th>Endpoint</th><th class="num">Alerts</th><th class="num">Response time</th><th class="num">Error rate</th><th class="num">Resolved unacknowledged</th><th></th></tr></thead><tbody>${report.byEndpoint.map(
            (e) =>
              html`<tr><td class="mono" data-label="Endpoint">${e.endpoint}</td><td class="num" data-label="Alerts">${e.count}</td><td class="num" data-label="Response time">${e.responseTime}</td><td class="num" data-label="Error rate">${e.errorRate}</td><td class="num" data-label="Self-resolved">${e.resolvedUnacknowledged}</td><td>${setThresholds(e.endpoint)}</td></tr>`,
          )}</tbody></table></div>`
    }</div>`;
    return c.html(
      page({ title: "Reports", section: "/reports", signedIn: c.get("signedIn"), charts: true }, body),
    );
  });

  routes.get("/usage", async (c) => {
    const range = rangeOf(c.req.query("range"));
    const now = clock().getTime();
    // One user's traffic, or the whole stack's.
    const userParam = c.req.query("userId") ?? "";
    const userId = /^[1-9]\d{0,9}$/.test(userParam) ? Number(userParam) : undefined;
    const { ms, granularity } = USAGE_RANGES[range];
    // The charts' first bucket starts before now - ms (the API rounds down to whole buckets): the
    // totals start there too, so that they add up to what the charts draw.
    const step = BUCKET_MS[granularity];
    const from = new Date(Math.floor((now - ms) / step) * step).toISOString();
    const to = new Date(now).toISOString();
    const [summary, usage, user] = await Promise.all([
      keys.usageSummary({ from, to, limit: 20, userId }),
      keys.usage({ from, to, granularity, userId }),
      userId === undefined ? undefined : keys.getUser(userId),
    ]);
    const stat = (n: string | number, label: string, cls = "") =>
      html`<div class="stat ${cls}"><div class="n">${n}</div><div class="l">${label}</div></div>`;
    const body = html`${
      user
        ? html`<p><a href="/users/${user.id}">« ${user.name}</a></p><h1>Usage of ${user.name}'s keys</h1>`
        : html`<h1>Usage across the stack</h1>`
    }
${rangeTabs("/usage", range, user ? { userId: String(user.id) } : {})}
<div class="cards">
${stat(summary.requests, "requests")}
${stat(summary.errors, "5xx errors", "critical")}
${
  // In words that read the same upper-cased, as labels are shown: "429s" would read "429S".
  stat(summary.clientErrors, "4xx errors, rate limits included", "warning")
}
${stat(`${(summary.errorRate * 100).toFixed(2)} %`, "error rate")}
</div>
${usageCharts(usage.buckets, range)}
<div class="grid">
<div class="card"><h2>Busiest keys</h2>${
      summary.topKeys.length === 0
        ? html`<p class="muted">No traffic in this range.</p>`
        : html`<div class="table"><table class="stack"><thead><tr><th>Key</th><th class="num">Requests</th><th class="num">5xx</th><th class="num">p95</th></tr></thead><tbody>${summary.topKeys.map(
            (k) =>
              html`<tr><td data-label="Key"><a href="/keys/${k.keyId}?range=${range}">${k.name ?? `#${k.keyId}`}</a></td><td class="num" data-label="Requests">${k.requests}</td><td class="num" data-label="5xx">${k.errors}</td><td class="num" data-label="p95">${millis(k.p95ResponseTimeMs)}</td></tr>`,
          )}</tbody></table></div>`
    }</div>
<div class="card"><h2>Busiest endpoints</h2>${
      summary.topEndpoints.length === 0
        ? html`<p class="muted">No traffic in this range.</p>`
        : html`<div class="table"><table class="stack"><thead><tr><th>Endpoint</th><th class="num">Requests</th><th class="num">5xx</th><th class="num">p95</th></tr></thead><tbody>${summary.topEndpoints.map(
            (e) =>
              html`<tr><td class="mono" data-label="Endpoint">${e.method} ${e.endpoint}</td><td class="num" data-label="Requests">${e.requests}</td><td class="num" data-label="5xx">${e.errors}</td><td class="num" data-label="p95">${millis(e.p95ResponseTimeMs)}</td></tr>`,
          )}</tbody></table></div>`
    }</div>
</div>
<p class="muted">${
      granularity === "minute"
        ? "The busiest keys' and endpoints' p95 is estimated from latency histograms, within 9%."
        : ESTIMATED_RESPONSE_TIMES
    }</p>`;
    return c.html(
      page({ title: "Usage", section: "/usage", signedIn: c.get("signedIn"), charts: true }, body),
    );
  });

  return routes;
}
