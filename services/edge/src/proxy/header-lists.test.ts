import { clientResponseHeaders, upstreamRequestHeaders } from "./upstream-proxy";

/** Runs `fn` with an enumerable property on Object.prototype, as a polluted process would have. */
function withPollutedPrototype<T>(fn: () => T): T {
  Object.defineProperty(Object.prototype, "x-polluted", { value: "1", enumerable: true, configurable: true });
  try {
    return fn();
  } finally {
    delete (Object.prototype as Record<string, unknown>)["x-polluted"];
  }
}

describe("the proxy's header lists", () => {
  it("answers the upstream's fields without hop-by-hop ones, then the edge's own in order", () => {
    const list = clientResponseHeaders(
      {
        "content-type": "application/json",
        connection: "keep-alive, x-private",
        "x-private": "1",
        "set-cookie": ["a=1", "b=2"],
      },
      { "X-RateLimit-Minute-Remaining": "99", RateLimit: '"minute";r=99;t=30' },
    );
    expect(list).toEqual([
      "content-type",
      "application/json",
      "set-cookie",
      ["a=1", "b=2"],
      "X-RateLimit-Minute-Remaining",
      "99",
      "RateLimit",
      '"minute";r=99;t=30',
    ]);
  });

  it("sends upstream the client's fields without the key or spoofed identity, then forwarding and identity", () => {
    const list = upstreamRequestHeaders(
      { host: "api.example", "x-api-key": "secret", "x-apimon-key-id": "999", accept: "*/*" },
      { clientIp: "10.0.0.7", proto: "http", extra: { "X-Apimon-Key-Id": "1", "x-apimon-user-id": "2" } },
    );
    expect(list).toEqual([
      "accept",
      "*/*",
      "x-forwarded-for",
      "10.0.0.7",
      "x-forwarded-proto",
      "http",
      "x-forwarded-host",
      "api.example",
      "x-apimon-key-id",
      "1",
      "x-apimon-user-id",
      "2",
    ]);
  });

  it("takes no field from Object.prototype", () => {
    const [answer, forwarded] = withPollutedPrototype(() => [
      clientResponseHeaders({ "content-type": "text/plain" }, { "X-RateLimit-Day-Limit": "10000" }),
      upstreamRequestHeaders(
        { accept: "*/*" },
        { clientIp: "10.0.0.7", proto: "http", extra: { "x-apimon-key-id": "1" } },
      ),
    ]);
    expect(answer).toEqual(["content-type", "text/plain", "X-RateLimit-Day-Limit", "10000"]);
    expect(forwarded).not.toContain("x-polluted");
  });
});
