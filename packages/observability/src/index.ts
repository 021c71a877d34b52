export { type CheckResult, createHealthRoutes, type HealthOptions, type ReadinessCheck } from "./health";
export { createLogger, type Logger, type LoggerOptions, REDACTED_PATHS } from "./logger";
export { Counter, createMetricsRegistry, Gauge, Histogram, Registry } from "./metrics";
