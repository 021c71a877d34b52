import { operatorRoles } from "@apimon/config";
import type { ApiKey, Operator, User } from "@apimon/db";
import { KEY_STATES } from "@apimon/key-registry";
import { z } from "zod";
import { effectiveRateLimits, keyState, type RateLimits } from "./domain/key-policy";
import { GRANULARITIES } from "./domain/usage-range";

// What the API answers: camelCase, ISO-8601 UTC times, and never the key material
// (the plaintext key is added only by the create and rotate handlers; the hash never leaves).
// Each shape is a schema: the OpenAPI document and the generated client are made from it, and
// the view functions below are typed by it.

const time = z.iso.datetime();
const count = z.number().int().min(0);

export const userSchema = z
  .object({ id: z.number().int(), email: z.string(), name: z.string(), createdAt: time })
  .meta({ id: "User" });

export const operatorSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    role: z.enum(operatorRoles).describe("admin: everything the admin token may do; viewer: reads only"),
    tokenPrefix: z.string().describe("The token's first characters, for recognising it"),
    createdAt: time,
    lastUsedAt: time.nullable().describe("When the token was last presented (to the minute)"),
    revokedAt: time.nullable().describe("When the token stopped working; null while it works"),
  })
  .meta({ id: "Operator" });

export const newOperatorSchema = operatorSchema
  .extend({
    token: z.string().describe("The operator's token. Shown only in this response; hand it over now."),
  })
  .meta({ id: "NewOperator" });

export function operatorView(row: Operator): z.output<typeof operatorSchema> {
  return {
    id: row.id,
    name: row.name,
    role: row.role as z.output<typeof operatorSchema>["role"],
    tokenPrefix: row.tokenPrefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export const callerSchema = z
  .object({
    operator: operatorSchema
      .pick({ id: true, name: true, role: true })
      .nullable()
      .describe("The operator whose token this is; null for the admin token"),
    role: z.enum(operatorRoles).describe("What the token may do (the admin token: admin)"),
  })
  .meta({ id: "Caller" });

export const rateLimitsSchema = z
  .object({ minute: z.number().int(), hour: z.number().int(), day: z.number().int() })
  .meta({ id: "RateLimits", description: "Requests allowed per window: the key's own or the defaults" });

const keySummaryShape = {
  id: z.number().int(),
  userId: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  prefix: z.string().describe("The key's first characters, for recognising it"),
  isActive: z.boolean(),
  state: z
    .enum(KEY_STATES)
    .describe(
      "What the edge does with the key now: accepts it (active), or answers 403 because it was deactivated or has expired",
    ),
  rateLimits: rateLimitsSchema,
  expiresAt: time.nullable(),
  createdAt: time,
};
const plaintext = z.string().describe("The plaintext key. Shown only in this response; store it now.");

export const keySchema = z
  .object({
    ...keySummaryShape,
    usageCount: count,
    lastUsed: time.nullable(),
    rotatedFromId: z.number().int().nullable(),
    updatedAt: time,
  })
  .meta({ id: "ApiKey" });

export const newKeySchema = z.object({ key: plaintext, ...keySummaryShape }).meta({ id: "NewApiKey" });

export const rotatedKeySchema = z
  .object({ key: plaintext, ...keySummaryShape, rotatedFromId: z.number().int().nullable() })
  .meta({ id: "RotatedApiKey" });

const ERROR_DEFINITION =
  "`errors` counts responses with status >= 500 (upstream and edge failures); `clientErrors` those from 400 to 499, 429s included";
const responseTimeMs = (what: string) =>
  z.number().nullable().describe(`${what} response time in milliseconds; null without requests`);
const EXACT = "Percentiles interpolate between the recorded response times, as Postgres' percentile_cont.";
const ESTIMATED =
  "estimated from latency histograms (buckets 9.05% wide): within 9.1% of percentile_cont's figure, or 0.1 ms below 0.1 ms";

/** What a usage answer's buckets hold, and which of their percentiles are exact. */
const BUCKETS = `${ERROR_DEFINITION}. By minute: ${EXACT} By hour or day, percentiles are ${ESTIMATED}.`;

const usageBuckets = z.array(
  z
    .object({
      start: time,
      requests: count,
      errors: count,
      clientErrors: count,
      rateLimited: count.describe("Requests the edge refused with 429"),
      p50ResponseTimeMs: responseTimeMs("Median"),
      p95ResponseTimeMs: responseTimeMs("95th percentile"),
    })
    .meta({ id: "UsageBucket" }),
);

export const keyUsageSchema = z
  .object({
    keyId: z.number().int(),
    from: time,
    to: time,
    granularity: z.enum(GRANULARITIES),
    buckets: usageBuckets,
  })
  .meta({
    id: "KeyUsage",
    description: BUCKETS,
  });

export const usageSchema = z
  .object({
    from: time,
    to: time,
    granularity: z.enum(GRANULARITIES),
    userId: z.number().int().optional().describe("Present when the query named a user"),
    buckets: usageBuckets,
  })
  .meta({
    id: "Usage",
    description: BUCKETS,
  });

export const usageSummarySchema = z
  .object({
    from: time,
    to: time,
    userId: z.number().int().optional().describe("Present when the query named a user"),
    requests: count,
    errors: count,
    clientErrors: count,
    errorRate: z.number().min(0).max(1),
    topKeys: z.array(
      z.object({
        keyId: z.number().int(),
        name: z.string().nullable(),
        requests: count,
        errors: count,
        p95ResponseTimeMs: responseTimeMs("95th percentile"),
      }),
    ),
    topEndpoints: z.array(
      z.object({
        endpoint: z.string(),
        method: z.string(),
        requests: count,
        errors: count,
        p95ResponseTimeMs: responseTimeMs("95th percentile"),
      }),
    ),
  })
  .meta({
    id: "UsageSummary",
    description: `${ERROR_DEFINITION}. The keys' and endpoints' percentiles are ${ESTIMATED}.`,
  });

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function userView(user: User): z.output<typeof userSchema> {
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() };
}

/** The fields answered with a new key (creation and rotation); `state` as of `now`. */
export function keySummaryView(key: ApiKey, defaults: RateLimits, now: Date) {
  return {
    id: key.id,
    userId: key.userId,
    name: key.name,
    description: key.description,
    prefix: key.keyPrefix,
    isActive: key.isActive,
    state: keyState(key, now),
    rateLimits: effectiveRateLimits(key, defaults),
    expiresAt: iso(key.expiresAt),
    createdAt: key.createdAt.toISOString(),
  } satisfies Omit<z.output<typeof newKeySchema>, "key">;
}

/** A key with its usage and history, as reads and updates answer it. */
export function keyView(key: ApiKey, defaults: RateLimits, now: Date): z.output<typeof keySchema> {
  return {
    ...keySummaryView(key, defaults, now),
    // A count beyond 2^53 would take millennia at any plausible rate; JSON numbers suffice.
    usageCount: Number(key.usageCount),
    lastUsed: iso(key.lastUsed),
    rotatedFromId: key.rotatedFromId,
    updatedAt: key.updatedAt.toISOString(),
  };
}
