// End to end: calls through the real edge become api_usage rows (usage-recorder) and
// the key's usageCount / lastUsed (key-stats), read back through the keys API.
import { waitFor } from "@apimon/testkit";
import { type FullStack, startFullStack } from "./lib/full-stack";

let stack: FullStack;

beforeAll(async () => {
  stack = await startFullStack({
    label: "usage-e2e",
    services: ["demo-upstream", "keys", "edge", "usage-recorder", "key-stats"],
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("usage pipeline through the edge", () => {
  it("turns N calls into N api_usage rows and usageCount = N, with the usage query agreeing", async () => {
    const { key, id } = await stack.newKey();
    const N = 60;
    const statuses: number[] = [];
    for (let i = 0; i < N; i++) {
      const path = i % 10 === 9 ? "/api/fail" : `/api/users/${(i % 3) + 1}`;
      const res = await fetch(`${stack.url("edge")}${path}`, { headers: { "x-api-key": key } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const lastCallAt = Date.now();
    expect(statuses.filter((s) => s === 500)).toHaveLength(6);

    let rowsAt = 0;
    let countAt = 0;
    await Promise.all([
      waitFor(
        async () => {
          const [row] = await stack.db.prisma.$queryRaw<{ n: bigint }[]>`
            SELECT count(*) AS n FROM api_usage WHERE api_key_id = ${id}`;
          if (Number(row?.n) !== N) return false;
          rowsAt = Date.now() - lastCallAt;
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: `${N} api_usage rows` },
      ),
      waitFor(
        async () => {
          const k = await stack.keys.getKey(id);
          if (Number(k.usageCount) !== N) return false;
          countAt = Date.now() - lastCallAt;
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: `usageCount = ${N}` },
      ),
    ]);
    process.stdout.write(
      `after the last call: ${N} rows in ${rowsAt} ms, usageCount = ${N} in ${countAt} ms\n`,
    );

    const rows = await stack.db.prisma.$queryRaw<{ endpoint: string; status_code: number; n: bigint }[]>`
      SELECT endpoint, status_code, count(*) AS n FROM api_usage WHERE api_key_id = ${id}
      GROUP BY endpoint, status_code ORDER BY endpoint`;
    expect(rows.map((r) => ({ endpoint: r.endpoint, status: r.status_code, n: Number(r.n) }))).toEqual([
      { endpoint: "/api/fail", status: 500, n: 6 },
      { endpoint: "/api/users/:id", status: 200, n: 54 },
    ]);
    const key1 = await stack.keys.getKey(id);
    expect(key1.lastUsed).not.toBeNull();

    const usage = await stack.admin<{ buckets: { requests: number; errors: number }[] }>(
      "keys",
      "GET",
      `/api/v1/keys/${id}/usage?granularity=hour`,
    );
    const totals = usage.buckets.reduce(
      (acc, b) => ({ requests: acc.requests + b.requests, errors: acc.errors + b.errors }),
      { requests: 0, errors: 0 },
    );
    expect(totals).toEqual({ requests: N, errors: 6 });
  });
});
