import { endpointMatches } from "./endpoints";

describe("an endpoint matcher", () => {
  it("without a wildcard matches the same text only, case and all", () => {
    expect(endpointMatches("GET /api/users/:id", "GET /api/users/:id")).toBe(true);
    expect(endpointMatches("GET /api/users/:id", "GET /api/users/:id/orders")).toBe(false);
    expect(endpointMatches("GET /api/users", "get /api/users")).toBe(false);
    expect(endpointMatches("GET /api/users", null)).toBe(false);
  });

  it("takes each wildcard for any run of characters, none included", () => {
    expect(endpointMatches("*", "DELETE /x")).toBe(true);
    expect(endpointMatches("GET /api/billing/*", "GET /api/billing/invoices/:id")).toBe(true);
    expect(endpointMatches("GET /api/billing/*", "GET /api/billing/")).toBe(true);
    expect(endpointMatches("GET /api/billing/*", "GET /api/billing")).toBe(false);
    expect(endpointMatches("GET /api/billing*", "GET /api/billing")).toBe(true);
    expect(endpointMatches("* /api/billing/*", "POST /api/billing/charges")).toBe(true);
    expect(endpointMatches("* /api/billing/*", "POST /api/orders/billing/x")).toBe(false);
    expect(endpointMatches("*/:id", "PUT /api/orders/:id")).toBe(true);
    expect(endpointMatches("*/:id", "PUT /api/orders/:id/items")).toBe(false);
  });

  it("places the parts between wildcards in order, without overlapping the ends", () => {
    expect(endpointMatches("GET */orders/*/items", "GET /api/orders/:id/items")).toBe(true);
    expect(endpointMatches("GET */items/*/orders", "GET /api/orders/:id/items")).toBe(false);
    expect(endpointMatches("*ab*ba*", "xabax")).toBe(false);
    expect(endpointMatches("*ab*ba*", "xabbax")).toBe(true);
    expect(endpointMatches("a*a", "a")).toBe(false);
    expect(endpointMatches("a*a", "aa")).toBe(true);
    expect(endpointMatches("GET *:id*", "GET /x")).toBe(false);
  });

  it("takes the other characters of patterns elsewhere literally", () => {
    expect(endpointMatches("GET /api/a.b", "GET /api/aXb")).toBe(false);
    expect(endpointMatches("GET /api/%", "GET /api/x")).toBe(false);
    expect(endpointMatches("GET /api/_/*", "GET /api/x/y")).toBe(false);
    expect(endpointMatches("GET /api/_/*", "GET /api/_/y")).toBe(true);
    expect(endpointMatches("GET /api/?", "GET /api/x")).toBe(false);
  });
});
