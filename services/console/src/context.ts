import {
  type AlertsClient,
  ApiError,
  type KeysClient,
  type OperatorView,
  type UserView,
} from "@apimon/client";
import { type AppVariables, MAX_PAGE_SIZE } from "@apimon/http";
import type { Session, SessionManager } from "./session";
import type { SignedIn } from "./views/layout";

/** What every signed-in request carries: its session, and what its pages show of it (the CSRF token, who). */
export type ConsoleEnv = { Variables: AppVariables & { session: Session; signedIn: SignedIn } };

/** What the page routers need. */
export interface PageDeps {
  alerts: AlertsClient;
  keys: KeysClient;
  sessions: SessionManager;
  refreshSeconds: number;
  clock: () => Date;
}

/**
 * The names of these keys by id, from one call to the keys API. A key it does not know (deleted)
 * is absent; when the keys API cannot answer the map is empty and the page shows the ids.
 */
export function keyNames(keys: KeysClient, ids: readonly (number | null)[]): Promise<Map<number, string>> {
  const wanted = [...new Set(ids.filter((id): id is number => id !== null))].slice(0, MAX_PAGE_SIZE);
  if (wanted.length === 0) return Promise.resolve(new Map());
  return namesWithin(keys.listKeys({ ids: wanted, limit: wanted.length }).then((page) => page.items));
}

/**
 * The names of the notification channels by id (the first 100, as the channels page lists them);
 * empty when the alerts API cannot answer, and the page shows the ids.
 */
export function channelNames(alerts: AlertsClient): Promise<Map<number, string>> {
  return namesWithin(alerts.listChannels({ limit: MAX_PAGE_SIZE }).then((page) => page.items));
}

/**
 * How long a page waits for names before it shows ids: names are a courtesy, and a page that
 * does not otherwise need that API must not hang on it (its client retries for a minute).
 */
const NAMES_WAIT_MS = 1000;

/** These users, in one call; a user the keys API does not know (deleted) is left out, and all are when it does not answer within NAMES_WAIT_MS. */
export function usersByIds(keys: KeysClient, ids: readonly number[]): Promise<UserView[]> {
  const wanted = [...new Set(ids)].slice(0, MAX_PAGE_SIZE);
  if (wanted.length === 0) return Promise.resolve([]);
  return recordsWithin(keys.listUsers({ ids: wanted, limit: wanted.length }).then((page) => page.items));
}

/** The names of these users by id, as usersByIds finds them: a user it leaves out shows by id. */
export async function userNames(keys: KeysClient, ids: readonly number[]): Promise<Map<number, string>> {
  return new Map((await usersByIds(keys, ids)).map((user) => [user.id, user.name]));
}

/** The first MAX_PAGE_SIZE operators, revoked ones included; none when the keys API does not answer within NAMES_WAIT_MS. */
export function operatorChoices(keys: KeysClient): Promise<OperatorView[]> {
  return recordsWithin(keys.listOperators({ limit: MAX_PAGE_SIZE }).then((page) => page.items));
}

/** The records' names by id; none when `records` fails or takes longer than NAMES_WAIT_MS. */
async function namesWithin(records: Promise<{ id: number; name: string }[]>): Promise<Map<number, string>> {
  return new Map((await recordsWithin(records)).map((record) => [record.id, record.name]));
}

/** The records; none when `records` fails or takes longer than NAMES_WAIT_MS. */
async function recordsWithin<T>(records: Promise<T[]>): Promise<T[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T[]>((resolve) => {
    timer = setTimeout(() => resolve([]), NAMES_WAIT_MS);
  });
  try {
    return await Promise.race([records, late]);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/** The string value of a form field ("" when absent or a file). */
export function field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value.trim() : "";
}

/** Field errors of an API 400, grouped by field name. */
export function groupErrors(errors: { field: string; message: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) out[e.field] = [...(out[e.field] ?? []), e.message];
  return out;
}

/** The `detail` of an API's error answer (the error's own message when the body has none). */
export function apiDetail(err: ApiError): string {
  const detail = (err.body as { detail?: unknown } | undefined)?.detail;
  return typeof detail === "string" ? detail : err.message;
}

/**
 * The problems of an API refusal to show on a form: its field errors, or its detail under
 * `fallbackField`. Anything but an ApiError with one of `statuses` is rethrown for the error page.
 */
export function refusal(err: unknown, fallbackField: string, statuses: readonly number[] = [400]) {
  if (!(err instanceof ApiError) || !statuses.includes(err.status)) throw err;
  const list = err.fieldErrors.length ? err.fieldErrors : [{ field: fallbackField, message: apiDetail(err) }];
  const text = err.fieldErrors.length
    ? err.fieldErrors.map((e) => `${e.field}: ${e.message}`).join("; ")
    : apiDetail(err);
  return { list, byField: groupErrors(list), text };
}
