import { UsageError } from "../args";
import { type DlqDeps, runDlq } from "./dlq";

/** No Kafka: every case here is settled before the command would reach it. */
const noKafka = {} as DlqDeps;

describe("dlq CLI", () => {
  it.each([[["list", "nowhere.v1", "--limit", "5"]], [["replay", "nowhere.v1", "--limit", "5", "--json"]]])(
    "takes --limit with %j, and goes on to judge the topic",
    async (argv) => {
      await expect(runDlq(noKafka, argv)).rejects.toThrow(/^unknown topic 'nowhere\.v1'; topics: /);
    },
  );

  it.each([
    [["replay", "usage.events.v1", "--limit", "0"], "--limit must be a whole number of at least 1 (got '0')"],
    [["replay", "usage.events.v1", "--note", "x"], "Unknown option '--note'"],
    [["purge", "--limit", "5"], "unknown dlq command 'purge'"],
    [["list", "--limit", "5"], "--limit goes with a topic: apimon dlq list <topic> --limit N"],
  ])("refuses %j before reaching Kafka: %s", async (argv, message) => {
    await expect(runDlq(noKafka, argv)).rejects.toThrow(new UsageError(message));
  });
});
