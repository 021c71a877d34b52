import type { z } from "zod";

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
};

const FORMAT_NAMES: Record<string, string> = {
  email: "a valid email address",
  url: "a URL",
  uuid: "a UUID",
  datetime: "an ISO-8601 date-time",
  date: "an ISO-8601 date",
  time: "an ISO-8601 time",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
};

/** "must be at least 1", "must be greater than 0", "must not be empty", "must be at most 200 characters". */
function boundMessage(
  origin: string,
  side: "min" | "max",
  bound: number | bigint,
  inclusive = true,
  exact = false,
): string {
  const unit =
    origin === "string" ? "character" : origin === "array" || origin === "set" ? "item" : undefined;
  if (unit === undefined) {
    if (side === "min") return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
    return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
  }
  // Lengths: zod's bounds on them are inclusive.
  if (side === "min" && Number(bound) === 1 && !exact) return "must not be empty";
  const verb = unit === "character" ? "must be" : "must have";
  const how = exact ? "exactly" : side === "min" ? "at least" : "at most";
  return `${verb} ${how} ${bound} ${unit}${Number(bound) === 1 ? "" : "s"}`;
}

/**
 * zod's own checks worded like the messages our schemas set themselves ("must be …"), for whoever
 * reads them: a client of the APIs, an operator in the console, someone starting a service with a
 * bad variable. A message a schema sets wins over these; codes not listed keep zod's wording.
 */
export const validationMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      return boundMessage(issue.origin, "min", issue.minimum, issue.inclusive, issue.exact);
    case "too_big":
      return boundMessage(issue.origin, "max", issue.maximum, issue.inclusive, issue.exact);
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(", ")}`;
    case "invalid_format":
      if (issue.format === "regex" && issue.pattern) return `must match ${issue.pattern}`;
      return `must be ${FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length === 1 ? "" : "s"}: ${issue.keys.join(", ")}`;
    case "invalid_union":
      return "matches none of the accepted forms";
    default:
      return undefined;
  }
};
