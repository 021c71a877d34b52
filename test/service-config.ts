// The environment variables each service reads: the names its loadConfig asks its environment
// for. Tests of the documentation and of the compose file compare against these.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..");

/** Every service of the repository with a `src/config.ts`. */
export const servicesWithConfig = readdirSync(join(root, "services")).filter((name) =>
  existsSync(join(root, "services", name, "src", "config.ts")),
);

type LoadConfig = (env: Record<string, string | undefined>) => unknown;

/** The names the service's loadConfig looks up in an empty environment, sorted. */
export async function variablesRead(service: string): Promise<string[]> {
  const { loadConfig } = (await import(join(root, "services", service, "src", "config.ts"))) as {
    loadConfig: LoadConfig;
  };
  const names = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_, name) {
      if (typeof name === "string" && /^[A-Z][A-Z0-9_]*$/.test(name)) names.add(name);
      return undefined;
    },
  });
  try {
    loadConfig(env);
  } catch {
    // An empty environment lacks the required variables: expected; the lookups are the point.
  }
  return [...names].sort();
}
