// The services `pnpm start` runs, in start order. Each service's issue adds its entry here and
// in docker-compose.yml.
export interface ServiceEntry {
  name: string;
  /** Built entry point, relative to the repo. */
  entry: string;
  /** Its port. */
  port: () => number;
  /** Where its /readyz answers, when not on `port`. */
  readyPort?: () => number;
}

const envPort = (name: string, fallback: number) => () => Number(process.env[name] ?? fallback);

export const services: ServiceEntry[] = [
  {
    name: "demo-upstream",
    entry: "services/demo-upstream/dist/main.js",
    port: envPort("DEMO_UPSTREAM_PORT", 8090),
  },
  { name: "keys", entry: "services/keys/dist/main.js", port: envPort("KEYS_PORT", 8082) },
  {
    name: "usage-recorder",
    entry: "services/usage-recorder/dist/main.js",
    port: envPort("USAGE_RECORDER_PORT", 8083),
  },
  { name: "key-stats", entry: "services/key-stats/dist/main.js", port: envPort("KEY_STATS_PORT", 8084) },
  {
    name: "anomaly-detector",
    entry: "services/anomaly-detector/dist/main.js",
    port: envPort("DETECTOR_PORT", 8085),
  },
  { name: "alerts", entry: "services/alerts/dist/main.js", port: envPort("ALERTS_PORT", 8081) },
  { name: "notifier", entry: "services/notifier/dist/main.js", port: envPort("NOTIFIER_PORT", 8086) },
  {
    name: "edge",
    entry: "services/edge/dist/main.js",
    port: envPort("EDGE_PORT", 8080),
    readyPort: envPort("EDGE_ADMIN_PORT", 9080),
  },
];
