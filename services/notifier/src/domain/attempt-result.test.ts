import { classifyHttpResponse } from "./attempt-result";

const now = new Date("2026-11-27T12:00:00.000Z");

describe("HTTP answers of a receiver", () => {
  it("counts any 2xx as delivered", () => {
    expect(classifyHttpResponse(200, undefined, "ok", now)).toEqual({ ok: true, responseCode: 200 });
    expect(classifyHttpResponse(204, undefined, "", now)).toEqual({ ok: true, responseCode: 204 });
  });

  it("retries 429 with its Retry-After, and 5xx", () => {
    expect(classifyHttpResponse(429, "3", "slow down", now)).toEqual({
      ok: false,
      retriable: true,
      responseCode: 429,
      error: "HTTP 429: slow down",
      retryAfterMs: 3000,
    });
    expect(classifyHttpResponse(500, undefined, "", now)).toEqual({
      ok: false,
      retriable: true,
      responseCode: 500,
      error: "HTTP 500",
    });
    expect(classifyHttpResponse(503, "Fri, 27 Nov 2026 12:00:02 GMT", "", now)).toMatchObject({
      retriable: true,
      retryAfterMs: 2000,
    });
  });

  it("gives up at once on other 4xx, redirects and 501", () => {
    for (const status of [301, 400, 401, 403, 404, 410, 501]) {
      expect(classifyHttpResponse(status, "5", "", now)).toEqual({
        ok: false,
        retriable: false,
        responseCode: status,
        error: `HTTP ${status}`,
      });
    }
  });

  it("keeps a short one-line excerpt of the body in the error", () => {
    const result = classifyHttpResponse(400, undefined, `bad\n  request ${"x".repeat(500)}`, now);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.startsWith("HTTP 400: bad request xxx")).toBe(true);
      expect(result.error.length).toBeLessThan(220);
    }
  });
});
