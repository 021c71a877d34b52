export {
  type ControlledBroker,
  freePort,
  type PrivateBroker,
  privateBroker,
  privateBrokerEnv,
} from "./broker";
export { CHROMIUM_PATH, launchChromium } from "./browser";
export { type CapturedLogger, captureLogger } from "./capture-logger";
export { configRefusal, refusedVariables, sharedServiceDefaults } from "./config";
export { consumedMessage, handlerContext } from "./consumed-message";
export {
  createTestDatabase,
  type TestDatabase,
  type TestDatabaseOptions,
  testDatabaseForFile,
} from "./database";
export {
  emptyUsageBucket,
  emptyUsageSummary,
  estimateOf,
  makeAlertSignal,
  makeKeyChange,
  makeUsageEvent,
} from "./fixtures";
export { type FieldError, getFrom, invalidRequest } from "./http";
export { assertInfrastructure, testInfra, testKafka } from "./infra";
export { type KeyAdmin, type KeyRateLimits, keyMaker, waitForEdgeKeys } from "./keys";
export { testLogger } from "./logger";
export { metricValue } from "./metrics";
export { uniqueName, uniqueTopicPrefix } from "./names";
export { repoRoot, spawnTsx, stopAllSpawned, TSX_NODE_ARGS, type TsxProcess } from "./process";
export { seededRandom } from "./random";
export {
  type HttpReceiver,
  mailParts,
  type ReceivedMail,
  type ReceivedRequest,
  type ScriptedAnswer,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from "./receivers";
export {
  expectConfigRefused,
  type LogLine,
  logLines,
  milestonesLogged,
  type ServiceProcess,
  serviceEnv,
  startService,
  waitReady,
} from "./service";
export { createTcpProxy, type TcpProxy } from "./tcp-proxy";
export {
  createTestTopics,
  deleteTopics,
  limitRecordSize,
  sendRaw,
  type TestTopics,
  type TestTopicsOptions,
  testTopicsForFile,
} from "./test-topics";
export { readToEnd, readTopic, type TopicReader } from "./topic-readers";
export { awayFromMinuteEnd, waitFor } from "./wait";
