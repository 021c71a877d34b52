import { ConfigError } from "@apimon/config";
import { createShutdown, startServer } from "@apimon/http";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "demo-upstream", level: config.logLevel });
  const registry = createMetricsRegistry("demo-upstream");
  let shuttingDown = false;
  const app = createApp({ logger, registry, slowMs: config.slowMs, isShuttingDown: () => shuttingDown });
  const server = await startServer(app, { port: config.port, hostname: config.host });
  const shutdown = createShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      {
        name: "fail readiness",
        run: () => {
          shuttingDown = true;
        },
      },
      { name: "close server", run: () => server.close() },
    ],
  });
  shutdown.installSignalHandlers();
  logger.info({ port: server.port }, "demo upstream listening");
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`demo-upstream failed to start: ${detail}\n`);
  process.exit(1);
});
