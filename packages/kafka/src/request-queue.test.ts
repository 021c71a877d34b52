// kafkajs' per-connection request queue (patched in patches/kafkajs@2.2.4.patch): it arms a timer
// only while a request waits to be sent. Unpatched, every connection re-armed a 1 ms timer for as
// long as it lived, busy or idle, which cost every service a few percent of a core.

interface SocketRequestLike {
  entry: { correlationId: number; resolve: (response: unknown) => void; reject: (e: Error) => void };
  expectResponse: boolean;
  sendRequest: () => void;
}
interface RequestQueue {
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  inflight: Map<number, unknown>;
  push(request: SocketRequestLike): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number | null): void;
  checkPendingRequests(): void;
  destroy(): void;
}

const RequestQueueClass: new (options: object) => RequestQueue = require("kafkajs/src/network/requestQueue");

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function newQueue(maxInFlightRequests: number | null = null): RequestQueue {
  return new RequestQueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:9092",
    logger: silent,
  });
}

describe("kafkajs request queue timers", () => {
  let sent: number[];
  let correlationId: number;
  const request = (): SocketRequestLike => {
    const id = ++correlationId;
    return {
      entry: { correlationId: id, resolve: () => {}, reject: () => {} },
      expectResponse: true,
      sendRequest: () => sent.push(id),
    };
  };
  const fulfil = (queue: RequestQueue, id: number) =>
    queue.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    correlationId = 0;
  });
  afterEach(() => jest.useRealTimers());

  it("arms no timer once nothing waits, so an idle connection costs nothing", () => {
    const queue = newQueue();
    queue.push(request());
    fulfil(queue, 1);
    expect(sent).toEqual([1]);
    expect(queue.throttleCheckTimeoutId).toBeNull();

    const checks = jest.spyOn(queue, "checkPendingRequests");
    jest.advanceTimersByTime(1000);
    expect(checks).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it("still sends a request that waited for the broker's throttle, once the throttle ends", () => {
    const queue = newQueue();
    queue.maybeThrottle(50);
    queue.push(request());
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([1]);

    fulfil(queue, 1);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it("sends a request held back by the in-flight limit when an earlier one is answered", () => {
    const queue = newQueue(1);
    queue.push(request());
    queue.push(request());
    expect(sent).toEqual([1]);
    expect(queue.pending).toHaveLength(1);

    fulfil(queue, 1);
    expect(sent).toEqual([1, 2]);
    fulfil(queue, 2);
    expect(queue.inflight.size).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("keeps checking while a request waits and nothing else would wake the queue", () => {
    const queue = newQueue(1);
    queue.push(request());
    queue.push(request());
    // A slot can free up without an answer passing through the queue (a request that times
    // out, one that expects no answer): while something waits, the queue looks again by itself.
    expect(jest.getTimerCount()).toBe(1);
    queue.inflight.clear();
    jest.advanceTimersByTime(10);
    expect(sent).toEqual([1, 2]);
    queue.destroy();
  });
});
