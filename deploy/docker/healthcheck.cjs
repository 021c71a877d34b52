// Container healthcheck for the HTTP services: exits 0 when GET <url> answers 2xx, 1 otherwise.
// The slim Node image has neither curl nor wget, and node's own fetch needs no dependency.
// Usage (compose): test: ["CMD", "node", "/opt/apimon/healthcheck.cjs", "http://127.0.0.1:8090/readyz"]
// The first part of the body is printed so `docker inspect` shows which readiness check failed.
"use strict";

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: node healthcheck.cjs <url>\n");
  process.exit(2);
}
// Below compose's `timeout`, so a hung service reads as unhealthy with a reason, not as a kill.
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS) || 4000;

fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  .then(async (res) => {
    const body = (await res.text()).slice(0, 1000);
    process.stdout.write(`${res.status} ${body}\n`);
    process.exit(res.ok ? 0 : 1);
  })
  .catch((error) => {
    // undici reports "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`.
    const cause = error?.cause?.code ?? error?.cause?.message;
    process.stdout.write(`${url}: ${error?.message ?? String(error)}${cause ? ` (${cause})` : ""}\n`);
    process.exit(1);
  });
