/**
 * A failure worth retrying: the same message would succeed once a dependency comes back
 * (database restarting, broker unavailable). Consumers retry these with backoff, forever,
 * which pauses their partition instead of skipping data.
 */
export class RetriableError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetriableError";
  }
}

/** The default test for retriable errors: a RetriableError, or any error flagged `retriable: true`. */
export function isMarkedRetriable(error: unknown): boolean {
  return (
    error instanceof RetriableError ||
    (typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === true)
  );
}

/** A publish was refused because the producer's in-memory queue is full. */
export class ProducerQueueFullError extends Error {
  constructor(readonly depth: number) {
    super(`producer queue full (${depth} messages waiting)`);
    this.name = "ProducerQueueFullError";
  }
}

/** A publish after `disconnect()` began. */
export class ProducerClosedError extends Error {
  constructor() {
    super("producer is closed");
    this.name = "ProducerClosedError";
  }
}

/** The broker refused a produce because a record or batch exceeds its size limit. */
export function isRecordTooLarge(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
