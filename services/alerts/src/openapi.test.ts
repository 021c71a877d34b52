import { documentProblems } from "@apimon/http";
import { describedApps } from "../../../scripts/described-apps";

type Schema = { properties: Record<string, { properties?: Record<string, unknown> }> };
type Document = {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: { "application/json": { schema: Schema } } } }>
  >;
};

describe("OpenAPI document", () => {
  // The document is made from the routes; nothing here reaches the database.
  const app = describedApps().alerts;
  let document: Document;

  beforeAll(async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    document = (await res.json()) as Document;
  });

  it("describes every route of the app, with its success and error responses, and nothing else", () => {
    expect(documentProblems(app.routes, document)).toEqual([]);
  });

  it("generates the settings body from the shared settings contract (the spec's alert_thresholds shape)", () => {
    const body =
      document.paths["/api/v1/alerts/settings"]?.put?.requestBody?.content["application/json"].schema;
    // updatedAt: what GET answers goes back unchanged; the field is read-only and ignored.
    expect(Object.keys(body?.properties ?? {})).toEqual([
      "alertThresholds",
      "repeatIntervalSeconds",
      "escalation",
      "updatedAt",
    ]);
    expect(Object.keys(body?.properties.alertThresholds?.properties ?? {})).toEqual(
      expect.arrayContaining(["response_time", "error_rate", "usage_spike"]),
    );
  });
});
