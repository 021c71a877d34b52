import { z } from "zod";
import { validationMessage } from "./messages";

/** Thrown by {@link parseEnv}; its message lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly issues: ReadonlyArray<{ variable: string; message: string }>) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export type EnvShape = Record<string, z.ZodType>;
export type Env = Record<string, string | undefined>;

/** The schemas made by `envTypes.secret`, whose values parseEnv checks for placeholders. */
const secretSchemas = new WeakSet<z.ZodType>();

/** A secret, also when wrapped: `envTypes.secret(32).optional()`. */
function isSecretSchema(schema: z.ZodType): boolean {
  if (secretSchemas.has(schema)) return true;
  return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault
    ? isSecretSchema(schema.unwrap() as z.ZodType)
    : false;
}

/**
 * The sample secrets shipped in `.env.example` and docker-compose.yml all start with "change-me".
 * A stack that kept one would accept anybody who read our README, so they are refused unless
 * `APIMON_INSECURE_DEV=true` says this is a local, throwaway stack.
 */
export function isPlaceholderSecret(value: string): boolean {
  return /^change-?me/i.test(value.trim());
}

/**
 * Parses environment variables against a shape of zod schemas keyed by variable name.
 * Empty strings count as unset, so `FOO=` falls back to the default like a missing FOO.
 */
export function parseEnv<S extends EnvShape>(shape: S, env: Env = process.env): z.output<z.ZodObject<S>> {
  const input: Record<string, string> = {};
  for (const name of Object.keys(shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") input[name] = value.trim();
  }
  const issues: Array<{ variable: string; message: string }> = [];
  const insecureDev = env.APIMON_INSECURE_DEV?.trim() === "true";
  for (const [name, schema] of Object.entries(shape)) {
    const value = input[name];
    if (!insecureDev && isSecretSchema(schema) && value !== undefined && isPlaceholderSecret(value)) {
      issues.push({
        variable: name,
        message:
          "is the example placeholder; set a secret of your own (APIMON_INSECURE_DEV=true allows it on a local stack)",
      });
    }
  }
  const result = z.object(shape).safeParse(input, { error: validationMessage });
  if (!result.success) {
    issues.push(
      ...result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "(env)"),
        message: issue.message,
      })),
    );
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return result.data;
}

/** Common variable types, each reading a string from the environment. */
export const envTypes = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  nonNegativeInt: (fallback: number) => z.coerce.number().int().nonnegative().default(fallback),
  positiveNumber: (fallback: number) => z.coerce.number().positive().default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
      .transform((v) => v === "true" || v === "1" || v === "yes")
      .default(fallback),
  url: (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback)),
  list: (fallback: string[]) =>
    z
      .string()
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, "expected a comma-separated list"))
      .default(fallback),
  secret: (minLength: number) => {
    const schema = z
      .string()
      .min(minLength, `must be at least ${minLength} characters (a secret, not a placeholder)`);
    secretSchemas.add(schema);
    return schema;
  },
} as const;
