import { makeUsageEvent } from "@apimon/testkit";
import { INSERT_USAGE_SQL, toArrayLiterals, toUsageRow, USAGE_COLUMNS } from "./usage-row";

const event = makeUsageEvent({
  id: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d",
  occurredAt: "2026-11-27T12:00:00.123Z",
  apiKeyId: 7,
  userId: 3,
  statusCode: 503,
  responseTimeMs: 1250,
  rateLimited: true,
});

describe("usage row mapping", () => {
  it("keeps the spec's fields plus the event id, with response time in seconds and created_at = occurredAt", () => {
    expect(toUsageRow(event)).toEqual({
      eventId: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d",
      userId: 3,
      apiKeyId: 7,
      endpoint: "/users/:id",
      method: "GET",
      statusCode: 503,
      responseTime: 1.25,
      rateLimited: true,
      createdAt: "2026-11-27T12:00:00.123Z",
    });
  });

  it("passes each column as one Postgres array literal, in row order, quoting and escaping texts", () => {
    const tricky = {
      ...event,
      id: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6f",
      endpoint: '/a "b" \\c {d},e',
      method: "NULL",
      responseTimeMs: 0.5,
      rateLimited: false,
    };
    expect(toArrayLiterals([toUsageRow(event), toUsageRow(tricky)])).toEqual([
      '{"0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d","0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6f"}',
      "{3,3}",
      "{7,7}",
      '{"/users/:id","/a \\"b\\" \\\\c {d},e"}',
      // Quoted, so it is the text NULL and not a null.
      '{"GET","NULL"}',
      "{503,503}",
      "{1.25,0.0005}",
      "{true,false}",
      '{"2026-11-27T12:00:00.123Z","2026-11-27T12:00:00.123Z"}',
    ]);
    expect(toArrayLiterals([])).toEqual(Array(USAGE_COLUMNS.length).fill("{}"));
  });

  it("writes a batch with one statement of one parameter per column, idempotent on the event id", () => {
    expect(INSERT_USAGE_SQL).toBe(
      "INSERT INTO api_usage (event_id, user_id, api_key_id, endpoint, method, status_code, response_time, rate_limited, created_at) " +
        "SELECT * FROM unnest($1::uuid[], $2::int4[], $3::int4[], $4::text[], $5::text[], $6::int4[], $7::float8[], $8::bool[], $9::timestamptz[]) " +
        "ON CONFLICT (event_id, created_at) DO NOTHING",
    );
  });
});
