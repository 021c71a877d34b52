import { runService } from "@apimon/http";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createEchoSocket } from "./echo-socket";

runService("demo-upstream", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const echo = createEchoSocket();
  return {
    app: createApp({ logger, registry, slowMs: config.slowMs, isShuttingDown }),
    configureServer: (server) => echo.attach(server),
    // node's close() waits for open WebSockets: they are ended first.
    closeServerLast: true,
    stop: [{ name: "close WebSockets", run: () => echo.close() }],
    started: { message: "demo upstream listening" },
  };
});
