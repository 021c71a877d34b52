import type { KeysClient } from "@apimon/client";
import { keyNamesFrom } from "./key-names";

type ListKeys = KeysClient["listKeys"];
/** What the CLI asks of the keys list: the ids it wants named. */
type IdsQuery = { ids?: readonly number[] };

describe("key names for the CLI's tables", () => {
  it("asks for 100 ids a call and names the keys the service has", async () => {
    const calls: (readonly number[])[] = [];
    const listKeys = (async ({ ids = [] }: IdsQuery = {}) => {
      calls.push(ids);
      // The service leaves out the ids of deleted keys: here, the even ones.
      return {
        items: ids.filter((id) => id % 2 === 1).map((id) => ({ id, name: `key ${id}` })),
        nextCursor: null,
      };
    }) as ListKeys;
    const ids = Array.from({ length: 150 }, (_, i) => i + 1);
    const names = await keyNamesFrom({ listKeys })(ids);
    expect(calls.map((c) => c.length)).toEqual([100, 50]);
    expect(names.size).toBe(75);
    expect(names.get(149)).toBe("key 149");
    expect(names.has(150)).toBe(false);
  });

  it("gives the names it got when the keys service fails, and asks for nothing without ids", async () => {
    let call = 0;
    const listKeys = (async ({ ids = [] }: IdsQuery = {}) => {
      call += 1;
      if (call === 2) throw new Error("cannot reach the keys service");
      return { items: ids.map((id) => ({ id, name: `key ${id}` })), nextCursor: null };
    }) as ListKeys;
    const names = await keyNamesFrom({ listKeys })(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(names.size).toBe(100);
    expect(await keyNamesFrom({ listKeys })([])).toEqual(new Map());
    expect(call).toBe(2);
  });
});
