import type { KeysClient } from "@apimon/client";
import type { KeyNames } from "./commands/alerts";

/** The most ids the keys service takes in one `ids=` query. */
const IDS_PER_CALL = 100;

/**
 * Names of keys by id from the keys service. A table of alerts is still worth printing with ids
 * when the keys service is slow, away or refuses: any failure gives the names found so far.
 * `keys` should be a client that gives up quickly (one short attempt).
 */
export function keyNamesFrom(keys: Pick<KeysClient, "listKeys">): KeyNames {
  return async (ids) => {
    const names = new Map<number, string>();
    try {
      for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
        const chunk = ids.slice(i, i + IDS_PER_CALL);
        const page = await keys.listKeys({ ids: chunk, limit: chunk.length });
        for (const key of page.items) names.set(key.id, key.name);
      }
    } catch {
      // Ids, then.
    }
    return names;
  };
}
