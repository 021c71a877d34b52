import { matches, silenceFor, silenceState } from "./silences";

const alert = { type: "error_rate", apiKeyId: 3, endpoint: "GET /users/:id", clientIp: null };
const any = { type: null, apiKeyId: null, endpoint: null, clientIp: null };

describe("silence matchers", () => {
  it("match on every field that is set, and a silence with none matches every alert", () => {
    expect(matches(any, alert)).toBe(true);
    expect(matches({ ...any, type: "error_rate", apiKeyId: 3 }, alert)).toBe(true);
    expect(matches({ ...any, type: "error_rate", apiKeyId: 4 }, alert)).toBe(false);
    expect(matches({ ...any, type: "response_time" }, alert)).toBe(false);
    expect(matches({ ...any, endpoint: "GET /users/:id" }, alert)).toBe(true);
    expect(matches({ ...any, endpoint: "POST /users/:id" }, alert)).toBe(false);
  });

  it("match endpoints by pattern where the endpoint matcher has wildcards", () => {
    expect(matches({ ...any, endpoint: "GET /users/*" }, alert)).toBe(true);
    expect(matches({ ...any, endpoint: "* /users/*" }, alert)).toBe(true);
    expect(matches({ ...any, endpoint: "POST /users/*" }, alert)).toBe(false);
    expect(matches({ ...any, endpoint: "*" }, { ...alert, endpoint: null })).toBe(false);
  });

  it("do not take a missing field for a match: a key's silence leaves alerts about no key alone", () => {
    const byIp = { type: "unauthorized_access", apiKeyId: null, endpoint: null, clientIp: "10.0.0.9" };
    expect(matches({ ...any, apiKeyId: 3 }, byIp)).toBe(false);
    expect(matches({ ...any, clientIp: "10.0.0.9" }, byIp)).toBe(true);
    expect(matches({ ...any, clientIp: "10.0.0.1" }, byIp)).toBe(false);
  });

  it("name the oldest matching silence", () => {
    const active = [
      { ...any, id: 9, apiKeyId: 3 },
      { ...any, id: 4, type: "error_rate" },
      { ...any, id: 2, type: "usage_spike" },
    ];
    expect(silenceFor(alert, active)?.id).toBe(4);
    expect(silenceFor({ ...alert, type: "response_time" }, active)?.id).toBe(9);
    expect(silenceFor({ ...alert, type: "response_time", apiKeyId: 1 }, active)).toBeUndefined();
  });
});

describe("a silence's state", () => {
  const now = new Date("2026-12-06T12:00:00.000Z");
  const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000);

  it("is pending before its start, active from it, and expired from its end", () => {
    expect(silenceState({ startsAt: at(1), endsAt: at(60) }, now)).toBe("pending");
    expect(silenceState({ startsAt: now, endsAt: at(60) }, now)).toBe("active");
    expect(silenceState({ startsAt: at(-60), endsAt: at(1) }, now)).toBe("active");
    expect(silenceState({ startsAt: at(-60), endsAt: now }, now)).toBe("expired");
    expect(silenceState({ startsAt: now, endsAt: now }, now)).toBe("expired");
  });
});
