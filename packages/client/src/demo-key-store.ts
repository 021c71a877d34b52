// The demo key a seed printed, kept in a file so that the next seed prints the same key instead of
// adding another: a key's plaintext cannot be read back from the keys service. Kept per place the
// key lives (a database or a keys service URL, without a password).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { redactUrl } from "@apimon/config";

export interface KeptDemoKey {
  keyId: number;
  key: string;
}

/** Places remembered at once; test runs each make a database of their own. */
const MAX_PLACES = 8;

type Store = Record<string, KeptDemoKey>;

function read(file: string): Store {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Store) : {};
  } catch {
    // Unreadable: the next start adds a key and writes the file anew.
    return {};
  }
}

function isKept(value: unknown): value is KeptDemoKey {
  const kept = value as Partial<KeptDemoKey> | undefined;
  return Number.isInteger(kept?.keyId) && typeof kept?.key === "string" && kept.key.startsWith("ak_");
}

/** The demo key kept for this place, if any. */
export function keptDemoKey(file: string, place: string): KeptDemoKey | undefined {
  const kept = read(file)[redactUrl(place)];
  return isKept(kept) ? { keyId: kept.keyId, key: kept.key } : undefined;
}

/** Keeps the demo key of this place (readable by this user only), the latest places first. */
export function keepDemoKey(file: string, place: string, kept: KeptDemoKey): void {
  const name = redactUrl(place);
  const others = Object.entries(read(file)).filter(([other]) => other !== name);
  const store: Store = Object.fromEntries([
    [name, { keyId: kept.keyId, key: kept.key }],
    ...others.slice(0, MAX_PLACES - 1),
  ]);
  mkdirSync(dirname(file), { recursive: true });
  // Written beside and renamed: two starts at once leave one whole file, never a torn one.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, file);
}
