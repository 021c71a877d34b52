import { refusedVariables } from "@apimon/testkit";
import { loadConfig } from "./config";

const required = { KEY_HASH_SECRET: "edge-config-test-secret-0123456789abcdef" };

describe("edge config", () => {
  it("has the documented defaults", () => {
    expect(loadConfig(required)).toMatchObject({
      port: 8080,
      adminPort: 9080,
      rateLimits: { defaults: { minute: 100, hour: 1000, day: 10_000 }, timeoutMs: 50 },
      spool: { maxBytes: 256 * 1024 * 1024 },
      usageLingerMs: 100,
      maxInflightPerKey: 32,
      maxWebSocketsPerKey: 32,
    });
    expect(loadConfig({ ...required, EDGE_MAX_WEBSOCKETS_PER_KEY: "5" }).maxWebSocketsPerKey).toBe(5);
    expect(refusedVariables(() => loadConfig({ ...required, EDGE_MAX_WEBSOCKETS_PER_KEY: "0" }))).toEqual([
      "EDGE_MAX_WEBSOCKETS_PER_KEY",
    ]);
  });

  it("caps client connections by the open-files limit, a tenth per IP unless behind proxies", () => {
    const { maxConnections, maxPerSource } = loadConfig(required).connections;
    expect(maxConnections).toBeGreaterThanOrEqual(64);
    expect(maxPerSource).toBe(Math.ceil(maxConnections / 10));
    expect(loadConfig({ ...required, EDGE_MAX_CONNECTIONS: "1000" }).connections).toEqual({
      maxConnections: 1000,
      maxPerSource: 100,
    });
    expect(
      loadConfig({ ...required, EDGE_MAX_CONNECTIONS: "1000", EDGE_TRUSTED_PROXY_HOPS: "1" }).connections,
    ).toEqual({ maxConnections: 1000, maxPerSource: 0 });
    expect(
      loadConfig({ ...required, EDGE_TRUSTED_PROXY_HOPS: "1", EDGE_MAX_CONNECTIONS_PER_IP: "50" }).connections
        .maxPerSource,
    ).toBe(50);
    expect(loadConfig({ ...required, EDGE_MAX_CONNECTIONS_PER_IP: "0" }).connections.maxPerSource).toBe(0);
    expect(refusedVariables(() => loadConfig({ ...required, EDGE_MAX_CONNECTIONS: "0" }))).toEqual([
      "EDGE_MAX_CONNECTIONS",
    ]);
  });

  it("takes a usage linger from 0 (send at once) to a minute", () => {
    expect(loadConfig({ ...required, USAGE_LINGER_MS: "0" }).usageLingerMs).toBe(0);
    expect(loadConfig({ ...required, USAGE_LINGER_MS: "60000" }).usageLingerMs).toBe(60_000);
  });

  it("lists every bad variable at once", () => {
    expect(
      refusedVariables(() =>
        loadConfig({
          ...required,
          USAGE_LINGER_MS: "60001",
          USAGE_SPOOL_MAX_BYTES: "0",
          EDGE_ADMIN_PORT: "x",
        }),
      ),
    ).toEqual(["EDGE_ADMIN_PORT", "USAGE_LINGER_MS", "USAGE_SPOOL_MAX_BYTES"]);
    expect(refusedVariables(() => loadConfig({ ...required, USAGE_LINGER_MS: "-1" }))).toEqual([
      "USAGE_LINGER_MS",
    ]);
  });
});
