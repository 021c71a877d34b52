import { createEndpointNormaliser } from "./endpoint";

describe("endpoint normaliser", () => {
  const normalise = createEndpointNormaliser();

  it.each([
    ["/users/42", "/users/:id"],
    ["/users/42/orders/7?expand=items#top", "/users/:id/orders/:id"],
    ["//users///42//", "/users/:id"],
    ["/", "/"],
    ["", "/"],
    ["?a=1", "/"],
    ["users/42", "/users/:id"],
    ["/items/0190a6f2-3c4b-7d8e-9f01-23456789abcd", "/items/:id"],
    ["/items/0190A6F2-3C4B-7D8E-9F01-23456789ABCD/Details", "/items/:id/Details"],
    ["/blobs/deadbeefdeadbeef0123", "/blobs/:id"],
    ["/tokens/aGVsbG8gd29ybGQgMTIzNDU2", "/tokens/:id"],
    ["/Users/Profile", "/Users/Profile"],
    ["/documentation-overview/introduction", "/documentation-overview/introduction"],
  ])("%s → %s", (input, expected) => {
    expect(normalise(input)).toBe(expected);
  });

  it("answers a repeated path the same from memory, whatever its query", () => {
    const cached = createEndpointNormaliser({ cacheEntries: 2 });
    const inputs = [
      "/users/1?a=1",
      "/users/1?b=2",
      "/files/x/..",
      "/users/1",
      "/orders/9/items/3",
      "/users/1#x",
    ];
    expect(inputs.map(cached)).toEqual(inputs.map((input) => normalise(input)));
    expect(inputs.map(cached)).toEqual([
      "/users/:id",
      "/users/:id",
      "/files/x/:dot",
      "/users/:id",
      "/orders/:id/items/:id",
      "/users/:id",
    ]);
  });

  it("neither resolves nor keeps dot segments", () => {
    expect(normalise("/a/../../etc/passwd")).toBe("/a/:dot/:dot/etc/passwd");
    expect(normalise("/a/%2e%2e/b")).toBe("/a/:dot/b");
    expect(normalise("/a/./b")).toBe("/a/:dot/b");
  });

  it("decodes percent-encoding for matching and re-encodes what is unsafe", () => {
    expect(normalise("/users/%34%32")).toBe("/users/:id");
    expect(normalise("/a%2Fb/c")).toBe("/a%2Fb/c");
    expect(normalise("/caf%C3%A9")).toBe("/caf%C3%A9");
    expect(normalise("/bad%zzescape")).toBe("/bad%25zzescape");
    expect(normalise("/x%00y")).toBe("/x%00y");
  });

  it("applies configured patterns first", () => {
    const n = createEndpointNormaliser({
      patterns: [
        { regex: /^\/files\/.+$/, replacement: "/files/:path" },
        { regex: /\/v[0-9]+\//, replacement: "/:version/" },
      ],
    });
    expect(n("/files/a/b/c.txt")).toBe("/files/:path");
    expect(n("/api/v2/users/9")).toBe("/api/:version/users/:id");
  });

  it("bounds the length, the segment count and the segment length of hostile paths", () => {
    const long = `/${"z".repeat(100_000)}`;
    expect(normalise(long)).toBe("/:long");
    const many = `/${Array.from({ length: 1000 }, (_, i) => `s${i % 10}x`).join("/")}`;
    const r = normalise(many);
    expect(r.split("/").length).toBeLessThanOrEqual(18);
    expect(r.endsWith("/:rest")).toBe(true);
    const wide = createEndpointNormaliser({ maxSegments: 100, maxSegmentLength: 60 });
    const big = wide(`/${Array.from({ length: 100 }, () => "q".repeat(50)).join("/")}`);
    expect(big.length).toBeLessThanOrEqual(512);
    expect(big.endsWith("/:rest")).toBe(true);
    for (const input of [long, many, `/${"%".repeat(5000)}`, `/${"%41".repeat(5000)}`]) {
      expect(normalise(input).length).toBeLessThanOrEqual(512);
    }
  });

  it("keeps placeholders already in the path", () => {
    expect(normalise("/users/:id")).toBe("/users/:id");
  });
});
