import {
  alertSettingsSchema,
  alertThresholdsSchema,
  DEFAULT_ALERT_SETTINGS,
  endpointThresholdResolver,
  MAX_THRESHOLD_OVERRIDES,
} from "./alert-settings";

describe("alert settings", () => {
  it("defaults to the spec's thresholds in the spec's shape", () => {
    expect(DEFAULT_ALERT_SETTINGS.alertThresholds).toMatchObject({
      response_time: { warning: 1.0, critical: 2.0 },
      error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 300, minRequests: 20 },
      usage_spike: { warning: 2.0, critical: 3.0 },
      unauthorized_access: { critical: 5, windowSeconds: 3600 },
      rate_limit_approaching: { warning: 0.8 },
    });
    expect(DEFAULT_ALERT_SETTINGS.repeatIntervalSeconds).toBe(3600);
    expect(DEFAULT_ALERT_SETTINGS.groupIntervalSeconds).toBe(300);
    expect(DEFAULT_ALERT_SETTINGS.escalation).toEqual({ enabled: false, afterSeconds: 900, channelIds: [] });
  });

  it("accepts the spec's own alert_thresholds document and fills in the rest", () => {
    const parsed = alertThresholdsSchema.parse({
      response_time: { warning: 0.5, critical: 1.5 },
      error_rate: { warning: 0.02, critical: 0.2 },
      usage_spike: { warning: 4, critical: 6 },
    });
    expect(parsed.response_time).toEqual({ warning: 0.5, critical: 1.5 });
    expect(parsed.error_rate).toEqual({ warning: 0.02, critical: 0.2, windowSeconds: 300, minRequests: 20 });
    expect(parsed.unauthorized_access.critical).toBe(5);
  });

  it("rejects a critical threshold below its warning, unknown fields and ratios above 1", () => {
    expect(alertThresholdsSchema.safeParse({ response_time: { warning: 2, critical: 1 } }).success).toBe(
      false,
    );
    expect(alertThresholdsSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(alertThresholdsSchema.safeParse({ error_rate: { warning: 0.5, critical: 1.5 } }).success).toBe(
      false,
    );
    expect(alertSettingsSchema.safeParse({ repeatIntervalSeconds: 0 }).success).toBe(false);
    // 0 turns grouping off; a day is the longest hold.
    expect(alertSettingsSchema.safeParse({ groupIntervalSeconds: 0 }).success).toBe(true);
    expect(alertSettingsSchema.safeParse({ groupIntervalSeconds: -1 }).success).toBe(false);
    expect(alertSettingsSchema.safeParse({ groupIntervalSeconds: 86_401 }).success).toBe(false);
  });

  it("has no threshold overrides by default", () => {
    expect(DEFAULT_ALERT_SETTINGS.alertThresholds.overrides).toEqual([]);
  });
});

describe("threshold overrides", () => {
  const issues = (overrides: unknown) => {
    const result = alertThresholdsSchema.safeParse({ overrides });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("accepts an endpoint, a path for every method, a key, or a key's endpoint", () => {
    const overrides = [
      { endpoint: "GET /api/reports/:id/export", response_time: { warning: 5, critical: 10 } },
      { endpoint: "/api/search", error_rate: { warning: 0.2, critical: 0.4 }, note: "  flaky index  " },
      { apiKeyId: 7, response_time: { warning: 3, critical: 6 }, error_rate: { warning: 0.5, critical: 1 } },
      { apiKeyId: 7, endpoint: "GET /api/reports/:id/export", response_time: { warning: 20, critical: 30 } },
    ];
    const parsed = alertThresholdsSchema.parse({ overrides });
    expect(parsed.overrides).toHaveLength(4);
    expect(parsed.overrides[1]?.note).toBe("flaky index");
    // The global thresholds are untouched.
    expect(parsed.response_time).toEqual({ warning: 1, critical: 2 });
  });

  it("refuses an override without a scope or a rule, a malformed endpoint, and bad pairs", () => {
    expect(issues([{ response_time: { warning: 1, critical: 2 } }])).toEqual([
      "overrides.0.endpoint: an override names an endpoint, an API key or both",
    ]);
    expect(issues([{ endpoint: "/a" }])).toEqual([
      "overrides.0.response_time: an override sets response_time, error_rate or both",
    ]);
    for (const endpoint of ["api/users", "get /api", "GET  /api", "GET /a b", ""]) {
      expect(issues([{ endpoint, response_time: { warning: 1, critical: 2 } }])).toEqual([
        expect.stringMatching(/^overrides\.0\.endpoint: must be a path, or a method and a path/),
      ]);
    }
    expect(issues([{ endpoint: "/a", response_time: { warning: 3, critical: 2 } }])).toEqual([
      "overrides.0.response_time: critical must be at least warning",
    ]);
    expect(issues([{ endpoint: "/a", error_rate: { warning: 0.5, critical: 1.5 } }])).toHaveLength(1);
    expect(issues([{ endpoint: "/a", response_time: { warning: 1 } }])).toHaveLength(1);
    expect(
      issues([{ endpoint: "/a", response_time: { warning: 1, critical: 2, windowSeconds: 60 } }]),
    ).toHaveLength(1);
    expect(issues([{ apiKeyId: 0, response_time: { warning: 1, critical: 2 } }])).toHaveLength(1);
    expect(
      issues([{ endpoint: "/a", response_time: { warning: 1, critical: 2 }, note: "x".repeat(201) }]),
    ).toHaveLength(1);
  });

  it("refuses two overrides of the same endpoint and key, and more than the maximum", () => {
    const rt = { warning: 3, critical: 6 };
    expect(
      issues([
        { endpoint: "GET /a", response_time: rt },
        { endpoint: "GET /a", apiKeyId: 3, response_time: rt },
        { endpoint: "/a", response_time: rt },
        { apiKeyId: 3, endpoint: "GET /a", error_rate: { warning: 0.1, critical: 0.2 } },
      ]),
    ).toEqual(["overrides.3.endpoint: override 2 has the same endpoint and key: change that one instead"]);
    const many = Array.from({ length: MAX_THRESHOLD_OVERRIDES + 1 }, (_, i) => ({
      endpoint: `/p${i}`,
      response_time: rt,
    }));
    expect(issues(many)).toHaveLength(1);
    expect(issues(many.slice(1))).toEqual([]);
  });

  describe("resolution", () => {
    const resolve = (overrides: unknown[]) =>
      endpointThresholdResolver(
        alertThresholdsSchema.parse({
          error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 60 },
          overrides,
        }),
      );
    const rt = (warning: number) => ({ warning, critical: warning * 2 });

    it("gives the global thresholds, the same object, where no override applies", () => {
      const none = resolve([]);
      expect(none(1, "GET", "/a")).toBe(none(2, "POST", "/b"));
      const some = resolve([{ endpoint: "/x", response_time: rt(5) }]);
      expect(some(1, "GET", "/a")).toEqual({
        response_time: { warning: 1, critical: 2 },
        error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 60, minRequests: 20 },
      });
    });

    it("takes, per rule, the most specific override that sets it", () => {
      const at = resolve([
        { apiKeyId: 7, response_time: rt(10), error_rate: { warning: 0.5, critical: 0.9 } },
        { endpoint: "/export", response_time: rt(4) },
        { endpoint: "GET /export", response_time: rt(5) },
        { apiKeyId: 7, endpoint: "/export", error_rate: { warning: 0.3, critical: 0.6 } },
        { apiKeyId: 7, endpoint: "GET /export", response_time: rt(8) },
      ]);
      expect(at(7, "GET", "/export")).toEqual({
        response_time: rt(8),
        responseTimeSetFor: "key 7, GET /export",
        error_rate: { warning: 0.3, critical: 0.6, windowSeconds: 60, minRequests: 20 },
        errorRateSetFor: "key 7, /export",
      });
      expect(at(7, "POST", "/export")).toMatchObject({ response_time: rt(4), responseTimeSetFor: "/export" });
      expect(at(8, "GET", "/export")).toEqual({
        response_time: rt(5),
        responseTimeSetFor: "GET /export",
        error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 60, minRequests: 20 },
      });
      expect(at(7, "GET", "/other")).toMatchObject({
        response_time: rt(10),
        responseTimeSetFor: "key 7",
        error_rate: { warning: 0.5, critical: 0.9 },
        errorRateSetFor: "key 7",
      });
      // Paths are matched whole: a prefix is another endpoint.
      expect(at(8, "GET", "/export/2").responseTimeSetFor).toBeUndefined();
    });

    it("matches patterns after the exact endpoints of their scope, the most literal one first", () => {
      const at = resolve([
        { endpoint: "/api/reports/*", response_time: rt(5) },
        { endpoint: "GET /api/reports/*/export", response_time: rt(20) },
        { endpoint: "/api/reports/:id", response_time: rt(3) },
        { apiKeyId: 7, endpoint: "/api/*", error_rate: { warning: 0.4, critical: 0.8 } },
        { apiKeyId: 7, response_time: rt(9), error_rate: { warning: 0.6, critical: 0.9 } },
        { endpoint: "/api/*", error_rate: { warning: 0.2, critical: 0.3 } },
      ]);
      expect(at(8, "GET", "/api/reports/:id/summary")).toMatchObject({
        response_time: rt(5),
        responseTimeSetFor: "/api/reports/*",
        errorRateSetFor: "/api/*",
      });
      // The longer pattern wins, for its method only; the exact path beats both.
      expect(at(8, "GET", "/api/reports/:id/export").responseTimeSetFor).toBe("GET /api/reports/*/export");
      expect(at(8, "POST", "/api/reports/:id/export").responseTimeSetFor).toBe("/api/reports/*");
      expect(at(8, "GET", "/api/reports/:id").responseTimeSetFor).toBe("/api/reports/:id");
      // The key's pattern beats the endpoint's for the rule it sets; the key alone comes last.
      expect(at(7, "GET", "/api/reports/:id/summary")).toMatchObject({
        response_time: rt(5),
        error_rate: { warning: 0.4, critical: 0.8 },
        errorRateSetFor: "key 7, /api/*",
      });
      expect(at(7, "GET", "/health")).toMatchObject({
        responseTimeSetFor: "key 7",
        errorRateSetFor: "key 7",
      });
      expect(at(8, "GET", "/health").responseTimeSetFor).toBeUndefined();
      // A pattern is not read as a path of its own: `/api/*` is not the endpoint "/api/*" alone.
      expect(at(8, "GET", "/apix").errorRateSetFor).toBeUndefined();
    });
  });
});
