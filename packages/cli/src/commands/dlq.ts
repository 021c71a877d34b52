import { allTopics, type TopicSpec, topics } from "@apimon/events";
import {
  type DeadLetter,
  type KafkaClient,
  readDeadLetters,
  replayDeadLetters,
  summarizeDeadLetters,
} from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import { type CommandOptions, parse, UsageError, wholeNumber } from "../args";
import { type Column, type Result, table } from "../output";

export const DLQ_USAGE = `apimon dlq <command>
  list                     every dead-letter topic: letters written, letters not replayed yet
  list <topic> [--limit N] the dead letters of <topic> not replayed yet (default 20)
  replay <topic> [--limit N]
                           writes them back to <topic> for its consumers, each exactly once
  <topic> is a source topic (usage.events.v1) or its dead-letter topic (usage.events.v1.dlq)`;

/** Source topics whose consumers dead-letter what they cannot handle. */
const SOURCES = (Object.values(topics) as TopicSpec<unknown>[]).filter((t) => t.dlq);

function sourceTopic(name: string | undefined): TopicSpec<unknown> {
  if (name === undefined) throw new UsageError("a topic is required");
  const source = SOURCES.find((t) => t.name === name || `${t.name}.dlq` === name);
  if (!source) {
    const known = allTopics().some((t) => t.name === name);
    throw new UsageError(
      `${known ? `'${name}' has no dead letters` : `unknown topic '${name}'`}; topics: ${SOURCES.map((t) => t.name).join(", ")}`,
    );
  }
  return source;
}

const LETTER_COLUMNS: Column<DeadLetter>[] = [
  { header: "OFFSET", value: (l) => l.offset },
  { header: "FROM", value: (l) => `${l.record.sourceTopic}/${l.record.partition}/${l.record.offset}` },
  { header: "GROUP", value: (l) => l.record.consumerGroup },
  { header: "FAILED AT", value: (l) => l.record.failedAt },
  { header: "WHOLE", value: (l) => (l.record.truncated ? "no" : "yes") },
  { header: "ERROR", value: (l) => l.record.error },
];

const OPTIONS = { limit: { type: "string" } } as const;

/** What each command reads; any other option given to it is refused rather than ignored. */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["limit"],
  replay: ["limit"],
};

export interface DlqDeps {
  kafka: KafkaClient;
  logger: Logger;
  prefix: string;
}

export async function runDlq({ kafka, logger, prefix }: DlqDeps, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command, topic] = positionals;
  const limit = wholeNumber(values.limit, "--limit", 1);
  switch (command) {
    case "list": {
      if (topic === undefined) {
        // The summary is one row per topic; a limit there would be silently meaningless.
        if (limit !== undefined)
          throw new UsageError("--limit goes with a topic: apimon dlq list <topic> --limit N");
        const summary = (await summarizeDeadLetters(kafka, SOURCES, prefix)).map((s) => ({
          ...s,
          written: Number(s.written),
          pending: Number(s.pending),
        }));
        return {
          data: summary,
          text: () =>
            table(summary, [
              { header: "TOPIC", value: (s) => s.topic },
              { header: "DEAD LETTERS", value: (s) => s.deadLetterTopic },
              { header: "WRITTEN", value: (s) => s.written },
              { header: "PENDING", value: (s) => s.pending },
            ]),
        };
      }
      const letters = await readDeadLetters({
        kafka,
        logger,
        source: sourceTopic(topic),
        prefix,
        limit: limit ?? 20,
      });
      return { data: letters, text: () => table(letters, LETTER_COLUMNS) };
    }
    case "replay": {
      const source = sourceTopic(topic);
      const result = await replayDeadLetters({ kafka, logger, source, prefix, limit });
      return {
        data: result,
        text: () =>
          [
            `replayed ${result.replayed} dead letter(s) to ${prefix}${source.name}`,
            ...(result.skipped.length > 0
              ? [
                  `skipped ${result.skipped.length} cut short when dead-lettered (their message is not whole, so it is not replayed):`,
                  table(result.skipped, LETTER_COLUMNS),
                ]
              : []),
          ].join("\n"),
      };
    }
    default:
      throw new UsageError(command ? `unknown dlq command '${command}'` : "a dlq command is required");
  }
}
