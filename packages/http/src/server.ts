import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@apimon/observability";
import { serve } from "@hono/node-server";

export interface RunningServer {
  readonly port: number;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

/** Listens on `port` (0 picks a free one) and resolves once the socket is bound. */
export function startServer(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  {
    port,
    hostname = "0.0.0.0",
    configure,
  }: { port: number; hostname?: string; configure?: (server: Server) => void },
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }) as Server;
    configure?.(server);
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      // Keep-alive sockets would hold close() open for their whole idle timeout.
      server.keepAliveTimeout = 5000;
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}

export interface ShutdownStep {
  name: string;
  run: () => unknown;
}

/**
 * Runs shutdown steps in their fixed order (fail readiness → stop accepting → flush producers →
 * close database and Redis) under one hard timeout, then exits. A failing step is logged and
 * the rest still run: a broken Redis must not keep Kafka unflushed.
 */
export function createShutdown({
  logger,
  timeoutMs,
  steps,
  exit = (code: number) => process.exit(code),
}: {
  logger: Logger;
  timeoutMs: number;
  steps: ShutdownStep[];
  exit?: (code: number) => void;
}): { run: (reason: string) => Promise<void>; installSignalHandlers: () => void } {
  let running: Promise<void> | undefined;
  const run = (reason: string): Promise<void> => {
    running ??= (async () => {
      logger.info({ reason }, "shutting down");
      const timer = setTimeout(() => {
        logger.error({ timeoutMs }, "shutdown timed out; exiting");
        exit(1);
      }, timeoutMs);
      timer.unref();
      let failed = false;
      for (const step of steps) {
        try {
          await step.run();
        } catch (err) {
          failed = true;
          logger.error({ err, step: step.name }, "shutdown step failed");
        }
      }
      clearTimeout(timer);
      logger.info("shutdown complete");
      // The log destination writes asynchronously; exiting with a write in flight reorders or
      // loses the last lines, so wait for the flush.
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      exit(failed ? 1 : 0);
    })();
    return running;
  };
  return {
    run,
    installSignalHandlers: () => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void run(signal));
    },
  };
}
