import { z } from "zod";
import {
  databaseConfig,
  databaseEnv,
  type KafkaSecurity,
  kafkaConfig,
  kafkaEnv,
  loggingConfig,
  loggingEnv,
} from "./common";
import { type Env, type EnvShape, envTypes, parseEnv } from "./env";

/** What a service reads beside its own variables; `prefix` names `<prefix>_PORT`, `_HOST`, `_GROUP_ID`. */
export interface ServiceEnvOptions<Shared extends EnvShape> {
  prefix: string;
  port: number;
  /** The default consumer group of `<prefix>_GROUP_ID`; without it the variable is not read. */
  groupId?: string | { fallback: string; maxLength: number };
  database?: true;
  kafka?: true;
  /** Further shared groups (adminEnv, rateLimitEnv, …), read before the service's own variables. */
  shared?: Shared;
}

type CommonEnv = z.output<z.ZodObject<typeof loggingEnv & typeof databaseEnv & typeof kafkaEnv>>;
type LogLevel = z.output<typeof loggingEnv.LOG_LEVEL>;

/** The settings every service has, plus the consumer group, database and Kafka where it uses them. */
export type ServiceSettings<O> = { port: number; host: string } & (O extends { groupId: unknown }
  ? { groupId: string }
  : unknown) &
  (O extends { database: true } ? { database: { url: string; schema: string | undefined } } : unknown) &
  (O extends { kafka: true }
    ? { kafka: { brokers: string[]; clientId: string; security: KafkaSecurity; topicPrefix: string } }
    : unknown) & { logLevel: LogLevel; shutdownTimeoutMs: number };

/**
 * Parses a service's environment: logging, then the database and Kafka groups it uses, the
 * shared groups, its port, host and consumer group, then its own shape, so that a ConfigError
 * lists the variables in that order. Returns the common settings and the parsed own and shared
 * variables.
 */
export function parseServiceEnv<
  O extends ServiceEnvOptions<Shared>,
  Own extends EnvShape,
  Shared extends EnvShape = Record<never, z.ZodType>,
>(
  options: O & ServiceEnvOptions<Shared>,
  own: Own,
  env: Env,
): { settings: ServiceSettings<O>; raw: z.output<z.ZodObject<Shared & Own>> } {
  const { prefix, groupId } = options;
  const names = { port: `${prefix}_PORT`, host: `${prefix}_HOST`, groupId: `${prefix}_GROUP_ID` };
  const shape: EnvShape = {
    ...loggingEnv,
    ...(options.database ? databaseEnv : {}),
    ...(options.kafka ? kafkaEnv : {}),
    ...options.shared,
    [names.port]: envTypes.port(options.port),
    [names.host]: z.string().default("0.0.0.0"),
  };
  if (typeof groupId === "string") shape[names.groupId] = z.string().min(1).default(groupId);
  else if (groupId !== undefined)
    shape[names.groupId] = z.string().min(1).max(groupId.maxLength).default(groupId.fallback);
  // The shape is assembled from the options, which ServiceSettings mirrors at the type level.
  const raw = parseEnv({ ...shape, ...own }, env) as CommonEnv & Record<string, unknown>;
  const settings = {
    port: raw[names.port] as number,
    host: raw[names.host] as string,
    ...(groupId !== undefined && { groupId: raw[names.groupId] as string }),
    ...(options.database && { database: databaseConfig(raw) }),
    ...(options.kafka && { kafka: kafkaConfig(raw) }),
    ...loggingConfig(raw),
  };
  return {
    settings: settings as ServiceSettings<O>,
    raw: raw as unknown as z.output<z.ZodObject<Shared & Own>>,
  };
}
