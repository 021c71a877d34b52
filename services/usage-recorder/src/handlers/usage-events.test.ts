import { shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { consumedMessage, handlerContext, makeUsageEvent } from "@apimon/testkit";
import type { UsageRow } from "../domain/usage-row";
import type { UsageWriter } from "../usage-writer";
import { createUsageEventsHandler } from "./usage-events";

const context = handlerContext(topics.usageEvents);

const message = (id: string, offset: string) =>
  consumedMessage(
    topics.usageEvents,
    makeUsageEvent({
      id,
      occurredAt: "2026-11-27T12:00:00.000Z",
      apiKeyId: 7,
      method: "POST",
      statusCode: 201,
      responseTimeMs: 40,
    }),
    offset,
  );

const ids = ["0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c01", "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c02"];

describe("usage events handler", () => {
  it("writes the whole batch with one call, in offset order", async () => {
    const calls: UsageRow[][] = [];
    const writer: UsageWriter = {
      write: async (rows) => {
        calls.push([...rows]);
        return { inserted: rows.length, duplicates: 0 };
      },
    };
    await createUsageEventsHandler({ writer })(
      [message(ids[0] as string, "4"), message(ids[1] as string, "5")],
      context,
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((r) => [r.eventId, r.responseTime, r.createdAt])).toEqual([
      [ids[0], 0.04, "2026-11-27T12:00:00.000Z"],
      [ids[1], 0.04, "2026-11-27T12:00:00.000Z"],
    ]);
  });

  it.each([
    [
      "a database outage, retried until the database answers",
      Object.assign(new Error("Can't reach database server"), {
        code: "P2010",
        meta: { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } },
      }),
      true,
    ],
    [
      "a revoked privilege, retried until it is granted again",
      Object.assign(new Error("permission denied for table api_usage"), {
        name: "DriverAdapterError",
        cause: { originalCode: "42501", kind: "postgres" },
      }),
      true,
    ],
    [
      "a value the database refuses, dead-lettered alone",
      Object.assign(new Error("Raw query failed"), {
        name: "PrismaClientKnownRequestError",
        code: "P2010",
        meta: { driverAdapterError: { cause: { originalCode: "22003", kind: "ValueOutOfRange" } } },
      }),
      false,
    ],
  ])("hands %s to the consumers' retry policy unchanged", async (_name, failure, retried) => {
    const handler = createUsageEventsHandler({
      writer: {
        write: async () => {
          throw failure;
        },
      },
    });
    const error = await handler([message(ids[0] as string, "1")], context).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(shouldRetryDbError(error)).toBe(retried);
  });
});
