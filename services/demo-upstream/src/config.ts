import { DEFAULT_PORTS, envTypes, loggingConfig, loggingEnv, parseEnv } from "@apimon/config";
import { z } from "zod";

/** The demo upstream's settings; it stands in for the user's API behind the edge. */
export function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...loggingEnv,
      DEMO_UPSTREAM_PORT: envTypes.port(DEFAULT_PORTS.demoUpstream),
      DEMO_UPSTREAM_HOST: z.string().default("0.0.0.0"),
      /** How long /slow takes unless the request asks for another delay. */
      DEMO_SLOW_MS: envTypes.nonNegativeInt(1500),
    },
    env,
  );
  return {
    port: raw.DEMO_UPSTREAM_PORT,
    host: raw.DEMO_UPSTREAM_HOST,
    slowMs: raw.DEMO_SLOW_MS,
    ...loggingConfig(raw),
  };
}

export type Config = ReturnType<typeof loadConfig>;
