// A consumer runner whose broker goes away. kafkajs gives up on the broker, crashes the consumer
// and restarts it. Once the broker is back the restarted consumer must rejoin its group as the
// member it was: a new member would wait until the coordinator dropped the old one (its session
// or the rebalance timeout ending) before it read again. And a stop that lands while such a
// restart is connecting must end it, or the consumer crashes and restarts again and again,
// keeping a service alive after its shutdown.

import * as net from "node:net";
import type { TopicSpec, UsageEvent } from "@apimon/events";
import {
  type ControlledBroker,
  captureLogger,
  createTcpProxy,
  createTestTopics,
  makeUsageEvent,
  privateBroker,
  waitFor,
} from "@apimon/testkit";
import { Kafka, logLevel } from "kafkajs";
import {
  type ConsumedMessage,
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  type KafkaClient,
  subscription,
} from "../src";
import { logger, usage } from "./support";

describe("consumer runner while the broker is away", () => {
  let broker: ControlledBroker;

  beforeAll(async () => {
    broker = await privateBroker("consumer-away");
  });

  // Each test finds the broker running, whatever the one before did to it.
  beforeEach(() => broker.controlAsync("start"), 200_000);

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
    // The consumer gives up on the broker and is restarted, which fails to connect once and waits
    // to try again when the runner stops. kafkajs restarts it after a retriable crash; after one
    // kafkajs counts as not retriable, the runner replaces it itself. Which one depends on where
    // the broker's going away caught it, so either will do.
    const KAFKAJS_RESTART = "Restarting the consumer";
    const RUNNER_RESTART = "kafkajs will not restart the consumer; replacing it";
    const firstFrom = (from: number, prefix: string) => {
      const at = lines.findIndex((l, i) => i >= from && String(l.msg).startsWith(prefix));
      return at >= 0 && at;
    };
    const restart = await waitFor(() => firstFrom(0, KAFKAJS_RESTART) || firstFrom(0, RUNNER_RESTART), {
      timeoutMs: 120_000,
      what: "the consumer to be restarted",
    });
    await waitFor(() => firstFrom(restart + 1, "Failed to connect to seed broker") !== false, {
      timeoutMs: 60_000,
      intervalMs: 10,
      what: "the restarted consumer to try to connect",
    });
    const from = lines.length;
    await runner.stop();

    const restartsAfterStop = () =>
      lines
        .slice(from)
        .filter((l) => String(l.msg).startsWith(KAFKAJS_RESTART) || String(l.msg).startsWith(RUNNER_RESTART));
    if (String(lines[restart]?.msg).startsWith(KAFKAJS_RESTART)) {
      // That connection attempt fails: the consumer crashes once more and is not restarted.
      const crashes = () => lines.slice(from).filter((l) => l.msg === "consumer crashed");
      await waitFor(() => crashes().length > 0, {
        timeoutMs: 60_000,
        what: "the connecting consumer to give up",
      });
      expect(crashes().map((l) => l.restart)).toEqual([false]);
    } else {
      // The runner's replacement fails to connect, without a crash event, and is not replaced again.
      await waitFor(() => lines.slice(from).some((l) => l.msg === "replacing the consumer failed"), {
        timeoutMs: 60_000,
        what: "the connecting replacement to give up",
      });
    }
    expect(restartsAfterStop()).toEqual([]);
  }, 300_000);

  /** A runner of a fresh group on fresh topics, and what a test needs around it. */
  async function rejoinCase(label: string, kafka: KafkaClient, sessionTimeoutMs: number) {
    const direct = createKafka({
      brokers: [`127.0.0.1:${broker.port}`],
      clientId: `${label}-direct`,
      logger,
    });
    const run = await createTestTopics(label, [usage as TopicSpec<unknown>], { kafka: direct, logger });
    const groupId = run.group(label);
    const received: ConsumedMessage<UsageEvent>[] = [];
    const { logger: runnerLogger, lines } = captureLogger({ service: label, level: "info" });
    const runner = createConsumerRunner({
      kafka,
      groupId,
      logger: runnerLogger,
      topicPrefix: run.prefix,
      maxWaitTimeMs: 100,
      sessionTimeoutMs,
      subscriptions: [
        subscription(usage, async (messages) => {
          received.push(...(messages as ConsumedMessage<UsageEvent>[]));
        }),
      ],
    });
    /** Sends one event through the broker directly and waits until the runner handled it. */
    const deliver = async (what: string) => {
      const event = makeUsageEvent();
      const producer = createBatchingProducer({
        kafka: direct,
        logger,
        topicPrefix: run.prefix,
        lingerMs: 0,
      });
      await producer.publish(usage, event);
      await producer.disconnect();
      await waitFor(() => received.some((m) => m.value.id === event.id), { timeoutMs: 90_000, what });
    };
    /** The group's members as the broker has them. */
    const members = async () => {
      const admin = direct.admin();
      await admin.connect();
      try {
        const { groups } = await admin.describeGroups([groupId]);
        return (groups[0]?.members ?? []).map((m) => m.memberId);
      } finally {
        await admin.disconnect();
      }
    };
    /** Starts the runner; once it has read an event, the group's one member. */
    const start = async () => {
      await runner.start();
      await deliver("the first event");
      const joined = await members();
      expect(joined).toHaveLength(1);
      return joined;
    };
    const restarted = () => lines.some((l) => l.msg === "consumer crashed" && l.restart === true);
    return { runner, start, deliver, members, restarted };
  }

  it("rejoins its group as the same member when the broker is back, and reads on", async () => {
    const kafka = broker.impatientClient("consumer-rejoin", logger);
    // A new member would wait in its join until the coordinator dropped the old one: at its
    // session's end (two minutes here) or the rebalance timeout's (one minute), whichever comes
    // first. The events would still arrive; the member id tells which member read them.
    const { runner, start, deliver, members, restarted } = await rejoinCase(
      "consumer-rejoin",
      kafka,
      120_000,
    );
    try {
      const before = await start();

      await broker.controlAsync("stop");
      await waitFor(restarted, { timeoutMs: 120_000, what: "kafkajs to restart the consumer" });
      await broker.controlAsync("start");

      await deliver("an event sent after the broker's return");
      expect(await members()).toEqual(before);
      expect(runner.isHealthy()).toBe(true);
    } finally {
      await runner.stop();
    }
  }, 300_000);

  it("joins as a new member when the group dropped it while the broker was out of reach", async () => {
    const proxy = await createTcpProxy({ host: "127.0.0.1", port: broker.port });
    // Every connection goes through the proxy, whatever address the broker advertises.
    const kafka = new Kafka({
      brokers: [proxy.address],
      clientId: "consumer-dropped",
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 1000 },
      socketFactory: ({ onConnect }) => net.connect({ host: "127.0.0.1", port: proxy.port }, onConnect),
    });
    // The shortest session the broker allows by default, so that it drops the member soon.
    const { runner, start, deliver, members, restarted } = await rejoinCase("consumer-dropped", kafka, 6000);
    try {
      const before = await start();

      // The broker stays up and the member's session runs out; the restarted consumer asks to
      // join under an id the group no longer knows.
      await proxy.interrupt();
      await waitFor(restarted, { timeoutMs: 120_000, what: "kafkajs to restart the consumer" });
      await waitFor(async () => (await members()).length === 0, {
        timeoutMs: 60_000,
        what: "the group to drop the member",
      });
      await proxy.resume();

      await deliver("an event sent after the proxy's return");
      const after = await members();
      expect(after).toHaveLength(1);
      expect(after).not.toEqual(before);
      expect(runner.isHealthy()).toBe(true);
    } finally {
      await runner.stop();
      await proxy.close();
    }
  }, 300_000);
});
