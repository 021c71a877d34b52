import { validationMessage } from "@apimon/config";
import type { Context } from "hono";
import type { z } from "zod";
import { badRequest, type FieldError } from "./errors";

function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.length > 0 ? path.map(String).join(".") : "(body)";
}

/** An issue's bound as a number, positive when tighter: a lower maximum, a higher minimum. */
function boundTightness(issue: z.core.$ZodIssue): number | undefined {
  if (issue.code === "too_big") return -Number(issue.maximum);
  if (issue.code === "too_small") return Number(issue.minimum);
  return undefined;
}

/**
 * Whether another issue of the same field says the same thing with a tighter bound. A number far
 * out of range breaks `int()`'s safe range and the schema's own maximum alike; only the schema's
 * maximum means anything to whoever sent it.
 */
function hasTighterBound(issue: z.core.$ZodIssue, issues: readonly z.core.$ZodIssue[]): boolean {
  const tightness = boundTightness(issue);
  if (tightness === undefined) return false;
  const field = fieldName(issue.path);
  return issues.some(
    (other) =>
      other.code === issue.code &&
      fieldName(other.path) === field &&
      (boundTightness(other) ?? Number.NEGATIVE_INFINITY) > tightness,
  );
}

/**
 * Turns zod issues into `[{field, message}]`, with dotted paths (`rateLimits.minute`). A field the
 * schema does not know is named as the field itself, so that a typo points at the typo. Of a
 * field's bounds on one side only the tightest broken one is named.
 */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const errors = error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: fieldName([...issue.path, key]),
        message: "is not a known field",
      }));
    }
    if (hasTighterBound(issue, error.issues)) return [];
    return [{ field: fieldName(issue.path), message: issue.message }];
  });
  // Checks that share one message (a format's length and pattern) say it once.
  const seen = new Set<string>();
  return errors.filter(({ field, message }) => {
    const key = `${field}\n${message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses a value or throws a 400 listing the offending fields. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what = "request"): z.output<S> {
  const result = schema.safeParse(value, { error: validationMessage });
  if (!result.success) throw badRequest(`Invalid ${what}`, fieldErrors(result.error));
  return result.data;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const NOT_JSON = "Expected a JSON body (Content-Type: application/json)";

/** Reads and validates a JSON body; malformed JSON and schema failures are 400s, never 500s. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) throw badRequest(NOT_JSON);
  return parseJsonBody(await c.req.text(), schema);
}

function parseJsonBody<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("Malformed JSON body");
  }
  return parseOr400(schema, body, "body");
}

/** Validates the query string (every parameter as a string). */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseOr400(schema, c.req.query(), "query");
}

/**
 * Like readJson, for a body whose fields are all optional: it may be left out entirely. Left out
 * means no bytes, however the request says so: Content-Length: 0, or no framing at all, which is
 * what `curl -X POST` sends (an HTTP/1.1 request without Content-Length and Transfer-Encoding ends
 * at its header, RFC 9112, 6.3), and then it needs no content type either.
 */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = c.req.raw.body === null ? "" : await c.req.text();
  if (text === "") return parseOr400(schema, {}, "body");
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) throw badRequest(NOT_JSON);
  return parseJsonBody(text, schema);
}
