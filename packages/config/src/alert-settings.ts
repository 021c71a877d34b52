import { z } from "zod";
import {
  DEFAULT_ALERT_THRESHOLDS,
  RATE_LIMIT_APPROACHING_RATIO,
  UNAUTHORIZED_ACCESS_THRESHOLD,
} from "./defaults";

/**
 * The alert settings contract between the alerts API (which writes the single `alert_settings`
 * row) and the anomaly detector (which reads it and applies changes live).
 *
 * `alertThresholds` keeps the spec's `alert_thresholds` shape (response_time / error_rate /
 * usage_spike with warning and critical, in the spec's units) and extends it with the knobs each
 * rule needs (windows, minimum samples) and two more rules. Every field has the spec's default,
 * so `{}` or a partial document parses to a complete one.
 */
const pair = (warning: number, critical: number) =>
  z
    .object({ warning: z.number().positive(), critical: z.number().positive() })
    .refine((t) => t.critical >= t.warning, { message: "critical must be at least warning" })
    .default({ warning, critical });

const seconds = (fallback: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(fallback);

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
      .default({ critical: UNAUTHORIZED_ACCESS_THRESHOLD, windowSeconds: 3600 }),
    /** Share (0..1) of any rate-limit window used. */
    rate_limit_approaching: z
      .object({ warning: z.number().positive().max(1) })
      .default({ warning: RATE_LIMIT_APPROACHING_RATIO }),
    /** A condition must hold for this many consecutive evaluations before it fires (damping). */
    consecutiveEvaluations: z.number().int().min(1).max(100).default(1),
    /** A firing condition that stopped matching resolves after this quiet period. */
    quietPeriodSeconds: seconds(300),
  })
  .strict();

export type AlertThresholdSettings = z.output<typeof alertThresholdsSchema>;

export const escalationSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** A critical alert still unacknowledged after this long goes to the escalation channels. */
    afterSeconds: seconds(900),
    channelIds: z.array(z.number().int().positive()).max(50).default([]),
  })
  .strict();

export const alertSettingsSchema = z
  .object({
    alertThresholds: alertThresholdsSchema.default(alertThresholdsSchema.parse({})),
    /** Reminder interval while an alert fires unacknowledged. */
    repeatIntervalSeconds: seconds(3600),
    escalation: escalationSchema.default(escalationSchema.parse({})),
  })
  .strict();

export type AlertSettings = z.output<typeof alertSettingsSchema>;

/** The settings with every default: what applies while the `alert_settings` row is absent. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = alertSettingsSchema.parse({});
