import { undocumentedRoutes } from "@apimon/http";
import { Registry } from "@apimon/observability";
import { testLogger } from "@apimon/testkit";
import { createApp } from "./app";

type Operation = { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown };
type Document = { security: unknown; paths: Record<string, Record<string, Operation>> };

describe("OpenAPI document", () => {
  // The document is made from the routes; nothing here reaches the database.
  const app = createApp({
    logger: testLogger(),
    registry: new Registry(),
    prisma: {} as never,
    config: {
      adminToken: "t",
      keyHashSecret: "s",
      graceSeconds: 60,
      defaults: { minute: 1, hour: 1, day: 1 },
    },
    isShuttingDown: () => false,
  });
  let document: Document;
  let operations: { path: string; method: string; op: Operation }[];

  beforeAll(async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    document = (await res.json()) as Document;
    operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
  });

  it("describes every route of the app with its responses", () => {
    expect(undocumentedRoutes(app.routes, document)).toEqual([]);
  });

  it("describes no route that the app does not serve", () => {
    const served = new Set(app.routes.map((r) => `${r.method} ${r.path.replaceAll(/:([^/]+)/g, "{$1}")}`));
    for (const { method, path } of operations) expect(served).toContain(`${method.toUpperCase()} ${path}`);
  });

  it("puts the admin API behind the bearer token and documents its 401, 500 and 503", () => {
    expect(document.security).toEqual([{ adminToken: [] }]);
    for (const { path, op } of operations) {
      if (path.startsWith("/api/")) {
        expect(op.security).toBeUndefined();
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "500", "503"]));
      } else {
        expect(op.security).toEqual([]);
      }
    }
  });

  it("documents a success and the validation error of every admin operation", () => {
    for (const { path, op } of operations.filter((o) => o.path.startsWith("/api/"))) {
      const statuses = Object.keys(op.responses);
      expect([path, statuses.some((s) => s.startsWith("2"))]).toEqual([path, true]);
      expect([path, statuses]).toEqual([path, expect.arrayContaining(["400"])]);
    }
  });

  it("generates request bodies from the validating schemas (strict, bounded)", () => {
    const create = document.paths["/api/v1/users"]?.post?.requestBody as {
      content: { "application/json": { schema: unknown } };
    };
    expect(create.content["application/json"].schema).toEqual({
      type: "object",
      properties: {
        email: expect.objectContaining({ type: "string", format: "email", maxLength: 320 }),
        name: expect.objectContaining({ type: "string", minLength: 1, maxLength: 200 }),
      },
      required: ["email", "name"],
      additionalProperties: false,
    });
  });

  it("writes every pattern as a plain regular expression", () => {
    const patterns = JSON.stringify(document).match(/"pattern":"(?:[^"\\]|\\.)*"/g) ?? [];
    for (const pattern of patterns) expect(pattern).not.toMatch(/\/[a-z]*"$/);
  });
});
