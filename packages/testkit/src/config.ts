import { ConfigError } from "@apimon/config";

/** What every service with a database and Kafka has by default: local Postgres and Kafka, info logs, 10 s to stop. */
export const sharedServiceDefaults = {
  database: { url: "postgresql://postgres@127.0.0.1:5432/apimon", schema: undefined },
  kafka: { brokers: ["127.0.0.1:9092"], clientId: "apimon", security: {}, topicPrefix: "" },
  logLevel: "info",
  shutdownTimeoutMs: 10_000,
};

/** The ConfigError that loading must throw; any other outcome fails the test. */
export function configRefusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("the configuration was expected to be refused, and it loaded");
}

/** The variables a refused configuration names, sorted. */
export const refusedVariables = (load: () => unknown): string[] =>
  configRefusal(load)
    .issues.map((issue) => issue.variable)
    .sort();
