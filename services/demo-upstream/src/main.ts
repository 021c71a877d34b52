import { runService } from "@apimon/http";
import { createApp } from "./app";
import { loadConfig } from "./config";

runService("demo-upstream", loadConfig, ({ config, logger, registry, isShuttingDown }) => ({
  app: createApp({ logger, registry, slowMs: config.slowMs, isShuttingDown }),
  started: { message: "demo upstream listening" },
}));
