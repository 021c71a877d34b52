import * as net from "node:net";
import type { UsageEvent } from "@apimon/events";
import {
  type ControlledBroker,
  createTcpProxy,
  deleteTopics,
  makeUsageEvent,
  privateBroker,
  type TcpProxy,
  testInfra,
  uniqueName,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import { Kafka, logLevel } from "kafkajs";
import { createBatchingProducer, createKafka, ensureTopics, fetchEndOffsets, topicName } from "../src";
import { logger, usage } from "./support";

/** Every record of a topic, read from the start until `expected` arrived (and a moment longer). */
async function readAll(kafka: Kafka, topic: string, expected: number): Promise<UsageEvent[]> {
  const events: UsageEvent[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName("read-all") });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      events.push(JSON.parse(String(message.value)) as UsageEvent);
    },
  });
  try {
    await waitFor(() => events.length >= expected, { timeoutMs: 60_000, what: `${expected} records` });
    // The end offsets say how many records there are; no more may arrive past them.
    const offsets = await fetchEndOffsets(kafka, topic);
    const total = offsets.reduce((n, p) => n + Number(p.high - p.low), 0);
    await waitFor(() => events.length >= total, { timeoutMs: 30_000, what: `${total} records` });
    return events;
  } finally {
    await consumer.disconnect();
  }
}

const countRecords = async (kafka: Kafka, topic: string) =>
  (await fetchEndOffsets(kafka, topic)).reduce((n, p) => n + Number(p.high - p.low), 0);

describe("idempotent producer", () => {
  describe("through a connection that loses the produce response", () => {
    let direct: Kafka;
    let proxy: TcpProxy;
    let viaProxy: Kafka;
    let prefix: string;

    beforeAll(async () => {
      direct = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "idempotent-direct", logger });
      const [host = "127.0.0.1", port = "9092"] = (testInfra.kafkaBrokers[0] ?? "").split(":");
      proxy = await createTcpProxy({ host, port: Number(port) });
      // The broker advertises its own address; every connection of this client goes through the
      // proxy whatever the metadata says, so the proxy sees every produce request.
      viaProxy = new Kafka({
        clientId: "idempotent-proxied",
        brokers: [proxy.address],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3000,
        retry: { retries: 8, initialRetryTime: 100 },
        socketFactory: ({ onConnect }) => {
          const socket = net.connect({ host: "127.0.0.1", port: proxy.port }, onConnect);
          socket.setKeepAlive(true, 30_000);
          return socket;
        },
      });
    });

    beforeEach(async () => {
      prefix = uniqueTopicPrefix("idem");
      await ensureTopics(direct, { prefix, specs: [usage] });
    });

    afterEach(() => deleteTopics(direct, [topicName(usage, prefix)]));

    afterAll(async () => {
      await proxy.close();
    });

    /**
     * Sends one event per partition that `events` go to (so the client holds the topic's metadata
     * and a connection to its leader, and each of those partitions, just created, has taken a
     * write: a partition whose leader is still settling would refuse its part of the batch, and
     * that refusal would be held back with the rest), then `events` through the proxy, and drops
     * the broker's answer once it wrote them. Returns how many records the topic held before
     * `events` (the warm-up, which a producer without idempotence may itself have duplicated).
     */
    async function publishLosingTheResponse(
      send: (events: UsageEvent[]) => Promise<unknown>,
      events: UsageEvent[],
    ): Promise<number> {
      const topic = topicName(usage, prefix);
      const keys = [...new Set(events.map((e) => e.apiKeyId))];
      await send(keys.map((apiKeyId) => makeUsageEvent({ apiKeyId, edgeInstance: "warm-up" })));
      const before = await countRecords(direct, topic);
      proxy.holdResponses();
      const sending = send(events);
      await waitFor(async () => (await countRecords(direct, topic)) >= before + events.length, {
        timeoutMs: 30_000,
        what: "the broker to write the batch",
      });
      await proxy.interrupt();
      await proxy.resume();
      await sending;
      return before;
    }

    it("publishes a batch once when kafkajs retries it after the response was lost", async () => {
      const producer = createBatchingProducer({ kafka: viaProxy, logger, topicPrefix: prefix, lingerMs: 20 });
      await producer.connect();
      const events = Array.from({ length: 20 }, (_, i) => makeUsageEvent({ apiKeyId: (i % 4) + 1 }));
      const warmUps = await publishLosingTheResponse(
        (batch) => Promise.all(batch.map((e) => producer.publish(usage, e))),
        events,
      );
      await producer.publish(usage, makeUsageEvent({ apiKeyId: 1, edgeInstance: "after" }));
      await producer.disconnect();

      const read = await readAll(direct, topicName(usage, prefix), events.length + warmUps + 1);
      expect(
        read
          .filter((e) => e.edgeInstance === "test")
          .map((e) => e.id)
          .sort(),
      ).toEqual(events.map((e) => e.id).sort());
      expect(read.map((e) => e.edgeInstance).sort()).toEqual([
        "after",
        ...events.map(() => "test"),
        ...Array.from({ length: warmUps }, () => "warm-up"),
      ]);
    });

    it("the same fault makes a producer without idempotence write the batch twice", async () => {
      const raw = viaProxy.producer({ allowAutoTopicCreation: false });
      await raw.connect();
      const events = Array.from({ length: 20 }, (_, i) => makeUsageEvent({ apiKeyId: (i % 4) + 1 }));
      const topic = topicName(usage, prefix);
      const warmUps = await publishLosingTheResponse(
        (batch) =>
          raw.send({
            topic,
            acks: -1,
            messages: batch.map((e) => ({ key: String(e.apiKeyId), value: JSON.stringify(e) })),
          }),
        events,
      );
      await raw.disconnect();
      expect(await countRecords(direct, topic)).toBe(warmUps + 2 * events.length);
    });
  });

  describe("across a broker restart", () => {
    let broker: ControlledBroker;
    let kafka: Kafka;

    beforeAll(async () => {
      broker = await privateBroker("idempotent");
      await broker.controlAsync("start");
      kafka = createKafka({
        brokers: [`127.0.0.1:${broker.port}`],
        clientId: "idempotent-restart",
        logger,
        retry: { retries: 10, initialRetryTimeMs: 200, maxRetryTimeMs: 5000 },
      });
    }, 200_000);

    afterAll(() => {
      broker?.dispose();
    });

    it("writes every acknowledged event exactly once and keeps publishing after the restart", async () => {
      const prefix = uniqueTopicPrefix("idem-restart");
      await ensureTopics(kafka, { prefix, specs: [usage] });
      const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, lingerMs: 10 });
      await producer.connect();

      const acknowledged: string[] = [];
      const failed: string[] = [];
      let stop = false;
      const publishing = (async () => {
        const inFlight: Promise<void>[] = [];
        for (let i = 0; !stop; i++) {
          const event = makeUsageEvent({ apiKeyId: (i % 6) + 1 });
          inFlight.push(
            producer.publish(usage, event).then(
              () => void acknowledged.push(event.id),
              () => void failed.push(event.id),
            ),
          );
          await new Promise((r) => setTimeout(r, 5));
        }
        await Promise.all(inFlight);
      })();

      await waitFor(() => acknowledged.length >= 200, {
        timeoutMs: 30_000,
        what: "traffic before the restart",
      });
      await broker.controlAsync("stop");
      await broker.controlAsync("start");
      const before = acknowledged.length;
      await waitFor(() => acknowledged.length >= before + 200, {
        timeoutMs: 120_000,
        what: "traffic after the restart",
      });
      stop = true;
      await publishing;
      await producer.disconnect();

      const read = await readAll(kafka, topicName(usage, prefix), acknowledged.length);
      const counts = new Map<string, number>();
      for (const e of read) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
      expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
      expect(acknowledged.filter((id) => !counts.has(id))).toEqual([]);
      // A send that failed for good may or may not have been written, but never twice.
      expect(read.length).toBeLessThanOrEqual(acknowledged.length + failed.length);
    }, 240_000);
  });
});
