// The baseline of `pnpm bench:edge`: the edge's own upstream proxy (createUpstreamProxy) behind a
// plain node HTTP server configured like the edge's, with no authentication, no rate limiting and
// no usage events. The edge's throughput and latency over this one is what its own work costs.
//
// Env: BARE_PROXY_PORT (default 0: any free port, printed), UPSTREAM_URL, UPSTREAM_TIMEOUT_MS
// and UPSTREAM_CONNECTIONS (the edge's variables and defaults).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_PORTS, envTypes, parseEnv } from "@apimon/config";
import { createUpstreamProxy } from "../../services/edge/src/proxy/upstream-proxy";

function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      BARE_PROXY_PORT: envTypes.port(0),
      UPSTREAM_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.demoUpstream}`),
      UPSTREAM_TIMEOUT_MS: envTypes.positiveInt(30_000),
      UPSTREAM_CONNECTIONS: envTypes.positiveInt(128),
    },
    env,
  );
  return {
    port: raw.BARE_PROXY_PORT,
    upstream: {
      url: raw.UPSTREAM_URL,
      timeoutMs: raw.UPSTREAM_TIMEOUT_MS,
      connections: raw.UPSTREAM_CONNECTIONS,
    },
  };
}

function main(): void {
  const config = loadConfig();
  const proxy = createUpstreamProxy({
    upstreamUrl: config.upstream.url,
    timeoutMs: config.upstream.timeoutMs,
    connections: config.upstream.connections,
  });
  // The same server options as the edge's (services/edge/src/server.ts).
  const server = createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 300_000, headersTimeout: 30_000 },
    (req, res) => {
      if (req.url === "/readyz") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
        return;
      }
      const address = req.socket.remoteAddress ?? "unknown";
      const clientIp = address.startsWith("::ffff:") ? address.slice(7) : address;
      void proxy.forward(req, res, { clientIp });
    },
  );
  server.keepAliveTimeout = 10_000;
  server.listen(config.port, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ msg: "bare proxy listening", port })}\n`);
  });

  const stop = () => {
    server.close(() => {
      void proxy.close().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main();
