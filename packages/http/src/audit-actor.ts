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
}

/** Sent by the console and the CLI: `console` or `cli`. */
export const SOURCE_HEADER = "x-apimon-source";
/** Sent by the console: the address of the browser the operator used. */
export const OPERATOR_ADDRESS_HEADER = "x-apimon-operator-address";
const MAX_USER_AGENT = 200;

/**
 * The actor of a request that passed the admin token. Only a holder of the token gets here, and
 * it may say anything about itself: the source and the operator's address are its word, kept
 * only when well formed (an unknown source is `api`, an operator address that is not an IP
 * address is replaced by the caller's own).
 */
export function auditActorOf(c: Context<AppEnv>, trustedProxyHops = 0): AuditActor {
  const claimed = c.req.header(SOURCE_HEADER)?.trim().toLowerCase();
  const source = claimed === "console" || claimed === "cli" ? claimed : "api";
  const operator = c.req.header(OPERATOR_ADDRESS_HEADER)?.trim();
  const address = operator && isIP(operator) !== 0 ? operator : clientAddress(c, trustedProxyHops);
  const userAgent = c.req.header("user-agent")?.slice(0, MAX_USER_AGENT) || null;
  return { source, clientAddress: address ?? null, userAgent, requestId: c.get("requestId") ?? null };
}

/** The actor the admin API app worked out for this request (or one worked out now, outside it). */
export function auditActor(c: Context<AppEnv>): AuditActor {
  return c.get("auditActor") ?? auditActorOf(c);
}
