import { openApiDocument } from "./openapi";

type Operation = { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown };

describe("OpenAPI document", () => {
  const operations = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ["get", "post", "patch", "delete"].includes(method))
      .map(([method, op]) => ({ path, method, op: op as Operation })),
  );

  it("describes every endpoint of the service", () => {
    expect(operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`)).toEqual([
      "POST /api/v1/users",
      "GET /api/v1/users",
      "GET /api/v1/users/{id}",
      "POST /api/v1/keys",
      "GET /api/v1/keys",
      "GET /api/v1/keys/{id}",
      "PATCH /api/v1/keys/{id}",
      "DELETE /api/v1/keys/{id}",
      "POST /api/v1/keys/{id}/rotate",
      "GET /api/v1/keys/{id}/usage",
      "GET /api/v1/usage/summary",
      "GET /healthz",
      "GET /readyz",
      "GET /metrics",
      "GET /openapi.json",
    ]);
  });

  it("puts the admin API behind the bearer token and documents its 401", () => {
    expect(openApiDocument.security).toEqual([{ adminToken: [] }]);
    for (const { path, op } of operations) {
      if (path.startsWith("/api/")) {
        expect(op.security).toBeUndefined();
        expect(Object.keys(op.responses)).toContain("401");
      } else {
        expect(op.security).toEqual([]);
      }
    }
  });

  it("generates request bodies from the validating schemas (strict, bounded)", () => {
    const create = openApiDocument.paths["/api/v1/users"].post.requestBody.content["application/json"].schema;
    expect(create).toEqual({
      type: "object",
      properties: {
        email: expect.objectContaining({ type: "string", format: "email", maxLength: 320 }),
        name: expect.objectContaining({ type: "string", minLength: 1, maxLength: 200 }),
      },
      required: ["email", "name"],
      additionalProperties: false,
    });
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(openApiDocument))).toEqual(openApiDocument);
  });
});
