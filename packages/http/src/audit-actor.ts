import { isIP } from "node:net";
import type { AuditSource } from "@apimon/config";
import type { Context } from "hono";
import type { AppEnv } from "./app";
import { clientAddress } from "./client-address";

/** Who made a change through an admin API, as the audit log records it. */
export interface AuditActor {
  /** What the caller says it is: the console, the CLI, or any other client of the API. */
  source: AuditSource;
  /** The operator's address: the browser's as the console reports it, otherwise the caller's. */
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** The operator whose token made the change; null for the admin token. */
  operator: { id: number; name: string } | null;
}

/** Sent by the console and the CLI: `console` or `cli`. */
export const SOURCE_HEADER = "x-apimon-source";
/** Sent by the console: the address of the browser the operator used. */
export const OPERATOR_ADDRESS_HEADER = "x-apimon-operator-address";
const MAX_USER_AGENT = 200;

/**
 * The actor of a request that passed the admin token, or an operator's. The operator is known
 * from the token; the rest is the caller's word: the source and the operator's address are kept
 * only when well formed (an unknown source is `api`, an operator address that is not an IP
 * address is replaced by the caller's own).
 */
export function auditActorOf(c: Context<AppEnv>, trustedProxyHops = 0): AuditActor {
  const claimed = c.req.header(SOURCE_HEADER)?.trim().toLowerCase();
  const source = claimed === "console" || claimed === "cli" ? claimed : "api";
  const browser = c.req.header(OPERATOR_ADDRESS_HEADER)?.trim();
  const address = browser && isIP(browser) !== 0 ? browser : clientAddress(c, trustedProxyHops);
  const userAgent = c.req.header("user-agent")?.slice(0, MAX_USER_AGENT) || null;
  const caller = c.get("operator");
  return {
    source,
    clientAddress: address ?? null,
    userAgent,
    requestId: c.get("requestId") ?? null,
    operator: caller ? { id: caller.id, name: caller.name } : null,
  };
}

/** The actor the admin API app worked out for this request (or one worked out now, outside it). */
export function auditActor(c: Context<AppEnv>): AuditActor {
  return c.get("auditActor") ?? auditActorOf(c);
}
