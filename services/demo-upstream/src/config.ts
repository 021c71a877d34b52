import { DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";

/** The demo upstream's settings; it stands in for the user's API behind the edge. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    { prefix: "DEMO_UPSTREAM", port: DEFAULT_PORTS.demoUpstream },
    {
      /** How long /slow takes unless the request asks for another delay. */
      DEMO_SLOW_MS: envTypes.nonNegativeInt(1500),
    },
    env,
  );
  return {
    ...settings,
    slowMs: raw.DEMO_SLOW_MS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
