import type { Server } from "node:http";
import { ConfigError } from "@apimon/config";
import { createLogger, createMetricsRegistry, type Logger, type Registry } from "@apimon/observability";
import { createShutdown, type RunningServer, type ShutdownStep, startServer } from "./server";

/** What every service's config has: logging, the shutdown deadline and where to listen. */
export interface ServiceConfig {
  logLevel: string;
  shutdownTimeoutMs: number;
  port: number;
  host: string;
}

/** What a service's wiring gets from the skeleton. */
export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
  /** True from the first shutdown step on: /readyz fails before anything closes. */
  isShuttingDown: () => boolean;
}

/** A service's own parts, as its main.ts wires them. */
export interface ServiceParts {
  /** The HTTP app, health routes included, served on config.port and config.host. */
  app?: { fetch: (request: Request) => Response | Promise<Response> };
  /** Starts the service's server itself instead (the edge's admin port). */
  listen?: () => Promise<RunningServer>;
  /** Called with the app's node server before it listens (an 'upgrade' listener). */
  configureServer?: (server: Server) => void;
  /**
   * Close the server after the other steps rather than first: a probe port that must keep
   * answering while the traffic port drains.
   */
  closeServerLast?: boolean;
  /** Shutdown steps after the server stopped accepting, in their order. */
  stop?: ShutdownStep[];
  /** Starts the background work, once the server listens and SIGTERM is handled. */
  start?: (server: RunningServer) => Promise<void> | void;
  /** The line logged once started (the server's port is added), if any. */
  started?: { message: string; fields?: Record<string, unknown> };
}

/**
 * Runs a service: loads its config, makes its logger and metrics registry, lets `wire` build
 * its parts, serves its app, starts it, and shuts it down in the fixed order on SIGTERM or
 * SIGINT (fail readiness → close the server → the service's own steps, under one deadline).
 * A failure to start is written to stderr (a ConfigError's message lists every bad variable;
 * a stack would only hide it) and exits 1.
 */
export function runService<C extends ServiceConfig>(
  name: string,
  loadConfig: () => C,
  wire: (context: ServiceContext<C>) => ServiceParts | Promise<ServiceParts>,
): Promise<void> {
  return startService(name, loadConfig, wire).catch((error: unknown) => {
    const detail =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`${name} failed to start: ${detail}\n`);
    process.exit(1);
  });
}

async function startService<C extends ServiceConfig>(
  name: string,
  loadConfig: () => C,
  wire: (context: ServiceContext<C>) => ServiceParts | Promise<ServiceParts>,
): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: name, level: config.logLevel });
  const registry = createMetricsRegistry(name);
  let shuttingDown = false;
  const parts = await wire({ config, logger, registry, isShuttingDown: () => shuttingDown });
  const { app, listen } = parts;
  if (!app && !listen) throw new Error(`${name}: the service has neither an app nor a server`);
  const server = listen
    ? await listen()
    : await startServer(app as NonNullable<typeof app>, {
        port: config.port,
        hostname: config.host,
        configure: parts.configureServer,
      });
  const closeServer: ShutdownStep = { name: "close server", run: () => server.close() };
  const failReadiness: ShutdownStep = {
    name: "fail readiness",
    run: () => {
      shuttingDown = true;
    },
  };
  const own = parts.stop ?? [];
  const shutdown = createShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: parts.closeServerLast
      ? [failReadiness, ...own, closeServer]
      : [failReadiness, closeServer, ...own],
  });
  shutdown.installSignalHandlers();
  await parts.start?.(server);
  if (parts.started) logger.info({ port: server.port, ...parts.started.fields }, parts.started.message);
}
