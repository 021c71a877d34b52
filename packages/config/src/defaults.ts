/**
 * The product spec's numbers (shared/seed/api-usage-monitoring.md). They are a public
 * contract: every default below is the spec's, and changing one is a product decision.
 */
export const RATE_LIMITS = { minute: 100, hour: 1000, day: 10000 } as const;

/** Seconds. */
export const RESPONSE_TIME_THRESHOLDS = { warning: 1.0, critical: 2.0 } as const;

export type RateLimitWindow = keyof typeof RATE_LIMITS;
export const RATE_LIMIT_WINDOWS: readonly RateLimitWindow[] = ["minute", "hour", "day"];
export const WINDOW_SECONDS: Readonly<Record<RateLimitWindow, number>> = {
  minute: 60,
  hour: 3600,
  day: 86_400,
};

export interface AlertThresholds {
  response_time: { warning: number; critical: number };
  error_rate: { warning: number; critical: number };
  usage_spike: { warning: number; critical: number };
}

/** The spec's `alert_thresholds`, in its own shape and units (seconds, ratios, multiples). */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  response_time: { warning: 1.0, critical: 2.0 },
  error_rate: { warning: 0.05, critical: 0.1 },
  usage_spike: { warning: 2.0, critical: 3.0 },
};

/** More than this many failed authentication attempts per hour raises a critical alert. */
export const UNAUTHORIZED_ACCESS_THRESHOLD = 5;

/** Share of a rate-limit window whose use raises a warning. */
export const RATE_LIMIT_APPROACHING_RATIO = 0.8;

/** Default ports (DESIGN.md § Public API shapes). */
export const DEFAULT_PORTS = {
  edge: 8080,
  /** The edge's own /metrics and detailed /readyz, apart from the client port. */
  edgeAdmin: 9080,
  alerts: 8081,
  keys: 8082,
  demoUpstream: 8090,
  // Beyond the spec: the consumers' health and metrics endpoints.
  usageRecorder: 8083,
  keyStats: 8084,
  anomalyDetector: 8085,
  notifier: 8086,
} as const;
