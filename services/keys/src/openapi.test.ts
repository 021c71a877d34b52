import { documentProblems } from "@apimon/http";
import { describedDocument } from "../../../scripts/described-apps";

type Document = { paths: Record<string, Record<string, { requestBody?: unknown }>> };

describe("OpenAPI document", () => {
  // The document is made from the routes; nothing here reaches the database.
  let described: { routes: { method: string; path: string }[]; document: Document };
  beforeAll(async () => {
    described = await describedDocument<Document>("keys");
  });

  it("describes every route of the app, with its success and error responses, and nothing else", () => {
    expect(documentProblems(described.routes, described.document)).toEqual([]);
  });

  it("generates request bodies from the validating schemas (strict, bounded)", () => {
    const create = described.document.paths["/api/v1/users"]?.post?.requestBody as {
      content: { "application/json": { schema: unknown } };
    };
    expect(create.content["application/json"].schema).toEqual({
      type: "object",
      properties: {
        email: expect.objectContaining({ type: "string", format: "email", maxLength: 254 }),
        name: expect.objectContaining({ type: "string", minLength: 1, maxLength: 200 }),
      },
      required: ["email", "name"],
      additionalProperties: false,
    });
  });
});
