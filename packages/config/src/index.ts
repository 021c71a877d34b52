export {
  type AlertSettings,
  type AlertThresholdSettings,
  alertSettingsSchema,
  alertThresholdsSchema,
  DEFAULT_ALERT_SETTINGS,
  describeOverrideScope,
  ENDPOINT_PATTERN,
  type EndpointThresholds,
  endpointThresholdResolver,
  escalationSchema,
  MAX_THRESHOLD_OVERRIDES,
  type ThresholdOverride,
  thresholdOverrideSchema,
} from "./alert-settings";
export {
  type AuditAction,
  type AuditSource,
  type AuditTargetType,
  auditActions,
  auditSources,
  auditTargetTypes,
  OPERATOR_TOKEN_PREFIX,
  type OperatorRole,
  operatorRoles,
} from "./audit";
export { maskChannelName, maskChannelTarget, maskUrlsInText, URL_TEXT } from "./channels";
export {
  adminEnv,
  databaseConfig,
  databaseEnv,
  type KafkaSecurity,
  kafkaConfig,
  kafkaEnv,
  kafkaSecurity,
  keyChangesEnv,
  loggingConfig,
  loggingEnv,
  rateLimitEnv,
  redactUrl,
  redisEnv,
} from "./common";
export {
  type AlertThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  DEFAULT_PORTS,
  RATE_LIMIT_APPROACHING_RATIO,
  RATE_LIMIT_WINDOWS,
  RATE_LIMITS,
  type RateLimitWindow,
  RESPONSE_TIME_THRESHOLDS,
  UNAUTHORIZED_ACCESS_THRESHOLD,
  WINDOW_SECONDS,
} from "./defaults";
export { ENDPOINT_WILDCARD, endpointMatches } from "./endpoints";
export { ConfigError, type Env, type EnvShape, envTypes, isPlaceholderSecret, parseEnv } from "./env";
export { FREE_TEXT, MAX_INT, SINGLE_LINE } from "./input";
export { validationMessage } from "./messages";
export { parseServiceEnv, type ServiceEnvOptions, type ServiceSettings } from "./service";
