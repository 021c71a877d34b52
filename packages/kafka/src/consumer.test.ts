import { EventEmitter } from "node:events";
import { topics } from "@apimon/events";
import { createLogger } from "@apimon/observability";
import type { Kafka } from "kafkajs";
import { createConsumerRunner, subscription } from "./consumer";

const EVENTS = { GROUP_JOIN: "consumer.group_join", CRASH: "consumer.crash" };

/** A kafkajs consumer that records what it is asked and lets a test raise its events. */
class FakeConsumer extends EventEmitter {
  readonly events = EVENTS;
  connectError: Error | undefined;
  runs = 0;
  disconnects = 0;
  async connect() {
    if (this.connectError) throw this.connectError;
  }
  async subscribe() {}
  async run() {
    this.runs++;
  }
  async disconnect() {
    this.disconnects++;
  }
  join() {
    this.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: { "usage.events.v1": [0] } } });
  }
  crash(restart: boolean) {
    this.emit(EVENTS.CRASH, { payload: { error: new Error("Failed to find group coordinator"), restart } });
  }
}

/** A kafkajs client whose consumers are fakes, handed out in order (`next` prepares the next one). */
function fakeKafka() {
  const consumers: FakeConsumer[] = [];
  let next = new FakeConsumer();
  const kafka = {
    consumer: () => {
      const consumer = next;
      consumers.push(consumer);
      next = new FakeConsumer();
      return consumer;
    },
    producer: () => ({ connect: async () => {}, disconnect: async () => {}, sendBatch: async () => [] }),
  };
  const nth = (i: number): FakeConsumer => {
    const consumer = consumers[i];
    if (!consumer) throw new Error(`no consumer ${i} was made`);
    return consumer;
  };
  return { kafka: kafka as unknown as Kafka, consumers, nth, next: () => next };
}

function runnerOf(kafka: Kafka) {
  return createConsumerRunner({
    kafka,
    groupId: "g",
    logger: createLogger({ service: "test", level: "silent" }),
    subscriptions: [subscription(topics.usageEvents, async () => {})],
  });
}

/** A started runner whose first consumer has joined its group. */
async function joinedRunner() {
  const fake = fakeKafka();
  const runner = runnerOf(fake.kafka);
  await runner.start();
  fake.nth(0).join();
  return { ...fake, runner };
}

describe("consumer runner when kafkajs gives up on its consumer", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("replaces a consumer kafkajs will not restart, and is healthy again once the new one joins", async () => {
    const { consumers, nth, runner } = await joinedRunner();
    expect(runner.isHealthy()).toBe(true);

    nth(0).crash(false);
    expect(runner.isHealthy()).toBe(false);
    await jest.advanceTimersByTimeAsync(999);
    expect(consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(consumers).toHaveLength(2);
    expect(nth(0).disconnects).toBe(1);
    expect(nth(1).runs).toBe(1);
    expect(runner.isHealthy()).toBe(false);
    nth(1).join();
    expect(runner.isHealthy()).toBe(true);

    await runner.stop();
    expect(nth(1).disconnects).toBe(1);
  });

  it("leaves a consumer kafkajs restarts itself alone", async () => {
    const { consumers, nth, runner } = await joinedRunner();
    nth(0).crash(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    expect(runner.isHealthy()).toBe(true);
    await runner.stop();
  });

  it("tries again, waiting longer each time, while a replacement cannot connect", async () => {
    const { consumers, nth, next, runner } = await joinedRunner();
    next().connectError = new Error("ECONNREFUSED");
    nth(0).crash(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(consumers).toHaveLength(2);
    expect(nth(1).runs).toBe(0);

    // The second attempt comes 2 s after the first failed, not 1 s.
    next().connectError = new Error("ECONNREFUSED");
    await jest.advanceTimersByTimeAsync(1999);
    expect(consumers).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(consumers).toHaveLength(3);
    expect(nth(2).runs).toBe(0);

    await jest.advanceTimersByTimeAsync(4000);
    expect(consumers).toHaveLength(4);
    expect(nth(3).runs).toBe(1);
    nth(3).join();
    expect(runner.isHealthy()).toBe(true);
    await runner.stop();
  });

  it("replaces nothing once stopped", async () => {
    const { consumers, nth, runner } = await joinedRunner();
    nth(0).crash(false);
    await runner.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    // A crash reported after the stop (a restart that was connecting) is not replaced either.
    nth(0).crash(false);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    expect(runner.isHealthy()).toBe(false);
  });
});
