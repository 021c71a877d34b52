// Every environment variable a service reads is named in the README an operator reads for it:
// the project's README or the service's own. The variables are the ones the service's
// loadConfig asks its environment for, so a new setting without a line in the docs fails here.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..");
const services = readdirSync(join(root, "services")).filter((name) =>
  existsSync(join(root, "services", name, "src", "config.ts")),
);

type LoadConfig = (env: Record<string, string | undefined>) => unknown;

/** The names loadConfig looks up in an empty environment (it refuses that; the lookups are the point). */
function variablesRead(loadConfig: LoadConfig): string[] {
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
    // Required variables are missing: expected.
  }
  return [...names].sort();
}

function documentation(service: string): string {
  const own = join(root, "services", service, "README.md");
  return readFileSync(join(root, "README.md"), "utf8") + (existsSync(own) ? readFileSync(own, "utf8") : "");
}

describe("the documented configuration", () => {
  it("covers every service with a config", () => {
    expect(services).toEqual(
      expect.arrayContaining(["alerts", "anomaly-detector", "console", "edge", "keys", "notifier"]),
    );
  });

  it.each(services)("names every variable the %s service reads", async (service) => {
    const { loadConfig } = (await import(join(root, "services", service, "src", "config.ts"))) as {
      loadConfig: LoadConfig;
    };
    const variables = variablesRead(loadConfig);
    expect(variables).toContain("LOG_LEVEL");

    const docs = documentation(service);
    const undocumented = variables.filter((name) => !new RegExp(`\\b${name}\\b`).test(docs));
    expect(undocumented).toEqual([]);
  });
});
