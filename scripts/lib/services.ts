// The services `pnpm start` runs, in start order. Each service's issue adds its entry here and
// in docker-compose.yml.
export interface ServiceEntry {
  name: string;
  /** Built entry point, relative to the repo. */
  entry: string;
  /** Where its /readyz answers. */
  port: () => number;
}

const envPort = (name: string, fallback: number) => () => Number(process.env[name] ?? fallback);

export const services: ServiceEntry[] = [
  {
    name: "demo-upstream",
    entry: "services/demo-upstream/dist/main.js",
    port: envPort("DEMO_UPSTREAM_PORT", 8090),
  },
  { name: "keys", entry: "services/keys/dist/main.js", port: envPort("KEYS_PORT", 8082) },
  { name: "edge", entry: "services/edge/dist/main.js", port: envPort("EDGE_PORT", 8080) },
];
