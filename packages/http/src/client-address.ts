import { isIP } from "node:net";
import type { Context } from "hono";

// Who sent a request: the connection's peer, or behind proxies of yours the client the outermost
// of them saw. The edge and the admin services read X-Forwarded-For the same way.

/**
 * The `hops`-th X-Forwarded-For entry from the right: the address the outermost of `hops` trusted
 * proxies saw. Entries further left were written by the client and prove nothing. Undefined when
 * the field has fewer entries or that one is not an IP address.
 */
export function forwardedClientIp(
  forwardedFor: string | string[] | undefined,
  hops: number,
): string | undefined {
  if (forwardedFor === undefined || hops < 1) return undefined;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor;
  let end = header.length;
  let start = header.lastIndexOf(",", end - 1) + 1;
  for (let i = 1; i < hops; i++) {
    if (start === 0) return undefined;
    end = start - 1;
    start = header.lastIndexOf(",", end - 1) + 1;
  }
  const entry = header.slice(start, end).trim();
  return isIP(entry) === 0 ? undefined : entry;
}

/**
 * The address a request came from: the connection's peer, or behind `trustedProxyHops` proxies the
 * client the outermost one saw (the peer when the field does not say). Undefined outside a node
 * server.
 */
export function clientAddress(c: Context, trustedProxyHops = 0): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const peer = env?.incoming?.socket?.remoteAddress;
  if (trustedProxyHops === 0) return peer;
  return forwardedClientIp(c.req.header("x-forwarded-for"), trustedProxyHops) ?? peer;
}
