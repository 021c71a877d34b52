// Every input of the API, validated before anything touches the database. Objects are strict
// (an unknown field is a 400 naming it), strings are bounded and free of NUL (Postgres text
// cannot hold it), ids are bounded by the integer columns they name.
import { isIP } from "node:net";
import {
  alertSettingsSchema,
  auditActions,
  auditSources,
  auditTargetTypes,
  FREE_TEXT,
  SINGLE_LINE,
} from "@apimon/config";
import { alertSeverities, alertTypes } from "@apimon/events";
import { dateTimeString, type FieldError, idString, MAX_INT, paginationQuery } from "@apimon/http";
import { z } from "zod";

export const NAME_MAX = 200;
export const NOTE_MAX = 2000;
export const TARGET_MAX = 2048;
export const MAX_EMAIL_RECIPIENTS = 50;
/** Longest date range of history and report queries. */
export const MAX_RANGE_DAYS = 366;
/** The report's range when the query names none: the last 30 days. */
export const DEFAULT_REPORT_DAYS = 30;
/** Longest silence: one forgotten about must not hide alerts for good. */
export const MAX_SILENCE_DAYS = 30;
export const COMMENT_MAX = 500;

const singleLine = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max)
    .regex(SINGLE_LINE, "must not contain control characters")
    // The document's generator writes a regex's flags into the pattern; the source is the pattern.
    .meta({ pattern: SINGLE_LINE.source });

const isoDateTime = dateTimeString().transform((value) => new Date(value));

export const idParamSchema = z.object({ id: idString });

const filters = {
  type: z.enum(alertTypes, `must be one of ${alertTypes.join(", ")}`).optional(),
  severity: z.enum(alertSeverities, `must be one of ${alertSeverities.join(", ")}`).optional(),
  apiKeyId: idString.optional(),
  endpoint: singleLine(512)
    .describe(
      "The alerts about this endpoint, `GET /api/users/:id`; a `*` stands for any run of characters: " +
        "`* /api/billing/*`",
    )
    .optional(),
};

const rangeChecks = (q: { from?: Date; to?: Date }, ctx: z.RefinementCtx) => {
  if (q.from && q.to && q.from >= q.to)
    ctx.addIssue({ code: "custom", path: ["from"], message: "must be before to" });
  if (q.from && q.to && q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * 86_400_000)
    ctx.addIssue({
      code: "custom",
      path: ["to"],
      message: `the range may span at most ${MAX_RANGE_DAYS} days`,
    });
};

/** `GET /alerts`: active alerts (firing or acknowledged). */
export const activeAlertsQuerySchema = z
  .object({
    ...paginationQuery,
    ...filters,
    status: z
      .enum(
        ["firing", "acknowledged"],
        "must be firing or acknowledged (resolved alerts are listed by /api/v1/alerts/history)",
      )
      .optional(),
  })
  .strict();

/** `GET /alerts/history`: every alert opened in [from, to), any status unless filtered. */
export const historyQuerySchema = z
  .object({
    ...paginationQuery,
    ...filters,
    status: z
      .enum(["firing", "acknowledged", "resolved"], "must be firing, acknowledged or resolved")
      .optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
  })
  .strict()
  .superRefine(rangeChecks);

/** `GET /alerts/report`: alerts opened in [from, to); by default the last 30 days. */
export const reportQuerySchema = z
  .object({ from: isoDateTime.optional(), to: isoDateTime.optional() })
  .strict()
  .superRefine(rangeChecks);

/** `POST /alerts/:id/acknowledge`; the body may be left out. */
export const acknowledgeSchema = z
  .object({
    by: singleLine(NAME_MAX).optional(),
    note: z
      .string()
      .max(NOTE_MAX)
      .regex(FREE_TEXT, "must not contain control characters other than tabs and line breaks")
      .meta({ pattern: FREE_TEXT.source })
      .optional(),
  })
  .strict();

/** Most alerts one `POST /alerts/acknowledge` takes. */
export const MAX_ACKNOWLEDGE_IDS = 500;

/** `POST /alerts/acknowledge`: several alerts at once, with one author and note. */
export const acknowledgeManySchema = acknowledgeSchema
  .extend({
    ids: z
      .array(z.number().int().min(1).max(MAX_INT), "must be a list of alert ids")
      .min(1, "must name at least one alert")
      .max(MAX_ACKNOWLEDGE_IDS, `may name at most ${MAX_ACKNOWLEDGE_IDS} alerts`),
  })
  .strict();

export const channelTypes = ["email", "slack", "webhook"] as const;
export type ChannelType = (typeof channelTypes)[number];

/** At most this many endpoint matchers a channel: a team's part of the API, not a route list. */
export const MAX_CHANNEL_ENDPOINTS = 20;
/** At most this many users a channel: a customer's channel, or an account team's few customers. */
export const MAX_CHANNEL_USERS = 50;

const channelFields = {
  name: singleLine(NAME_MAX),
  type: z.enum(channelTypes, "must be email, slack or webhook"),
  /** Email: a comma-separated address list. Slack and webhook: an http(s) URL. Checked by type. */
  target: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(TARGET_MAX)
    .regex(SINGLE_LINE, "must not contain control characters")
    .meta({ pattern: SINGLE_LINE.source }),
  /** Webhook signing secret (HMAC); null removes it. Never answered back. */
  secret: z
    .string()
    .min(16, "must be at least 16 characters")
    .max(256)
    .regex(SINGLE_LINE, "must not contain control characters")
    .meta({ pattern: SINGLE_LINE.source })
    .nullable(),
  minSeverity: z.enum(alertSeverities, "must be warning or critical"),
  alertTypes: z
    .array(z.enum(alertTypes, `must be one of ${alertTypes.join(", ")}`))
    .refine((types) => new Set(types).size === types.length, "must not name a type twice")
    .describe("The alert types it hears about; empty (the default): every type"),
  endpoints: z
    .array(singleLine(512))
    .max(MAX_CHANNEL_ENDPOINTS, `may hold at most ${MAX_CHANNEL_ENDPOINTS} endpoints`)
    .refine((endpoints) => new Set(endpoints).size === endpoints.length, "must not name an endpoint twice")
    .describe(
      "The endpoints of the alerts it hears about, as alerts name them or with `*` for any run of " +
        "characters (`* /api/billing/*`); empty (the default): every alert. An alert about no endpoint " +
        "(a usage spike, failed authentication) goes only to channels without endpoints",
    ),
  userIds: z
    .array(z.number().int("must be a user id").min(1, "must be a user id").max(MAX_INT, "must be a user id"))
    .max(MAX_CHANNEL_USERS, `may hold at most ${MAX_CHANNEL_USERS} users`)
    .refine((ids) => new Set(ids).size === ids.length, "must not name a user twice")
    .describe(
      "The users (customers) whose keys' alerts it hears about: an alert goes to it when its key belongs " +
        "to one of them; empty (the default): every alert. An alert about no key, or a key deleted since, " +
        "goes only to channels without users. Each must be a user that exists",
    ),
  enabled: z.boolean(),
};

export const createChannelSchema = z
  .object({
    name: channelFields.name.optional(),
    type: channelFields.type,
    target: channelFields.target,
    secret: channelFields.secret.optional(),
    minSeverity: channelFields.minSeverity.optional(),
    alertTypes: channelFields.alertTypes.optional(),
    endpoints: channelFields.endpoints.optional(),
    userIds: channelFields.userIds.optional(),
    enabled: channelFields.enabled.optional(),
  })
  .strict();

export const updateChannelSchema = z
  .object({
    name: channelFields.name.optional(),
    type: channelFields.type.optional(),
    target: channelFields.target.optional(),
    secret: channelFields.secret.optional(),
    minSeverity: channelFields.minSeverity.optional(),
    alertTypes: channelFields.alertTypes.optional(),
    endpoints: channelFields.endpoints.optional(),
    userIds: channelFields.userIds.optional(),
    enabled: channelFields.enabled.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, {
    message:
      "must change at least one of name, type, target, secret, minSeverity, alertTypes, endpoints, userIds, enabled",
  });

export type CreateChannelBody = z.output<typeof createChannelSchema>;
export type UpdateChannelBody = z.output<typeof updateChannelSchema>;

const emailAddress = z.email();

/**
 * The checks that depend on the channel's type, run on the channel as it will be stored (so an
 * update that changes only the type re-checks the old target). Returns the normalised target
 * (email lists without blanks) or the problems.
 */
export function checkChannelTarget(channel: {
  type: ChannelType;
  target: string;
  secret?: string | null;
}): { target: string } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  let target = channel.target.trim();
  if (channel.type === "email") {
    const addresses = target
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    if (addresses.length === 0 || addresses.length > MAX_EMAIL_RECIPIENTS) {
      errors.push({ field: "target", message: `must list 1 to ${MAX_EMAIL_RECIPIENTS} email addresses` });
    }
    const bad = addresses.filter((a) => !emailAddress.safeParse(a).success);
    if (bad.length > 0)
      errors.push({ field: "target", message: `not an email address: ${bad.slice(0, 3).join(", ")}` });
    target = addresses.join(",");
  } else {
    let url: URL | undefined;
    try {
      url = new URL(target);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      errors.push({ field: "target", message: `must be an http(s) URL for a ${channel.type} channel` });
    }
  }
  if (channel.secret != null && channel.type !== "webhook") {
    errors.push({ field: "secret", message: "only webhook channels take a signing secret" });
  }
  return errors.length > 0 ? { errors } : { target };
}

/**
 * `PUT /alerts/settings`: the settings document, as GET answers it; every other unknown field is
 * a 400. Its `updatedAt`, when given, is the version the document was edited from: a PUT based on
 * settings someone has saved since is refused, so that two people editing at once do not silently
 * undo each other's changes. Left out, the PUT replaces whatever is saved.
 */
export const putSettingsSchema = alertSettingsSchema
  .extend({
    updatedAt: z
      .string()
      .nullable()
      .optional()
      .describe(
        "The `updatedAt` GET answered (null: the defaults, nothing saved yet). Given, the PUT is refused " +
          "with 409 if the settings were saved since; left out, it replaces them regardless",
      ),
  })
  .transform(({ updatedAt, ...settings }) => ({ settings, basedOn: updatedAt }));

/** `GET /audit`: the changes admins made, newest first. */
export const auditQuerySchema = z
  .object({
    ...paginationQuery,
    targetType: z.enum(auditTargetTypes, `must be one of ${auditTargetTypes.join(", ")}`).optional(),
    targetId: idString
      .optional()
      .describe("With `targetType`: the changes of that user, key, channel, silence, operator or alert"),
    action: z
      .enum(auditActions, `must be one of ${auditActions.join(", ")}`)
      .optional()
      .describe("One action, such as `key.deactivated`"),
    source: z.enum(auditSources, `must be one of ${auditSources.join(", ")}`).optional(),
    operatorId: idString.optional().describe("The changes made with that operator's token"),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    rangeChecks(q, ctx);
    if (q.targetId !== undefined && q.targetType === undefined)
      ctx.addIssue({ code: "custom", path: ["targetId"], message: "needs targetType" });
  });

export const silenceStates = ["active", "pending", "expired"] as const;

/** `GET /alerts/silences`: by default the silences not yet over (active and pending). */
export const silencesQuerySchema = z
  .object({
    ...paginationQuery,
    state: z.enum(silenceStates, `must be one of ${silenceStates.join(", ")}`).optional(),
  })
  .strict();

/**
 * `POST /alerts/silences`. The checks that need the clock (ends in the future, after it starts,
 * at most MAX_SILENCE_DAYS long) are the route's: `checkSilenceRange`.
 */
export const createSilenceSchema = z
  .object({
    type: filters.type,
    apiKeyId: z
      .number()
      .int()
      .min(1, `must be an integer from 1 to ${MAX_INT}`)
      .max(MAX_INT, `must be an integer from 1 to ${MAX_INT}`)
      .optional(),
    endpoint: singleLine(512)
      .describe(
        "As alerts name it: method and normalised route, e.g. `GET /api/users/:id`; `*` stands for any run of " +
          "characters: `GET /api/billing/*`, `* /api/billing/*`",
      )
      .optional(),
    clientIp: singleLine(64)
      .refine(
        (ip) => isIP(ip) !== 0,
        "must be an IP address, as failed-authentication alerts name the client",
      )
      .optional(),
    startsAt: isoDateTime.optional().describe("Default: now"),
    endsAt: isoDateTime,
    comment: singleLine(COMMENT_MAX).describe("Why: shown wherever the silence is"),
    createdBy: singleLine(NAME_MAX).optional(),
  })
  .strict();

export type CreateSilenceBody = z.output<typeof createSilenceSchema>;

/** `PATCH /alerts/silences/:id`: a new end (to extend or shorten it) or comment; not its matchers. */
export const updateSilenceSchema = z
  .object({
    endsAt: isoDateTime.optional(),
    comment: singleLine(COMMENT_MAX).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "must change at least one of endsAt, comment" });

/** The range checks of a new silence at `now`; the problems, if any. */
export function checkSilenceRange(body: { startsAt?: Date; endsAt: Date }, now: Date): FieldError[] {
  const startsAt = body.startsAt ?? now;
  const errors: FieldError[] = [];
  if (body.endsAt <= now) errors.push({ field: "endsAt", message: "must be in the future" });
  else if (body.endsAt <= startsAt) errors.push({ field: "endsAt", message: "must be after startsAt" });
  const from = startsAt > now ? startsAt : now;
  if (body.endsAt.getTime() - from.getTime() > MAX_SILENCE_DAYS * 86_400_000) {
    errors.push({ field: "endsAt", message: `a silence may last at most ${MAX_SILENCE_DAYS} days` });
  }
  return errors;
}
