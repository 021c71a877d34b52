// What the kafka package's integration tests share: the topic they exercise, a quiet logger and
// that topic under a prefix of the test file's own.
import { type TopicSpec, topics } from "@apimon/events";
import { testLogger, testTopicsForFile } from "@apimon/testkit";

export const usage = topics.usageEvents;
export const logger = testLogger("kafka-int");

/** usage.events.v1 (and its dead-letter topic with `withDlq`) for one file's tests. */
export function usageTopicsForFile(label: string, { withDlq = false }: { withDlq?: boolean } = {}) {
  return testTopicsForFile(label, [usage as TopicSpec<unknown>], { logger, withDlq });
}
