// Every input of the API, validated before anything touches the database. Objects are strict
// (an unknown field is a 400 naming it: a typo must not be silently ignored), strings are
// bounded, and numbers that reach an `integer` column are bounded by it, so that no input can
// make Postgres fail with a 500. Postgres text cannot hold NUL, hence the control-character rules.
import { FREE_TEXT, operatorRoles, SINGLE_LINE } from "@apimon/config";
import { escapeLike } from "@apimon/db";
import {
  dateTimeString,
  idListString,
  idString,
  intString,
  MAX_INT,
  MAX_PAGE_SIZE,
  paginationQuery,
} from "@apimon/http";
import { z } from "zod";
import { MAX_GRACE_SECONDS } from "./domain/key-policy";
import { GRANULARITIES } from "./domain/usage-range";

export const NAME_MAX = 200;
export const DESCRIPTION_MAX = 2000;
/** The longest address mail can carry (RFC 5321: a path of 256 octets, its brackets included). */
export const EMAIL_MAX = 254;
/** The longest local part, before the `@` (RFC 5321, 4.5.3.1.1). */
const EMAIL_LOCAL_MAX = 64;

const id = z.number().int().positive().max(MAX_INT);
const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(NAME_MAX)
  .regex(SINGLE_LINE, "must not contain control characters")
  // The document's generator writes a regex's flags into the pattern; the source is the pattern.
  .meta({ pattern: SINGLE_LINE.source });
const description = z
  .string()
  .max(DESCRIPTION_MAX)
  .regex(FREE_TEXT, "must not contain control characters other than tabs and line breaks")
  .meta({ pattern: FREE_TEXT.source });
// Lower-cased so that one mailbox is one user whatever the capitalisation.
const email = z
  .email("must be a valid email address")
  .max(EMAIL_MAX, `must be at most ${EMAIL_MAX} characters`)
  .refine(
    (address) => address.lastIndexOf("@") <= EMAIL_LOCAL_MAX,
    `must have at most ${EMAIL_LOCAL_MAX} characters before the @`,
  )
  .toLowerCase();
const rateLimit = z.number().int().positive().max(MAX_INT);
/** When the edge stops accepting a key; null for never. A time must lie in the future (the handler checks it against the service's clock). */
const keyExpiry = z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time" }).nullable();

export const idParamSchema = z.object({ id: idString });

/**
 * Text to look for: a key's name or the start of its prefix, a user's name or email. Prisma's
 * `contains` and `startsWith` pass LIKE's wildcards through, so they are escaped here: `%` and
 * `_` are looked for as themselves.
 */
const search = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(NAME_MAX)
  .regex(SINGLE_LINE, "must not contain control characters")
  .meta({ pattern: SINGLE_LINE.source })
  .transform(escapeLike);

export const listUsersQuerySchema = z
  .object({
    ...paginationQuery,
    /** Only these users (a page's worth at most): names for the ids another answer gave. */
    ids: idListString(MAX_PAGE_SIZE).optional(),
    search: search.optional(),
  })
  .strict();

export const listKeysQuerySchema = z
  .object({
    ...paginationQuery,
    userId: idString.optional(),
    active: z.enum(["true", "false"], "must be true or false").optional(),
    /** Only these keys (a page's worth at most): names for the ids another answer gave. */
    ids: idListString(MAX_PAGE_SIZE).optional(),
    search: search.optional(),
  })
  .strict();

export const createUserSchema = z.object({ email, name }).strict();

const operatorRole = z.enum(operatorRoles, `must be one of ${operatorRoles.join(", ")}`);

/** `POST /operators`: a name for people, and what the token may do (a viewer's reads, unless asked for more). */
export const createOperatorSchema = z.object({ name, role: operatorRole.default("viewer") }).strict();

/** `PATCH /operators/:id`: another name, or another role for the same token. */
export const updateOperatorSchema = z
  .object({ name: name.optional(), role: operatorRole.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "must change at least one of name, role" });

export const listOperatorsQuerySchema = z
  .object({
    ...paginationQuery,
    revoked: z
      .enum(["true", "false"], "must be true or false")
      .optional()
      .describe("`true`: only revoked operators; `false`: only those whose token works; all when left out"),
  })
  .strict();

export const updateUserSchema = z
  .object({ email: email.optional(), name: name.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "must change at least one of email, name" });

export const createKeySchema = z
  .object({
    userId: id,
    name,
    description: description.nullable().optional(),
    rateLimits: z
      .object({ minute: rateLimit.optional(), hour: rateLimit.optional(), day: rateLimit.optional() })
      .strict()
      .optional(),
    expiresAt: keyExpiry.optional(),
  })
  .strict();

export const updateKeySchema = z
  .object({
    name: name.optional(),
    description: description.nullable().optional(),
    isActive: z.boolean().optional(),
    expiresAt: keyExpiry.optional(),
    // null puts a window back on the default limit.
    rateLimits: z
      .object({
        minute: rateLimit.nullable().optional(),
        hour: rateLimit.nullable().optional(),
        day: rateLimit.nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, {
    message: "must change at least one of name, description, isActive, expiresAt, rateLimits",
  });

export const rotateKeySchema = z
  .object({ gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional() })
  .strict();

/** A point in time in a query string; ISO-8601 with a zone (`Z` or an offset). */
const queryTime = dateTimeString("must be an ISO-8601 date-time with a time zone");

/** `GET /keys/:id/usage`; the range itself (order, number of buckets) is checked by the handler. */
export const keyUsageQuerySchema = z
  .object({
    from: queryTime.optional(),
    to: queryTime.optional(),
    granularity: z.enum(GRANULARITIES, "must be minute, hour or day").default("hour"),
  })
  .strict();

/** `GET /usage`: the buckets of every key, or of one user's keys. */
export const usageQuerySchema = keyUsageQuerySchema.extend({ userId: idString.optional() }).strict();

export const MAX_SUMMARY_LIMIT = 100;
export const DEFAULT_SUMMARY_LIMIT = 10;

/** `GET /usage/summary`. */
export const usageSummaryQuerySchema = z
  .object({
    from: queryTime.optional(),
    to: queryTime.optional(),
    userId: idString.optional(),
    limit: intString(1, MAX_SUMMARY_LIMIT)
      .default(DEFAULT_SUMMARY_LIMIT)
      .meta({ default: DEFAULT_SUMMARY_LIMIT }),
  })
  .strict();

export type CreateKeyBody = z.output<typeof createKeySchema>;
export type UpdateKeyBody = z.output<typeof updateKeySchema>;
