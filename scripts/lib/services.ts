// The services `pnpm start` runs, in start order. A new service adds its entry here and
// in docker-compose.yml.
/** A port a service listens on: the value of `variable`, or its default. */
export interface PortSetting {
  (): number;
  readonly variable: string;
}

export interface ServiceEntry {
  name: string;
  /** Built entry point, relative to the repo. */
  entry: string;
  /** Its port. */
  port: PortSetting;
  /** Where its /readyz answers, when not on `port`. */
  readyPort?: PortSetting;
}

const envPort = (variable: string, fallback: number): PortSetting =>
  Object.assign(() => Number(process.env[variable] ?? fallback), { variable });

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
  { name: "console", entry: "services/console/dist/main.js", port: envPort("CONSOLE_PORT", 8087) },
];

/** Every port of every service, with the service's name. */
export function servicePorts(): { service: string; port: PortSetting }[] {
  return services.flatMap((s) =>
    (s.readyPort ? [s.port, s.readyPort] : [s.port]).map((port) => ({ service: s.name, port })),
  );
}
