export {
  type CheckResult,
  createHealthRoutes,
  type HealthOptions,
  healthChecks,
  type ReadinessCheck,
} from "./health";
export { HotCounter, HotHistogram, hotCounter, hotHistogram } from "./hot-metrics";
export { createLogger, type Logger, type LoggerOptions, REDACTED_PATHS } from "./logger";
export {
  Counter,
  counter,
  createMetricsRegistry,
  Gauge,
  gauge,
  Histogram,
  histogram,
  metric,
  Registry,
} from "./metrics";
export { createPeriodicTask, type PeriodicTask, type PeriodicTaskOptions } from "./periodic";
