import { documentProblems } from "@apimon/http";
import { describedDocument } from "../../../scripts/described-apps";

type Schema = { properties: Record<string, { properties?: Record<string, unknown> }> };
type Document = {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: { "application/json": { schema: Schema } } } }>
  >;
};

describe("OpenAPI document", () => {
  // The document is made from the routes; nothing here reaches the database.
  let described: { routes: { method: string; path: string }[]; document: Document };
  beforeAll(async () => {
    described = await describedDocument<Document>("alerts");
  });

  it("describes every route of the app, with its success and error responses, and nothing else", () => {
    expect(documentProblems(described.routes, described.document)).toEqual([]);
  });

  it("generates the settings body from the shared settings contract (the spec's alert_thresholds shape)", () => {
    const body =
      described.document.paths["/api/v1/alerts/settings"]?.put?.requestBody?.content["application/json"]
        .schema;
    // updatedAt: what GET answers goes back unchanged; the field is read-only and ignored.
    expect(Object.keys(body?.properties ?? {})).toEqual([
      "alertThresholds",
      "repeatIntervalSeconds",
      "groupIntervalSeconds",
      "escalation",
      "updatedAt",
    ]);
    expect(Object.keys(body?.properties.alertThresholds?.properties ?? {})).toEqual(
      expect.arrayContaining(["response_time", "error_rate", "usage_spike"]),
    );
  });
});
