import { z } from "zod";
import {
  DEFAULT_ALERT_THRESHOLDS,
  RATE_LIMIT_APPROACHING_RATIO,
  UNAUTHORIZED_ACCESS_THRESHOLD,
} from "./defaults";
import { ENDPOINT_WILDCARD, endpointMatches } from "./endpoints";
import { FREE_TEXT, MAX_INT, SINGLE_LINE } from "./input";

/**
 * The alert settings contract between the alerts API (which writes the single `alert_settings`
 * row) and the anomaly detector (which reads it and applies changes live).
 *
 * `alertThresholds` keeps the spec's `alert_thresholds` shape (response_time / error_rate /
 * usage_spike with warning and critical, in the spec's units) and extends it with the knobs each
 * rule needs (windows, minimum samples) and two more rules. Every field has the spec's default,
 * so `{}` or a partial document parses to a complete one. Every object is strict: a misspelt
 * field (`windowSecond`) is refused, not dropped while its default silently applies.
 */
const pair = (warning: number, critical: number) =>
  z
    .object({ warning: z.number().positive(), critical: z.number().positive() })
    .strict()
    .refine((t) => t.critical >= t.warning, { message: "critical must be at least warning" })
    .default({ warning, critical });

const seconds = (fallback: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(fallback);

/** A warning and a critical threshold, critical at least warning; `max` bounds a share. */
const thresholdPair = (max?: number) => {
  const value = max === undefined ? z.number().positive() : z.number().positive().max(max);
  return z
    .object({ warning: value, critical: value })
    .strict()
    .refine((t) => t.critical >= t.warning, { message: "critical must be at least warning" });
};

/**
 * An endpoint as alerts name it, `GET /api/users/:id`, or a path alone, `/api/users/:id`, for
 * every method. Paths are the edge's normalised ones (ids replaced by `:id`). A `*` in the path
 * stands for any run of characters (`endpointMatches`): `/api/reports/*`.
 */
export const ENDPOINT_PATTERN = /^(?:[A-Z]{1,16} )?\/[^\s]*$/;

/**
 * Thresholds of the per-endpoint rules for one endpoint, one API key or one key's endpoint, in
 * place of the global ones: an export that takes 5 s by design, a staging key whose errors matter
 * less. Each rule takes the most specific override that sets it (see `overrideScopes`).
 */
export const thresholdOverrideSchema = z
  .object({
    endpoint: z
      .string()
      .max(512)
      .regex(
        ENDPOINT_PATTERN,
        "must be a path, or a method and a path, as alerts give it: GET /api/users/:id",
      )
      .regex(SINGLE_LINE, "must not contain control characters")
      .optional(),
    apiKeyId: z.number().int().positive().max(MAX_INT).optional(),
    /** Seconds per request. */
    response_time: thresholdPair().optional(),
    /** Share of 5xx responses (0..1); the window and minimum requests stay the global ones. */
    error_rate: thresholdPair(1).optional(),
    /** Why this endpoint or key is different, for whoever reads the settings next. */
    note: z
      .string()
      .trim()
      .max(200)
      .regex(FREE_TEXT, "must not contain control characters other than tabs and line breaks")
      // The document's generator writes a regex's flags into the pattern; the source is the pattern.
      .meta({ pattern: FREE_TEXT.source })
      .optional(),
  })
  .strict()
  .refine((o) => o.endpoint !== undefined || o.apiKeyId !== undefined, {
    message: "an override names an endpoint, an API key or both",
    path: ["endpoint"],
  })
  .refine((o) => o.response_time !== undefined || o.error_rate !== undefined, {
    message: "an override sets response_time, error_rate or both",
    path: ["response_time"],
  });

export type ThresholdOverride = z.output<typeof thresholdOverrideSchema>;

/** At most this many overrides: they are for exceptions, not for every endpoint. */
export const MAX_THRESHOLD_OVERRIDES = 200;

const overridesSchema = z
  .array(thresholdOverrideSchema)
  .max(MAX_THRESHOLD_OVERRIDES)
  .superRefine((overrides, ctx) => {
    const seen = new Map<string, number>();
    overrides.forEach((o, i) => {
      const scope = `${o.apiKeyId ?? ""} ${o.endpoint ?? ""}`;
      const first = seen.get(scope);
      if (first === undefined) seen.set(scope, i);
      else
        ctx.addIssue({
          code: "custom",
          path: [i, "endpoint"],
          message: `override ${first + 1} has the same endpoint and key: change that one instead`,
        });
    });
  })
  .default([])
  .describe(
    "response_time and error_rate thresholds of particular endpoints (`GET /api/export`, or `/api/export` " +
      "for every method; a `*` in the path stands for any run of characters: `/api/reports/*`), API keys, or " +
      "a key's endpoint, in place of the global ones. For each rule the most specific override that sets it " +
      "applies: the key's method and path, the key's path, the key's patterns, the method and path, the path, " +
      "the patterns, the key; of two patterns, the one with more literal characters.",
  );

export const alertThresholdsSchema = z
  .object({
    /** Seconds per request. */
    response_time: pair(
      DEFAULT_ALERT_THRESHOLDS.response_time.warning,
      DEFAULT_ALERT_THRESHOLDS.response_time.critical,
    ),
    /** Share of 5xx responses (0..1) in a sliding window per key and endpoint. */
    error_rate: z
      .object({
        warning: z.number().positive().max(1),
        critical: z.number().positive().max(1),
        windowSeconds: seconds(300),
        minRequests: z.number().int().min(1).default(20),
      })
      .strict()
      .refine((t) => t.critical >= t.warning, { message: "critical must be at least warning" })
      .default({
        warning: DEFAULT_ALERT_THRESHOLDS.error_rate.warning,
        critical: DEFAULT_ALERT_THRESHOLDS.error_rate.critical,
        windowSeconds: 300,
        minRequests: 20,
      }),
    /** Multiples of a key's baseline request rate. */
    usage_spike: z
      .object({
        warning: z.number().positive(),
        critical: z.number().positive(),
        /** The current window whose rate is compared with the baseline. */
        windowSeconds: seconds(300),
        /** How far back the baseline (an exponentially weighted average) looks. */
        baselineSeconds: seconds(3600),
        /** Below this many requests per window in the baseline, no spike is reported. */
        minBaselineRequests: z.number().int().min(1).default(10),
      })
      .strict()
      .refine((t) => t.critical >= t.warning, { message: "critical must be at least warning" })
      .default({
        warning: DEFAULT_ALERT_THRESHOLDS.usage_spike.warning,
        critical: DEFAULT_ALERT_THRESHOLDS.usage_spike.critical,
        windowSeconds: 300,
        baselineSeconds: 3600,
        minBaselineRequests: 10,
      }),
    /** More than `critical` failed authentications per window from one IP or against one key. */
    unauthorized_access: z
      .object({ critical: z.number().int().min(1), windowSeconds: seconds(3600) })
      .strict()
      .default({ critical: UNAUTHORIZED_ACCESS_THRESHOLD, windowSeconds: 3600 }),
    /** Share (0..1) of any rate-limit window used. */
    rate_limit_approaching: z
      .object({ warning: z.number().positive().max(1) })
      .strict()
      .default({ warning: RATE_LIMIT_APPROACHING_RATIO }),
    /** A condition must hold for this many consecutive evaluations before it fires (damping). */
    consecutiveEvaluations: z.number().int().min(1).max(100).default(1),
    /** A firing condition that stopped matching resolves after this quiet period. */
    quietPeriodSeconds: seconds(300),
    /** response_time and error_rate thresholds of particular endpoints and keys. */
    overrides: overridesSchema,
  })
  .strict();

export type AlertThresholdSettings = z.output<typeof alertThresholdsSchema>;

export const escalationSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** A critical alert still unacknowledged after this long goes to the escalation channels. */
    afterSeconds: seconds(900),
    channelIds: z.array(z.number().int().positive().max(MAX_INT)).max(50).default([]),
  })
  .strict();

export const alertSettingsSchema = z
  .object({
    alertThresholds: alertThresholdsSchema.default(alertThresholdsSchema.parse({})),
    /** Reminder interval while an alert fires unacknowledged. */
    repeatIntervalSeconds: seconds(3600),
    /**
     * An alert that opens less than this long after the last notification about an alert of its
     * type and endpoint is held back, and the alerts held go together, one message per channel,
     * once the interval is over (reminders falling due together go as one message too); 0: every
     * alert is notified on its own at once.
     */
    groupIntervalSeconds: z.number().int().min(0).max(86_400).default(300),
    escalation: escalationSchema.default(escalationSchema.parse({})),
  })
  .strict();

export type AlertSettings = z.output<typeof alertSettingsSchema>;

/** The settings with every default: what applies while the `alert_settings` row is absent. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = alertSettingsSchema.parse({});

/** The thresholds the per-endpoint rules apply to one key's endpoint. */
export interface EndpointThresholds {
  response_time: AlertThresholdSettings["response_time"];
  error_rate: AlertThresholdSettings["error_rate"];
  /** The scope of the override each came from (`GET /api/export`, `key 3`); absent: the global ones. */
  responseTimeSetFor?: string;
  errorRateSetFor?: string;
}

const scopeKey = (apiKeyId: number | undefined, endpoint: string | undefined) =>
  `${apiKeyId ?? ""} ${endpoint ?? ""}`;

/** An override's scope as alerts and pages name it: `GET /api/export`, `key 3`, `key 3, GET /api/export`. */
export function describeOverrideScope(o: Pick<ThresholdOverride, "endpoint" | "apiKeyId">): string {
  if (o.apiKeyId === undefined) return o.endpoint as string;
  return o.endpoint === undefined ? `key ${o.apiKeyId}` : `key ${o.apiKeyId}, ${o.endpoint}`;
}

/** The overrides whose endpoint is a pattern, most specific first: the most literal characters. */
function patternOverrides(overrides: readonly ThresholdOverride[]) {
  const literal = (o: ThresholdOverride) => (o.endpoint ?? "").replaceAll(ENDPOINT_WILDCARD, "").length;
  return overrides
    .filter((o) => o.endpoint?.includes(ENDPOINT_WILDCARD))
    .sort((a, b) => literal(b) - literal(a));
}

/**
 * Resolves the thresholds of one key's endpoint. For each rule the most specific override that
 * sets it wins: the key's method and path, the key's path (any method), the key's patterns, the
 * method and path, the path, the patterns, the key; else the global thresholds. An endpoint's own
 * nature (an export is slow for everyone) is more specific than a key's, so it comes before the
 * key alone. A pattern (`/api/reports/*`, `GET /api/reports/*`) comes after the exact endpoints
 * of its scope; of two patterns that match, the one with more literal characters wins, then the
 * one listed first.
 */
export function endpointThresholdResolver(
  t: AlertThresholdSettings,
): (apiKeyId: number, method: string, path: string) => EndpointThresholds {
  const patterns = patternOverrides(t.overrides);
  const byScope = new Map(
    t.overrides.filter((o) => !patterns.includes(o)).map((o) => [scopeKey(o.apiKeyId, o.endpoint), o]),
  );
  const global: EndpointThresholds = { response_time: t.response_time, error_rate: t.error_rate };
  if (t.overrides.length === 0) return () => global;
  return (apiKeyId, method, path) => {
    const label = `${method} ${path}`;
    // A pattern of a path alone is matched against the path, one with a method against both.
    const matching = (key: number | undefined) =>
      patterns.filter(
        (o) =>
          o.apiKeyId === key &&
          endpointMatches(o.endpoint as string, o.endpoint?.startsWith("/") ? path : label),
      );
    const candidates = [
      byScope.get(scopeKey(apiKeyId, label)),
      byScope.get(scopeKey(apiKeyId, path)),
      ...matching(apiKeyId),
      byScope.get(scopeKey(undefined, label)),
      byScope.get(scopeKey(undefined, path)),
      ...matching(undefined),
      byScope.get(scopeKey(apiKeyId, undefined)),
    ];
    const rt = candidates.find((o) => o?.response_time !== undefined);
    const er = candidates.find((o) => o?.error_rate !== undefined);
    if (rt === undefined && er === undefined) return global;
    return {
      response_time: rt?.response_time ?? t.response_time,
      error_rate: er?.error_rate ? { ...t.error_rate, ...er.error_rate } : t.error_rate,
      ...(rt ? { responseTimeSetFor: describeOverrideScope(rt) } : {}),
      ...(er ? { errorRateSetFor: describeOverrideScope(er) } : {}),
    };
  };
}
