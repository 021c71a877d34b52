import { Writable } from "node:stream";
import { createLogger, type Logger } from "@apimon/observability";

export interface CapturedLogger {
  logger: Logger;
  /** Every line written so far, parsed, oldest first. */
  lines: Record<string, unknown>[];
}

export interface CaptureLoggerOptions {
  service?: string;
  level?: string;
}

/** A real JSON logger whose lines a test reads back, for asserting on what was logged. */
export function captureLogger({ service = "test", level }: CaptureLoggerOptions = {}): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ service, level, destination }), lines };
}
