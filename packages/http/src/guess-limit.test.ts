import { createMetricsRegistry } from "@apimon/observability";
import { createGuessLimit } from "./guess-limit";

const MINUTE = 60_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE); // the start of a minute

describe("wrong admin tokens per client source", () => {
  it("refuses a source that used up its minute until the minute ends, and only that source", () => {
    const limit = createGuessLimit({ perMinute: 3 });
    expect(limit.failed("203.0.113.5", T0)).toBe(false);
    expect(limit.failed("203.0.113.5", T0 + 1)).toBe(false);
    expect(limit.retryAfterSeconds("203.0.113.5", T0 + 2)).toBe(0);
    expect(limit.failed("203.0.113.5", T0 + 2)).toBe(true);
    expect(limit.retryAfterSeconds("203.0.113.5", T0 + 15_500)).toBe(45);
    expect(limit.retryAfterSeconds("203.0.113.5", T0 + MINUTE - 1)).toBe(1);
    expect(limit.retryAfterSeconds("203.0.113.6", T0 + 3)).toBe(0);
    expect(limit.retryAfterSeconds("203.0.113.5", T0 + MINUTE)).toBe(0);
    expect(limit.failed("203.0.113.5", T0 + MINUTE)).toBe(false);
  });

  it("counts an IPv6 client by its /64, and IPv4-mapped addresses as IPv4", () => {
    const limit = createGuessLimit({ perMinute: 2 });
    limit.failed("2001:db8:0:12::1", T0);
    limit.failed("2001:db8:0:12:ffff::9", T0);
    expect(limit.retryAfterSeconds("2001:db8:0:12::77", T0)).toBe(60);
    expect(limit.retryAfterSeconds("2001:db8:0:13::1", T0)).toBe(0);
    limit.failed("::ffff:198.51.100.7", T0);
    limit.failed("198.51.100.7", T0);
    expect(limit.retryAfterSeconds("198.51.100.7", T0)).toBe(60);
  });

  it("forgets the source that failed least recently once it tracks its most", () => {
    const limit = createGuessLimit({ perMinute: 1, maxSources: 2 });
    limit.failed("192.0.2.1", T0);
    limit.failed("192.0.2.2", T0);
    limit.failed("192.0.2.1", T0);
    limit.failed("192.0.2.3", T0);
    expect(limit.retryAfterSeconds("192.0.2.1", T0)).toBe(60);
    expect(limit.retryAfterSeconds("192.0.2.2", T0)).toBe(0);
    expect(limit.retryAfterSeconds("192.0.2.3", T0)).toBe(60);
  });

  it("counts nothing without an address", () => {
    const limit = createGuessLimit({ perMinute: 1 });
    expect(limit.failed(undefined, T0)).toBe(false);
    expect(limit.failed(undefined, T0)).toBe(false);
    expect(limit.retryAfterSeconds(undefined, T0)).toBe(0);
  });

  it("counts wrong tokens and refusals in admin_token_refusals_total", async () => {
    const registry = createMetricsRegistry("test", { defaultMetrics: false });
    const limit = createGuessLimit({ perMinute: 2, registry });
    limit.failed("192.0.2.1", T0);
    limit.failed("192.0.2.1", T0);
    limit.retryAfterSeconds("192.0.2.1", T0);
    limit.retryAfterSeconds("192.0.2.2", T0);
    const text = await registry.metrics();
    expect(text).toContain('admin_token_refusals_total{reason="wrong_token",service="test"} 2');
    expect(text).toContain('admin_token_refusals_total{reason="too_many",service="test"} 1');
  });
});
