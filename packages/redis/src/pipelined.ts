// A Redis connection for a hot path: one socket, commands of an event-loop turn written together
// in one write, replies matched in order. It speaks only what the edge's limiter needs (scripts,
// PING) and does it at a fraction of a general client's cost per command: beside a bare proxy at
// peak, one rate-limit script per request cost 33 µs of CPU through ioredis and 8 µs through this
// (`pnpm bench:edge-parts`, scripts/bench/README.md). It never queues while disconnected: a
// command then fails at once, and the caller decides what that means (the edge falls back to
// per-instance limits).

import { connect as connectTcp, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { connect as connectTls } from "node:tls";
import RedisParser from "redis-parser";

export type RedisArg = string | number;

/** What running a Lua script needs; ioredis' client has the same methods. */
export interface ScriptRunner {
  evalsha(sha1: string, numKeys: number, ...args: RedisArg[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: RedisArg[]): Promise<unknown>;
}

export interface PipelinedRedis extends ScriptRunner {
  /** Any command, e.g. `call("SET", "k", 1)`; the reply as Redis sent it. */
  call(command: string, ...args: RedisArg[]): Promise<unknown>;
  ping(): Promise<string>;
  /**
   * A command given as one array, e.g. `[head, 1500, 1]` with `head` from `encodeArgs`; the reply
   * as Redis sent it.
   */
  sendEncoded(args: CommandArgs): Promise<unknown>;
  /** "connecting", "ready" (commands are sent), "closed" (waiting to reconnect) or "ended". */
  readonly status: "connecting" | "ready" | "closed" | "ended";
  /** Ends the connection for good; commands waiting for a reply fail. */
  disconnect(): void;
}

export interface PipelinedRedisOptions {
  /** redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. */
  url: string;
  /** A command without a reply after this long fails (the connection is kept, replies stay in order). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Waits between reconnection attempts, by attempt (from 1). */
  retryDelayMs?: (attempt: number) => number;
  /** Called with each connection error (the client reconnects by itself). */
  onError?: (error: Error) => void;
}

export class RedisUnavailableError extends Error {
  constructor(status: string) {
    super(`Redis connection is ${status}: command not sent`);
    this.name = "RedisUnavailableError";
  }
}

export class RedisCommandTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = "RedisCommandTimeoutError";
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  sentAt: number;
  /** Already rejected (timed out): its reply, when it comes, is dropped. */
  settled: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

/** A RESP header (`*` count or `$` length) and its CRLF: at most this many bytes. */
const HEADER_BOUND = 24;
/** A number's decimal form (String) is at most this long, e.g. -1.7976931348623157e+308. */
const NUMBER_BOUND = 24;

/**
 * Leading arguments of a command, encoded once by `encodeArgs` and copied as they are into every
 * command that starts with them. A rate-limit decision repeats its script's hash, counter keys
 * and limits for a whole minute; encoding them byte by byte on every call was the largest single
 * cost of a decision.
 */
export class EncodedArgs {
  constructor(
    /** How many arguments the bytes hold. */
    readonly count: number,
    readonly bytes: Buffer,
  ) {}
}

/** A command's arguments, name first; an EncodedArgs stands for the arguments it was made from. */
export type CommandArgs = readonly (RedisArg | EncodedArgs)[];

/** The arguments as RESP bulk strings, to start commands sent by `sendEncoded`. */
export function encodeArgs(args: readonly RedisArg[]): EncodedArgs {
  const out = Buffer.allocUnsafe(argsBound(args));
  let at = 0;
  for (const arg of args) at = writeArg(out, at, arg);
  return new EncodedArgs(args.length, Buffer.from(out.subarray(0, at)));
}

/** The most bytes `args` can take as bulk strings, EncodedArgs as their bytes. */
function argsBound(args: CommandArgs): number {
  let bound = 0;
  for (const arg of args) {
    if (arg instanceof EncodedArgs) bound += arg.bytes.length;
    else bound += HEADER_BOUND + 2 + (typeof arg === "number" ? NUMBER_BOUND : 3 * arg.length);
  }
  return bound;
}

/**
 * RESP encoding of a turn's commands (each an array of bulk strings), written straight into one
 * buffer: building each command as a string and the turn's as their concatenation cost more
 * allocation than the rest of a rate-limit decision. The buffer is sized for the worst case
 * (3 UTF-8 bytes per UTF-16 unit) and the written part is sent.
 */
function encodeCommands(commands: readonly CommandArgs[]): Buffer {
  let bound = 0;
  for (const args of commands) bound += HEADER_BOUND + argsBound(args);
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const args of commands) {
    let count = 0;
    for (const arg of args) count += arg instanceof EncodedArgs ? arg.count : 1;
    at = writeHeader(out, at, 0x2a /* "*" */, count);
    for (const arg of args) {
      if (arg instanceof EncodedArgs) {
        out.set(arg.bytes, at);
        at += arg.bytes.length;
      } else {
        at = writeArg(out, at, arg);
      }
    }
  }
  return out.subarray(0, at);
}

/**
 * One bulk string. Every key, number and script hash the limiter sends is ASCII, whose length is
 * its byte count: those are copied unit by unit. Buffer.byteLength and Buffer.write cross into
 * C++ for each argument, which made encoding a rate-limit decision three times as costly (2.7 µs
 * against 0.9 µs a command in a loop); anything else still takes that path.
 */
function writeArg(out: Buffer, at: number, arg: RedisArg): number {
  const text = typeof arg === "number" ? String(arg) : arg;
  // Copied after where its header will go; -1 when a unit is not ASCII.
  const end = writeAscii(out, at + 3 + decimalDigits(text.length), text);
  if (end >= 0) {
    at = writeHeader(out, at, 0x24 /* "$" */, text.length);
    at = end;
  } else {
    at = writeHeader(out, at, 0x24 /* "$" */, Buffer.byteLength(text));
    at += out.write(text, at);
  }
  out[at++] = CR;
  out[at++] = LF;
  return at;
}

/** Copies `text` to `at` when every unit is ASCII and returns where it ends; otherwise -1. */
function writeAscii(out: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) return -1;
    out[at + i] = unit;
  }
  return at + text.length;
}

function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** `*3\r\n` or `$12\r\n` (`n` a count or a length: a whole number from 0). */
function writeHeader(out: Buffer, at: number, marker: number, n: number): number {
  out[at++] = marker;
  const digits = decimalDigits(n);
  let rest = n;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  at += digits;
  out[at++] = CR;
  out[at++] = LF;
  return at;
}

function connectionSettings(url: string) {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`unsupported Redis URL scheme ${parsed.protocol} (redis: or rediss:)`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`invalid Redis database in URL: ${parsed.pathname}`);
  const handshake: RedisArg[][] = [];
  const password = decodeURIComponent(parsed.password);
  const username = decodeURIComponent(parsed.username);
  if (password) handshake.push(username ? ["AUTH", username, password] : ["AUTH", password]);
  if (db !== 0) handshake.push(["SELECT", db]);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === "rediss:",
    handshake,
  };
}

export function createPipelinedRedis({
  url,
  commandTimeoutMs = 1000,
  connectTimeoutMs = 2000,
  retryDelayMs = (attempt) => Math.min(50 * 2 ** attempt, 2000),
  onError = () => {},
}: PipelinedRedisOptions): PipelinedRedis {
  const settings = connectionSettings(url);
  let status: PipelinedRedis["status"] = "connecting";
  let socket: Socket | undefined;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** Commands written (or about to be), oldest first; `head` is the next reply's. */
  let queue: Pending[] = [];
  let head = 0;
  /** Commands of this turn, written together in a setImmediate. */
  let unwritten: CommandArgs[] = [];
  let flushScheduled = false;

  const parser = new RedisParser({
    returnReply: (reply: unknown) => settleNext((p) => p.resolve(reply)),
    returnError: (error: Error) => settleNext((p) => p.reject(error)),
    returnFatalError: (error: Error) => socket?.destroy(error),
  });

  function settleNext(settle: (p: Pending) => void): void {
    const pending = queue[head];
    if (pending === undefined) return; // a reply nobody asked for: cannot happen on a sane connection
    queue[head++] = undefined as unknown as Pending;
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (!pending.settled) {
      pending.settled = true;
      settle(pending);
    }
  }

  function failAll(error: Error): void {
    const waiting = queue.slice(head);
    queue = [];
    head = 0;
    unwritten = [];
    for (const p of waiting) {
      if (!p.settled) {
        p.settled = true;
        p.reject(error);
      }
    }
  }

  function flush(): void {
    flushScheduled = false;
    if (unwritten.length === 0 || socket === undefined) return;
    const commands = unwritten;
    unwritten = [];
    socket.write(encodeCommands(commands));
  }

  function send(args: CommandArgs): Promise<unknown> {
    if (status !== "ready") return Promise.reject(new RedisUnavailableError(status));
    return enqueue(args);
  }

  function enqueue(args: CommandArgs): Promise<unknown> {
    return new Promise((resolve, reject) => {
      queue.push({ resolve, reject, sentAt: performance.now(), settled: false });
      unwritten.push(args);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
  }

  // One timer for every command: a reply later than the timeout fails its command, and the reply
  // is dropped when it comes, which keeps the replies that follow in step.
  const timeouts = setInterval(
    () => {
      const now = performance.now();
      for (let i = head; i < queue.length; i++) {
        const p = queue[i] as Pending;
        if (now - p.sentAt < commandTimeoutMs) break;
        if (!p.settled) {
          p.settled = true;
          p.reject(new RedisCommandTimeoutError(commandTimeoutMs));
        }
      }
    },
    Math.max(5, Math.floor(commandTimeoutMs / 4)),
  );
  timeouts.unref();

  function open(): void {
    status = "connecting";
    const { host, port, tls } = settings;
    const sock = tls ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    socket = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 10_000);
    const connectTimer = setTimeout(
      () => sock.destroy(new Error(`Redis connection timed out after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    sock.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      parser.reset();
      // Commands are taken once AUTH and SELECT have been answered; a refusal ends the connection.
      Promise.all(settings.handshake.map(enqueue)).then(
        () => {
          if (socket !== sock || status === "ended") return;
          attempt = 0;
          status = "ready";
        },
        (error: Error) => sock.destroy(error),
      );
    });
    sock.on("data", (chunk: Buffer) => parser.execute(chunk));
    sock.on("error", (error) => onError(error));
    sock.once("close", () => {
      clearTimeout(connectTimer);
      if (socket === sock) socket = undefined;
      failAll(new RedisUnavailableError("closed"));
      if (status === "ended") return;
      status = "closed";
      reconnectTimer = setTimeout(open, retryDelayMs(++attempt));
      reconnectTimer.unref();
    });
  }

  open();

  return {
    get status() {
      return status;
    },
    call: (command, ...args) => send([command, ...args]),
    sendEncoded: send,
    evalsha: (sha1, numKeys, ...args) => send(["EVALSHA", sha1, numKeys, ...args]),
    eval: (script, numKeys, ...args) => send(["EVAL", script, numKeys, ...args]),
    ping: () => send(["PING"]) as Promise<string>,
    disconnect() {
      status = "ended";
      clearInterval(timeouts);
      clearTimeout(reconnectTimer);
      socket?.destroy();
      failAll(new RedisUnavailableError("ended"));
    },
  };
}
