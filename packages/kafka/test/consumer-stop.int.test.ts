// A consumer runner stopped while its broker is away. kafkajs restarts a consumer that gave up on
// the broker; a stop that lands while such a restart is connecting must end it, or the consumer
// crashes and restarts again and again, keeping a service alive after its shutdown.
import type { TopicSpec } from "@apimon/events";
import {
  type ControlledBroker,
  captureLogger,
  createTestTopics,
  privateBroker,
  waitFor,
} from "@apimon/testkit";
import { createConsumerRunner, createKafka, subscription } from "../src";
import { usage } from "./support";

describe("consumer runner stopped while the broker is away", () => {
  let broker: ControlledBroker;

  beforeAll(async () => {
    broker = await privateBroker("consumer-stop");
    await broker.controlAsync("start");
  }, 200_000);

  afterAll(() => {
    broker?.dispose();
  });

  it("does not restart its consumer once stopped", async () => {
    const { logger, lines } = captureLogger({ service: "consumer-stop", level: "info" });
    // Slow retries: a restarted consumer spends seconds connecting, so the stop below lands then.
    const kafka = createKafka({
      brokers: [`127.0.0.1:${broker.port}`],
      clientId: "consumer-stop",
      logger,
      connectionTimeoutMs: 1000,
      retry: { retries: 3, initialRetryTimeMs: 1000, maxRetryTimeMs: 3000 },
    });
    const run = await createTestTopics("consumer-stop", [usage as TopicSpec<unknown>], { kafka, logger });
    const runner = createConsumerRunner({
      kafka,
      groupId: run.group("consumer-stop"),
      logger,
      topicPrefix: run.prefix,
      maxWaitTimeMs: 100,
      subscriptions: [subscription(usage, async () => {})],
    });
    await runner.start();
    await waitFor(() => runner.isHealthy(), { timeoutMs: 60_000, what: "the consumer to join its group" });

    await broker.controlAsync("stop");
    // kafkajs gives up on the broker and restarts the consumer, which fails to connect once and
    // waits to try again when the runner stops.
    const firstFrom = (from: number, prefix: string) => {
      const at = lines.findIndex((l, i) => i >= from && String(l.msg).startsWith(prefix));
      return at >= 0 && at;
    };
    const restart = await waitFor(() => firstFrom(0, "Restarting the consumer"), {
      timeoutMs: 120_000,
      what: "kafkajs to restart the consumer",
    });
    await waitFor(() => firstFrom(restart + 1, "Failed to connect to seed broker") !== false, {
      timeoutMs: 60_000,
      intervalMs: 10,
      what: "the restarted consumer to try to connect",
    });
    const from = lines.length;
    await runner.stop();

    // That connection attempt fails: the consumer crashes once more and is not restarted.
    const crashes = () => lines.slice(from).filter((l) => l.msg === "consumer crashed");
    await waitFor(() => crashes().length > 0, {
      timeoutMs: 60_000,
      what: "the connecting consumer to give up",
    });
    expect(crashes().map((l) => l.restart)).toEqual([false]);
    expect(lines.slice(from).filter((l) => String(l.msg).startsWith("Restarting the consumer"))).toEqual([]);
  }, 300_000);
});
