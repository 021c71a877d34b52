import * as fs from "node:fs";
import * as path from "node:path";
import { type UsageEvent, usageEventSchema } from "@apimon/events";
import { counter, gauge, type Logger, type Registry } from "@apimon/observability";

/**
 * A bounded on-disk journal of usage events, for while Kafka is unreachable.
 *
 * Format: a directory of append-only segment files `seg-<16-digit sequence>.jsonl`, one event
 * per line as JSON. Segments are replayed in sequence order, lines in file order, so the journal
 * is FIFO. A segment is deleted only after every event in it was published; if a drain fails
 * midway, the published prefix of the segment is remembered in memory and skipped on the next
 * attempt, so only a restart in the middle of a segment can re-send that prefix (consumers are
 * idempotent on the event id).
 *
 * Bound: `maxBytes` over all segments. When an append would exceed it, the events that do not
 * fit are REFUSED (and counted): keeping the oldest data keeps the journal a contiguous prefix
 * of the event stream, so order is preserved and the loss is visible as a counter, whereas
 * evicting the oldest segment would punch a hole in the middle of the stream.
 *
 * Durability (fsync policy): appends are written with one `write` each (sync, so a process crash
 * loses nothing that `append` returned for); the active segment is fsynced at most every
 * `fsyncIntervalMs` (default 1 s) on append, on rotation and on close, so an OS crash or power
 * loss may lose up to that interval. `fsyncIntervalMs: 0` fsyncs every append.
 * A short or failed write (full disk) is cut back to the last whole line at once and its events
 * refused; a torn last line (crash mid-write) is truncated away on reopen; a line that does not parse
 * elsewhere is skipped and counted.
 *
 * All file operations are synchronous: the journal is used only while Kafka is down, off the
 * request path (the publisher batches into it), and it keeps append and drain trivially
 * consistent: an append during a drain goes to a segment the drain has not read yet.
 */
export interface UsageSpool {
  /** Appends in order; returns how many were accepted (a prefix of `events`; the rest refused). */
  append(events: readonly UsageEvent[]): number;
  /** Events waiting in the journal. */
  depth(): number;
  /** Bytes held on disk. */
  bytes(): number;
  /**
   * Publishes everything, oldest first, in batches of at most `batchSize`; a batch must be
   * published completely before the next one is read. Rejects with `publish`'s error, keeping
   * what was not published. Resolves with the count published.
   */
  drain(publish: (batch: UsageEvent[]) => Promise<void>, options?: { batchSize?: number }): Promise<number>;
  /** Fsyncs and closes the active segment. */
  close(): void;
}

export interface UsageSpoolOptions {
  dir: string;
  /**
   * The topic the events are for. The journal is then kept in `dir/<topic>`, so that an edge
   * publishing to another topic (another topic prefix: another stack) never replays them into
   * its own; journals of other topics under `dir` are left alone and reported.
   */
  topic?: string;
  logger: Logger;
  registry?: Registry;
  /** Upper bound of all segments together, in bytes. */
  maxBytes?: number;
  /** A segment is rotated once it holds this many bytes. */
  maxSegmentBytes?: number;
  fsyncIntervalMs?: number;
  /** Writes to a segment and returns the bytes written (fs.writeSync); a seam for short-write tests. */
  write?: (fd: number, data: Buffer) => number;
}

interface Segment {
  seq: number;
  file: string;
  /** Events not yet published, as lines in the file. */
  events: number;
  /** Lines at the start of the file already published (during this process' life). */
  published: number;
  bytes: number;
}

const SEGMENT = /^seg-(\d{16})\.jsonl$/;
const segmentName = (seq: number) => `seg-${String(seq).padStart(16, "0")}.jsonl`;

/** Segment files directly in `dir` and their bytes. */
function segmentFiles(dir: string): { names: string[]; bytes: number } {
  const names = fs
    .readdirSync(dir)
    .filter((name) => SEGMENT.test(name))
    .sort();
  let bytes = 0;
  for (const name of names) bytes += fs.statSync(path.join(dir, name)).size;
  return { names, bytes };
}

/**
 * Readies `root/<topic>` as the journal of `topic`. Segments directly in `root` were written
 * before journals were kept per topic, by an edge that published to this topic as far as anyone
 * can tell: they move in when the topic's journal is empty. Journals of other topics stay, each
 * reported once.
 */
function topicJournal(root: string, topic: string, log: Logger): string {
  const dir = path.join(root, topic);
  fs.mkdirSync(dir, { recursive: true });
  const legacy = segmentFiles(root);
  if (legacy.names.length > 0) {
    if (segmentFiles(dir).names.length === 0) {
      for (const name of legacy.names) fs.renameSync(path.join(root, name), path.join(dir, name));
      log.info({ segments: legacy.names.length, dir }, "moved the usage journal into its topic's directory");
    } else {
      log.warn(
        { segments: legacy.names.length, dir: root },
        "segments outside any topic's directory, beside a journal of this topic; left where they are",
      );
    }
  }
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === topic) continue;
    const other = segmentFiles(path.join(root, entry.name));
    if (other.names.length === 0) continue;
    log.warn(
      {
        topic: entry.name,
        segments: other.names.length,
        bytes: other.bytes,
        dir: path.join(root, entry.name),
      },
      "the usage journal holds events for a topic this edge does not publish to; they stay until an edge publishing to that topic starts on this directory",
    );
  }
  return dir;
}

export function openUsageSpool({
  dir: root,
  topic,
  logger,
  registry,
  maxBytes = 256 * 1024 * 1024,
  maxSegmentBytes = 4 * 1024 * 1024,
  fsyncIntervalMs = 1000,
  write = (fd, data) => fs.writeSync(fd, data),
}: UsageSpoolOptions): UsageSpool {
  const dir =
    topic === undefined ? root : topicJournal(root, topic, logger.child({ component: "usage-spool" }));
  const log = logger.child({ component: "usage-spool", dir });
  const refused = counter(registry, "edge_usage_spool_refused_total", "Usage events refused by a full spool");
  const corrupt = counter(
    registry,
    "edge_usage_spool_corrupt_lines_total",
    "Spool lines skipped because they did not parse (torn writes)",
  );
  const bytesGauge = gauge(registry, "edge_usage_spool_bytes", "Bytes held by the usage spool");

  fs.mkdirSync(dir, { recursive: true });
  const segments: Segment[] = [];
  let active: { segment: Segment; fd: number; dirty: boolean; lastSync: number } | undefined;
  let total = 0;
  let totalBytes = 0;
  let draining = false;

  /** Parses the lines of a segment; drops a torn tail (no newline) by truncating the file. */
  function readSegment(file: string, truncateTornTail: boolean): UsageEvent[] {
    const text = fs.readFileSync(file, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    if (end < text.length && truncateTornTail) {
      log.warn({ file, bytes: text.length - end }, "dropping a torn last line");
      corrupt.inc();
      fs.truncateSync(file, Buffer.byteLength(text.slice(0, end)));
    }
    const events: UsageEvent[] = [];
    for (const line of text.slice(0, end).split("\n")) {
      if (line.length === 0) continue;
      try {
        events.push(usageEventSchema.parse(JSON.parse(line)));
      } catch {
        corrupt.inc();
        log.warn({ file }, "skipping a spool line that does not parse");
      }
    }
    return events;
  }

  // Reopen what a previous process left, in sequence order.
  for (const name of fs.readdirSync(dir).sort()) {
    const m = SEGMENT.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const events = readSegment(file, true).length;
    const bytes = fs.statSync(file).size;
    if (events === 0) {
      fs.rmSync(file, { force: true });
      continue;
    }
    segments.push({ seq: Number(m[1]), file, events, published: 0, bytes });
    total += events;
    totalBytes += bytes;
  }
  if (segments.length > 0) log.info({ segments: segments.length, events: total }, "reopened the usage spool");
  let nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
  bytesGauge.set(totalBytes);

  function sync(force: boolean): void {
    if (!active?.dirty) return;
    if (!force && Date.now() - active.lastSync < fsyncIntervalMs) return;
    fs.fsyncSync(active.fd);
    active.dirty = false;
    active.lastSync = Date.now();
  }

  function closeActive(): void {
    if (!active) return;
    sync(true);
    fs.closeSync(active.fd);
    active = undefined;
  }

  function openActive(): NonNullable<typeof active> {
    if (active && active.segment.bytes < maxSegmentBytes) return active;
    closeActive();
    const segment: Segment = { seq: nextSeq++, file: "", events: 0, published: 0, bytes: 0 };
    segment.file = path.join(dir, segmentName(segment.seq));
    const fd = fs.openSync(segment.file, "a");
    segments.push(segment);
    active = { segment, fd, dirty: false, lastSync: Date.now() };
    return active;
  }

  /**
   * Writes `data` at the end of a segment of `size` bytes. A short write (a full disk) or a
   * failed one would leave a torn line inside the segment, which later appends would follow:
   * the segment is cut back to `size` and the chunk refused.
   */
  function writeWhole(fd: number, data: Buffer, size: number): boolean {
    let written = 0;
    let failure: unknown;
    try {
      written = write(fd, data);
    } catch (error) {
      failure = error;
    }
    if (written === data.length) return true;
    log.error(
      { err: failure, written, bytes: data.length },
      "short write to the usage spool; cutting it back",
    );
    fs.ftruncateSync(fd, size);
    return false;
  }

  return {
    append(events) {
      let accepted = 0;
      let i = 0;
      while (i < events.length) {
        const target = openActive();
        const lines: string[] = [];
        let chunkBytes = 0;
        let full = false;
        for (; i < events.length && target.segment.bytes + chunkBytes < maxSegmentBytes; i++) {
          const line = `${JSON.stringify(events[i])}\n`;
          const size = Buffer.byteLength(line);
          if (totalBytes + chunkBytes + size > maxBytes) {
            full = true;
            break;
          }
          lines.push(line);
          chunkBytes += size;
        }
        if (lines.length > 0) {
          if (!writeWhole(target.fd, Buffer.from(lines.join("")), target.segment.bytes)) break;
          target.segment.bytes += chunkBytes;
          target.segment.events += lines.length;
          target.dirty = true;
          total += lines.length;
          totalBytes += chunkBytes;
          accepted += lines.length;
        }
        if (full) break;
      }
      if (accepted < events.length) {
        refused.inc(events.length - accepted);
        log.warn({ refused: events.length - accepted, maxBytes }, "usage spool full; refusing new events");
      }
      if (accepted > 0) sync(fsyncIntervalMs === 0);
      bytesGauge.set(totalBytes);
      return accepted;
    },
    depth: () => total,
    bytes: () => totalBytes,
    async drain(publish, { batchSize = 500 } = {}) {
      if (draining) throw new Error("the usage spool is already being drained");
      draining = true;
      try {
        return await drainAll(publish, batchSize);
      } finally {
        draining = false;
      }
    },
    close() {
      closeActive();
    },
  };

  async function drainAll(
    publish: (batch: UsageEvent[]) => Promise<void>,
    batchSize: number,
  ): Promise<number> {
    let published = 0;
    while (segments.length > 0) {
      const segment = segments[0] as Segment;
      // Freeze the segment being read: later appends go to a new one.
      if (active?.segment === segment) closeActive();
      const events = readSegment(segment.file, false);
      for (let start = segment.published; start < events.length; start += batchSize) {
        const batch = events.slice(start, start + batchSize);
        await publish(batch);
        segment.published = start + batch.length;
        segment.events -= batch.length;
        total -= batch.length;
        published += batch.length;
      }
      fs.rmSync(segment.file, { force: true });
      totalBytes -= segment.bytes;
      total -= segment.events; // lines that did not parse
      segments.shift();
      bytesGauge.set(totalBytes);
    }
    return published;
  }
}
