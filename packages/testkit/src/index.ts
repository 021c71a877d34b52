export {
  type ControlledBroker,
  freePort,
  type PrivateBroker,
  privateBroker,
  privateBrokerEnv,
} from "./broker";
export { CHROMIUM_PATH, launchChromium } from "./browser";
export { type CapturedLogger, captureLogger } from "./capture-logger";
export { consumedMessage, handlerContext } from "./consumed-message";
export { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from "./database";
export {
  emptyUsageBucket,
  emptyUsageSummary,
  makeAlertSignal,
  makeKeyChange,
  makeUsageEvent,
} from "./fixtures";
export { assertInfrastructure, testInfra, testKafka } from "./infra";
export { testLogger } from "./logger";
export { uniqueName, uniqueTopicPrefix } from "./names";
export { repoRoot, spawnTsx, stopAllSpawned, type TsxProcess } from "./process";
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
export { createTcpProxy, type TcpProxy } from "./tcp-proxy";
export { waitFor } from "./wait";
