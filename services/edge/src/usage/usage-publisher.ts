import { performance } from "node:perf_hooks";
import { topics, type UsageEvent } from "@apimon/events";
import { type BatchingProducer, isRecordTooLarge } from "@apimon/kafka";
import { Gauge, hotCounter, type Logger, metric, type Registry } from "@apimon/observability";
import type { UsageSpool } from "./spool";

/**
 * Hands usage events to Kafka without ever making a request wait for it.
 *
 * `record` only pushes onto an in-memory buffer. One background loop moves events on:
 *  - direct mode (spool empty): sends the buffer in chunks, one chunk in flight at a time,
 *    so that events reach their partition in record order. A chunk leaves once its oldest event
 *    has waited `lingerMs`, or at once when it is full, on flush and on close: a produce request
 *    costs the edge far more than an event in it;
 *  - spool mode (after a failed send, or when the process started with a non-empty spool):
 *    the failed chunk and then everything recorded since are appended to the spool, and the
 *    loop retries every `retryMs` to drain the spool, oldest first. New events keep going to
 *    the spool until it is empty; only then does the loop return to direct sends.
 * Invariant: every event in the spool was recorded before every event in the buffer, so per-key
 * order holds across an outage. A chunk is all-or-nothing when the producer is dedicated to
 * usage events and `chunkSize` ≤ its `maxBatchMessages` (one `sendBatch` per chunk).
 */
export interface UsagePublisher {
  /** Never awaits Kafka and never throws. */
  record(event: UsageEvent): void;
  /** Events not yet acknowledged by Kafka: in memory, in flight and in the spool. */
  depth(): number;
  /** Waits until everything recorded so far was sent to Kafka or written to the spool. */
  flush(): Promise<void>;
  /** Stops the loop; drains memory to Kafka or, failing that, to the spool; closes the spool. */
  close(): Promise<void>;
  /** False while Kafka sends fail or the spool holds a backlog. */
  isHealthy(): boolean;
  /** Details for the health endpoint. */
  health(): { healthy: boolean; mode: "direct" | "spool"; buffered: number; spooled: number };
}

export interface UsagePublisherOptions {
  /** Ideally a producer of its own (see above). */
  producer: BatchingProducer;
  spool: UsageSpool;
  logger: Logger;
  registry?: Registry;
  /** Pause between attempts while Kafka fails. */
  retryMs?: number;
  /** Events per send; keep ≤ the producer's maxBatchMessages. */
  chunkSize?: number;
  /** In direct mode, how long the oldest waiting event waits for company before a send. */
  lingerMs?: number;
  /** In direct mode, events beyond this many waiting in memory are dropped (counted). */
  maxBuffered?: number;
  /** In spool mode, the buffer is written to disk at this interval. */
  spoolFlushMs?: number;
}

export function createUsagePublisher({
  producer,
  spool,
  logger,
  registry,
  retryMs = 1000,
  chunkSize = 500,
  lingerMs = 0,
  maxBuffered = 50_000,
  spoolFlushMs = 50,
}: UsagePublisherOptions): UsagePublisher {
  const log = logger.child({ component: "usage-publisher" });
  // Counted on every request (recorded), so a hot counter.
  const eventsTotal = hotCounter(
    registry,
    "edge_usage_events_total",
    "Usage events by result: recorded, published, spooled, dropped",
    ["result"],
  );
  metric(
    registry,
    "edge_usage_spool_depth",
    (registers) =>
      new Gauge({
        name: "edge_usage_spool_depth",
        help: "Usage events waiting in the on-disk spool",
        registers,
        collect() {
          this.set(spool.depth());
        },
      }),
  );

  let buffer: UsageEvent[] = [];
  /** When the buffer's oldest event was recorded (performance.now()). */
  let oldestAt = 0;
  let inFlight = 0;
  let mode: "direct" | "spool" = spool.depth() > 0 ? "spool" : "direct";
  let healthy = true;
  let closing = false;
  let flushing = 0;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let lastDropLog = 0;

  function drop(count: number, reason: string, details: Record<string, unknown> = {}): void {
    eventsTotal.add(count, ["dropped"]);
    if (Date.now() - lastDropLog > 5000) {
      lastDropLog = Date.now();
      log.error({ count, reason, ...details }, "usage events dropped");
    }
  }

  /** Appends the buffer to the spool (only in spool mode, so that order holds). */
  function spoolBuffer(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (buffer.length === 0) return;
    const events = buffer;
    buffer = [];
    toSpool(events);
  }

  function toSpool(events: UsageEvent[]): void {
    let accepted = 0;
    try {
      accepted = spool.append(events);
    } catch (error) {
      log.error({ err: error }, "usage spool write failed");
    }
    eventsTotal.add(accepted, ["spooled"]);
    if (accepted < events.length) drop(events.length - accepted, "spool full or failing");
  }

  /**
   * Sends a batch. One the topic refuses as too large (its `max.message.bytes`) goes again in
   * halves, in order; an event too large on its own is dropped, counted and logged: no retry
   * could ever write it, and kept it would hold every later event back.
   */
  async function send(batch: UsageEvent[]): Promise<void> {
    try {
      // Every event was built by the edge's usage event builder, whose output its tests check
      // against the schema over the whole range of requests, or read back from the spool, which
      // parses each line with the schema: checking each again cost more than sending it.
      await producer.publishAll(topics.usageEvents, batch, { validated: true });
    } catch (error) {
      if (!isRecordTooLarge(error)) throw error;
      if (batch.length === 1) {
        const [event] = batch as [UsageEvent];
        drop(1, "larger than the topic takes", {
          err: error,
          eventId: event.id,
          bytes: Buffer.byteLength(JSON.stringify(event)),
        });
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
      return;
    }
    eventsTotal.add(batch.length, ["published"]);
  }

  /** A direct send of events taken from the buffer (counted in depth while in flight). */
  async function sendDirect(batch: UsageEvent[]): Promise<void> {
    inFlight = batch.length;
    try {
      await send(batch);
    } finally {
      inFlight = 0;
    }
  }

  /** Replays from the spool; stops between batches once the publisher is closing. */
  async function sendSpooled(batch: UsageEvent[]): Promise<void> {
    if (closing) throw new Error("usage publisher closing");
    await send(batch);
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  function failed(error: unknown): void {
    // Not only an outage: a closed producer or a refused topic ends here too, so say what happened.
    if (healthy)
      log.warn({ err: error, spooled: spool.depth() }, "usage events not sent to Kafka; spooling them");
    healthy = false;
  }

  async function run(): Promise<void> {
    while (true) {
      if (mode === "spool") {
        spoolBuffer();
        if (closing) return;
        if (spool.depth() > 0) {
          try {
            await spool.drain(sendSpooled, { batchSize: chunkSize });
          } catch (error) {
            failed(error);
            if (closing) return;
            await sleep(retryMs);
            continue;
          }
        }
        spoolBuffer(); // recorded during the drain's last await
        if (spool.depth() > 0) continue;
        mode = "direct";
        if (!healthy) log.info("usage events reach Kafka again; usage spool drained");
        healthy = true;
      }
      if (buffer.length === 0) return;
      const wait = lingerMs - (performance.now() - oldestAt);
      if (wait > 0 && buffer.length < chunkSize && !closing && flushing === 0) {
        await sleep(wait); // a full chunk, a flush or close wakes it
        continue;
      }
      const chunk = buffer.splice(0, chunkSize);
      try {
        await sendDirect(chunk);
        healthy = true;
      } catch (error) {
        failed(error);
        // The failed chunk is older than the buffer: it goes to the spool first.
        mode = "spool";
        toSpool(chunk);
        spoolBuffer();
        if (closing) return;
        await sleep(retryMs);
      }
    }
  }

  function kick(): void {
    if (loop || closing) return;
    loop = run()
      .catch((error) => log.error({ err: error }, "usage publisher loop failed"))
      .finally(() => {
        loop = undefined;
        if (!closing && (buffer.length > 0 || mode === "spool")) setImmediate(kick);
      });
  }

  if (mode === "spool") {
    healthy = false;
    kick();
  }

  return {
    record(event) {
      try {
        if (closing) {
          drop(1, "publisher closed");
          return;
        }
        eventsTotal.inc("recorded");
        if (mode === "direct" && buffer.length >= maxBuffered) {
          drop(1, "memory buffer full");
          return;
        }
        if (buffer.length === 0) oldestAt = performance.now();
        buffer.push(event);
        if (mode === "spool") {
          if (buffer.length >= chunkSize) setImmediate(() => mode === "spool" && spoolBuffer());
          else flushTimer ??= setTimeout(() => mode === "spool" && spoolBuffer(), spoolFlushMs);
        } else if (buffer.length === chunkSize) wake?.();
        kick();
      } catch (error) {
        log.error({ err: error }, "usage record failed");
      }
    },
    depth: () => buffer.length + inFlight + spool.depth(),
    async flush() {
      flushing++;
      try {
        while (mode === "direct" && (buffer.length > 0 || inFlight > 0)) {
          wake?.();
          kick();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        if (mode === "spool") spoolBuffer();
      } finally {
        flushing--;
      }
    },
    async close() {
      closing = true;
      wake?.();
      await loop;
      // One last attempt to send what is in memory; whatever fails ends in the spool.
      if (mode === "direct") {
        while (buffer.length > 0) {
          const chunk = buffer.splice(0, chunkSize);
          try {
            await sendDirect(chunk);
          } catch (error) {
            failed(error);
            mode = "spool";
            toSpool(chunk);
            break;
          }
        }
      }
      spoolBuffer();
      spool.close();
    },
    isHealthy: () => healthy && mode === "direct",
    health: () => ({
      healthy: healthy && mode === "direct",
      mode,
      buffered: buffer.length,
      spooled: spool.depth(),
    }),
  };
}
