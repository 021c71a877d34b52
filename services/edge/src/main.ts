import { redactUrl } from "@apimon/config";
import { runService } from "@apimon/http";
import { createControlApp } from "./app";
import { loadConfig } from "./config";
import { limitConnections } from "./connection-limits";
import { registryReadiness } from "./registry-readiness";
import { type EdgeServer, startAdminServer, startEdgeServer } from "./server";
import { createDataPlane, createKeyTable, createLimiting, createUsagePipeline } from "./wiring";

runService("edge", loadConfig, (context) => {
  const { config, logger, registry, isShuttingDown } = context;
  const { usage, producer: usageProducer } = createUsagePipeline(context);
  const { keys, authProducer } = createKeyTable(context);
  const limiting = createLimiting(context);
  const plane = createDataPlane(context, { keys, limiter: limiting.limiter, usage, authProducer });
  const checks = {
    keyRegistry: registryReadiness({ keys, maxLagMs: config.registryMaxLagMs }),
    redis: limiting.ready,
    // Informational: a Kafka outage degrades nothing the client sees, so it never fails readiness.
    usageEvents: () => ({ ok: true, detail: usage.health() }),
  };
  const { host, exchangeTimeoutMs } = config;
  let server: EdgeServer | undefined;
  return {
    // The admin port answers probes and metrics until the very end of a shutdown.
    listen: () =>
      startAdminServer(createControlApp({ registry, checks, isShuttingDown }), {
        port: config.adminPort,
        host,
      }),
    closeServerLast: true,
    stop: [
      // node's close() waits for every connection, a WebSocket's too: they are cut first, and
      // handshakes from here on get 503.
      { name: "close WebSockets", run: () => plane.tunnels.closeAll() },
      { name: "close data-plane server", run: () => server?.close() },
      { name: "close upstream pool", run: () => plane.proxy.close() },
      { name: "report refused authentications", run: () => plane.stopReporting() },
      { name: "stop key registry", run: () => keys.stop() },
      // Memory goes to Kafka, or to the spool when Kafka is unreachable: nothing is dropped.
      { name: "drain usage events", run: () => usage.close() },
      { name: "disconnect usage producer", run: () => usageProducer.disconnect() },
      { name: "disconnect auth-failure producer", run: () => authProducer.disconnect() },
      { name: "close redis", run: limiting.close },
    ],
    start: async (admin) => {
      await plane.startReporting();
      server = await startEdgeServer(plane.handler, {
        port: config.port,
        host,
        exchangeTimeoutMs,
        configure: (client) =>
          plane.countTunnelsAgainst(limitConnections(client, config.connections, { logger, registry })),
      });
      const upstream = redactUrl(config.upstream.url);
      logger.info(
        {
          port: server.port,
          adminPort: admin.port,
          upstream,
          instance: config.instanceId,
          ...config.connections,
        },
        "edge listening; loading the key registry",
      );
      await keys.start();
      logger.info({ keys: keys.size() }, "key registry loaded; edge ready");
    },
  };
});
