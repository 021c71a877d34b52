import { openApiDocument } from "./openapi";

type Operation = { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown };

describe("OpenAPI document", () => {
  const operations = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ["get", "post", "put", "patch", "delete"].includes(method))
      .map(([method, op]) => ({ path, method, op: op as Operation })),
  );

  it("describes every endpoint of the service", () => {
    expect(operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`)).toEqual([
      "GET /api/v1/alerts",
      "GET /api/v1/alerts/counts",
      "GET /api/v1/alerts/history",
      "GET /api/v1/alerts/report",
      "GET /api/v1/alerts/settings",
      "PUT /api/v1/alerts/settings",
      "POST /api/v1/alerts/channels",
      "GET /api/v1/alerts/channels",
      "GET /api/v1/alerts/channels/{id}",
      "PATCH /api/v1/alerts/channels/{id}",
      "DELETE /api/v1/alerts/channels/{id}",
      "POST /api/v1/alerts/channels/{id}/test",
      "GET /api/v1/alerts/{id}",
      "POST /api/v1/alerts/{id}/acknowledge",
      "GET /healthz",
      "GET /readyz",
      "GET /metrics",
      "GET /openapi.json",
      "GET /console",
    ]);
  });

  it("puts the admin API behind the bearer token and documents its 401", () => {
    for (const { path, op } of operations) {
      if (path.startsWith("/api/")) {
        expect(op.security).toBeUndefined();
        expect(Object.keys(op.responses)).toContain("401");
      } else {
        expect(op.security).toEqual([]);
      }
    }
  });

  it("generates the settings body from the shared settings contract (the spec's alert_thresholds shape)", () => {
    const body = openApiDocument.paths["/api/v1/alerts/settings"].put.requestBody.content["application/json"]
      .schema as { properties: Record<string, { properties?: Record<string, unknown> }> };
    // updatedAt: what GET answers goes back unchanged; the field is read-only and ignored.
    expect(Object.keys(body.properties)).toEqual([
      "alertThresholds",
      "repeatIntervalSeconds",
      "escalation",
      "updatedAt",
    ]);
    expect(Object.keys(body.properties.alertThresholds?.properties ?? {})).toEqual(
      expect.arrayContaining(["response_time", "error_rate", "usage_spike"]),
    );
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(openApiDocument))).toEqual(openApiDocument);
  });
});
