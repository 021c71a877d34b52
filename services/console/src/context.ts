import type { AlertsClient, KeysClient } from "@apimon/client";
import type { AppVariables } from "@apimon/http";
import type { Session, SessionManager } from "./session";

/** What every signed-in request carries: its session and the CSRF token its forms embed. */
export type ConsoleEnv = { Variables: AppVariables & { session: Session; csrf: string } };

/** What the page routers need. */
export interface PageDeps {
  alerts: AlertsClient;
  keys: KeysClient;
  sessions: SessionManager;
  refreshSeconds: number;
  clock: () => Date;
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
