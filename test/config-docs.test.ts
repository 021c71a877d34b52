// Every environment variable a service reads is named in the README an operator reads for it:
// the project's README or the service's own. The variables are the ones the service's
// loadConfig asks its environment for, so a new setting without a line in the docs fails here.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { servicesWithConfig as services, variablesRead } from "./service-config";

const root = join(__dirname, "..");

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
    const variables = await variablesRead(service);
    expect(variables).toContain("LOG_LEVEL");

    const docs = documentation(service);
    const undocumented = variables.filter((name) => !new RegExp(`\\b${name}\\b`).test(docs));
    expect(undocumented).toEqual([]);
  });
});
