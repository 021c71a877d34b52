import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { UsageEvent } from "@apimon/events";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import { captureLogger, makeUsageEvent, metricValue, testLogger } from "@apimon/testkit";
import { openUsageSpool, type UsageSpoolOptions } from "./spool";

const logger = testLogger("spool-test");
let dir: string;
let registry: Registry;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-spool-"));
  registry = createMetricsRegistry("edge", { defaultMetrics: false });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const open = (options: Partial<UsageSpoolOptions> = {}) =>
  openUsageSpool({ dir, logger, registry, ...options });
const events = (n: number, apiKeyId = 1) => Array.from({ length: n }, () => makeUsageEvent({ apiKeyId }));
const ids = (list: UsageEvent[]) => list.map((e) => e.id);
const segmentFiles = () =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort();

async function collect(spool: ReturnType<typeof open>, batchSize = 7): Promise<UsageEvent[]> {
  const out: UsageEvent[] = [];
  await spool.drain(
    async (batch) => {
      out.push(...batch);
    },
    { batchSize },
  );
  return out;
}

describe("usage spool", () => {
  it("replays appended events in order, oldest first, across segments, and deletes them", async () => {
    const spool = open({ maxSegmentBytes: 2000 });
    const written = events(50);
    spool.append(written.slice(0, 20));
    spool.append(written.slice(20));
    expect(spool.depth()).toBe(50);
    expect(segmentFiles().length).toBeGreaterThan(3);
    expect(ids(await collect(spool))).toEqual(ids(written));
    expect(spool.depth()).toBe(0);
    expect(spool.bytes()).toBe(0);
    expect(segmentFiles()).toEqual([]);
    spool.close();
  });

  it("keeps what a failed publish did not take and resumes after the published prefix", async () => {
    const spool = open(); // one segment: the failure happens in its middle
    const written = events(40);
    spool.append(written);
    const out: UsageEvent[] = [];
    let calls = 0;
    await expect(
      spool.drain(
        async (batch) => {
          if (++calls === 4) throw new Error("kafka down");
          out.push(...batch);
        },
        { batchSize: 5 },
      ),
    ).rejects.toThrow("kafka down");
    expect(out.length).toBe(15);
    expect(spool.depth()).toBe(25);
    // Appends while the journal holds a backlog go after it.
    const later = events(5);
    spool.append(later);
    out.push(...(await collect(spool, 5)));
    expect(ids(out)).toEqual(ids([...written, ...later]));
    spool.close();
  });

  it("accepts appends during a drain and replays them after what was there before", async () => {
    const spool = open({ maxSegmentBytes: 1500 });
    const first = events(10);
    const second = events(10);
    spool.append(first);
    const out: UsageEvent[] = [];
    let appended = false;
    await spool.drain(
      async (batch) => {
        if (!appended) {
          appended = true;
          spool.append(second);
        }
        out.push(...batch);
      },
      { batchSize: 3 },
    );
    expect(ids(out)).toEqual(ids([...first, ...second]));
    expect(spool.depth()).toBe(0);
    spool.close();
  });

  it("survives a restart: a new instance reopens the segments in order", async () => {
    const first = open({ maxSegmentBytes: 2500 });
    const written = events(30);
    first.append(written.slice(0, 12));
    first.append(written.slice(12));
    first.close();
    const second = open({ maxSegmentBytes: 2500 });
    expect(second.depth()).toBe(30);
    const more = events(3);
    second.append(more);
    expect(ids(await collect(second))).toEqual(ids([...written, ...more]));
    second.close();
  });

  it("tolerates a torn last line on reopen", async () => {
    const first = open();
    const written = events(5);
    first.append(written);
    first.close();
    const file = path.join(dir, segmentFiles().at(-1) as string);
    fs.appendFileSync(file, '{"id":"0190a6f2-3c4b-7d8e-9f01-2345');
    const second = open();
    expect(second.depth()).toBe(5);
    expect(await metricValue(registry, "edge_usage_spool_corrupt_lines_total")).toBe(1);
    // The torn tail is gone, so new lines do not glue onto it.
    const more = events(2);
    second.append(more);
    second.close();
    const third = open();
    expect(ids(await collect(third))).toEqual(ids([...written, ...more]));
    third.close();
  });

  it("cuts a short write back to the last whole line and refuses that chunk", async () => {
    let short = false;
    const spool = open({
      write: (fd, data) => fs.writeSync(fd, short ? data.subarray(0, Math.floor(data.length / 2)) : data),
    });
    const first = events(3);
    expect(spool.append(first)).toBe(3);
    short = true;
    expect(spool.append(events(4))).toBe(0);
    short = false;
    const last = events(2);
    expect(spool.append(last)).toBe(2);
    expect(spool.depth()).toBe(5);
    spool.close();
    expect(await metricValue(registry, "edge_usage_spool_refused_total")).toBe(4);

    const reopened = open();
    expect(ids(await collect(reopened))).toEqual(ids([...first, ...last]));
    expect(await metricValue(registry, "edge_usage_spool_corrupt_lines_total")).toBe(0);
  });

  it("cuts the segment back when a write fails outright", () => {
    const spool = open({
      write: () => {
        throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      },
    });
    expect(spool.append(events(3))).toBe(0);
    expect(spool.depth()).toBe(0);
    expect(spool.bytes()).toBe(0);
  });

  it("refuses events beyond maxBytes, keeping the oldest, and counts them", async () => {
    const lineBytes = Buffer.byteLength(`${JSON.stringify(makeUsageEvent())}\n`);
    const spool = open({ maxBytes: lineBytes * 10 + lineBytes / 2, maxSegmentBytes: lineBytes * 3 });
    const written = events(12);
    expect(spool.append(written)).toBe(10);
    expect(spool.append(events(1))).toBe(0);
    expect(spool.depth()).toBe(10);
    expect(await metricValue(registry, "edge_usage_spool_refused_total")).toBe(3);
    expect(ids(await collect(spool))).toEqual(ids(written.slice(0, 10)));
    // Room again once drained.
    expect(spool.append(events(2))).toBe(2);
    spool.close();
  });

  it("fsyncs every append when asked to, and refuses a second concurrent drain", async () => {
    const spool = open({ fsyncIntervalMs: 0 });
    spool.append(events(3));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const draining = spool.drain(() => gate);
    await expect(spool.drain(async () => {})).rejects.toThrow("already being drained");
    release();
    await expect(draining).resolves.toBe(3);
    spool.close();
  });
});

describe("usage journals per topic", () => {
  const segmentsIn = (sub: string) =>
    fs.existsSync(path.join(dir, sub))
      ? fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith(".jsonl"))
      : [];

  it("keeps each topic's events apart: an edge publishing to another topic never replays them", async () => {
    const first = open({ topic: "a_usage.events.v1" });
    const written = events(3);
    first.append(written);
    first.close();
    expect(segmentsIn("a_usage.events.v1")).toHaveLength(1);

    const captured = captureLogger();
    const other = openUsageSpool({ dir, registry, topic: "b_usage.events.v1", logger: captured.logger });
    expect(other.depth()).toBe(0);
    expect(await collect(other)).toEqual([]);
    other.close();
    expect(captured.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        topic: "a_usage.events.v1",
        segments: 1,
        msg: expect.stringContaining("a topic this edge does not publish to"),
      }),
    );

    const again = open({ topic: "a_usage.events.v1" });
    expect(again.depth()).toBe(3);
    expect(ids(await collect(again))).toEqual(ids(written));
    again.close();
  });

  it("moves a journal written outside any topic's directory into the topic's, in order", async () => {
    const legacy = open();
    const written = events(5);
    legacy.append(written.slice(0, 2));
    legacy.append(written.slice(2));
    legacy.close();
    expect(segmentFiles()).not.toEqual([]);

    const spool = open({ topic: "usage.events.v1" });
    expect(segmentFiles()).toEqual([]);
    expect(spool.depth()).toBe(5);
    expect(ids(await collect(spool))).toEqual(ids(written));
    spool.close();
  });

  it("leaves segments outside any topic's directory alone when the topic's journal has some already", () => {
    const topical = open({ topic: "usage.events.v1" });
    topical.append(events(2));
    topical.close();
    fs.writeFileSync(path.join(dir, "seg-0000000000000001.jsonl"), `${JSON.stringify(makeUsageEvent())}\n`);

    const spool = open({ topic: "usage.events.v1" });
    expect(spool.depth()).toBe(2);
    expect(segmentFiles()).toEqual(["seg-0000000000000001.jsonl"]);
    spool.close();
  });
});
