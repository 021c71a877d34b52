import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, request } from "undici";
import {
  checkAddress,
  checkHostName,
  normaliseAddress,
  normaliseHost,
  type TargetPolicy,
} from "../domain/target-policy";

// The notifier's one way out to user-supplied URLs (webhooks, Slack). Every connection goes
// through the target policy twice: once up front, to refuse with a clear message before any
// request, and again in the socket's own DNS lookup, so that a name which resolves to a public
// address for the check and a private one for the connection (DNS rebinding) is still refused.

/** A target the policy refuses; permanent, never retried. */
export class TargetRefusedError extends Error {
  constructor(reason: string) {
    super(`target refused: ${reason}`);
    this.name = "TargetRefusedError";
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as text, cut at a few kilobytes (only ever shown in errors). */
  body: string;
}

export interface HttpPostRequest {
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal;
}

export interface HttpClient {
  /** POSTs to `url` after the policy allowed it; throws TargetRefusedError, network errors, timeouts. */
  post(url: string, req: HttpPostRequest): Promise<HttpAnswer>;
  close(): Promise<void>;
}

type LookupFn = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const MAX_BODY_BYTES = 4096;

function resolveAll(lookup: LookupFn, host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/** Refuses the URL unless it is http(s) and every address of its host passes the policy. */
export async function assertTargetAllowed(
  policy: TargetPolicy,
  url: string,
  lookup: LookupFn = dnsLookup as unknown as LookupFn,
): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetRefusedError("not a valid URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TargetRefusedError(`scheme ${parsed.protocol} is not http or https`);
  }
  if (parsed.username || parsed.password)
    throw new TargetRefusedError("URLs with credentials are not accepted");
  const host = normaliseHost(parsed.hostname);
  const byName = checkHostName(policy, host);
  if (!byName.allowed) throw new TargetRefusedError(byName.reason);
  const addresses =
    isIP(normaliseAddress(host)) !== 0 ? [host] : (await resolveAll(lookup, host)).map((a) => a.address);
  if (addresses.length === 0) throw new TargetRefusedError(`${host} has no address`);
  for (const address of addresses) {
    const verdict = checkAddress(policy, host, address);
    if (!verdict.allowed) throw new TargetRefusedError(verdict.reason);
  }
  return parsed;
}

/** A socket lookup that resolves as usual but fails for any address the policy refuses. */
export function guardedLookup(policy: TargetPolicy, lookup: LookupFn = dnsLookup as unknown as LookupFn) {
  return (
    hostname: string,
    options: { all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    lookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const { address } of addresses) {
        const verdict = checkAddress(policy, hostname, address);
        if (!verdict.allowed) return callback(new TargetRefusedError(verdict.reason), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * The body's first few kilobytes. The status decides the outcome, so once it has arrived nothing
 * about the body may turn the answer into an error: a receiver that answered 200 and then closed
 * the connection, or trickles its body past the deadline, has taken the notification, and a
 * retry would deliver it again. Reading stops at the cap (the rest is never downloaded).
 */
async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) break; // leaving the loop destroys the body
    }
  } catch {
    // Cut short or too slow: what was read is all there is.
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
}

/**
 * An undici keep-alive agent whose connections obey the policy, with one deadline
 * (`timeoutMs`) for the whole request: connect, headers and body (a body still arriving at the
 * deadline is cut there, the answer kept).
 */
export function createHttpClient({
  policy,
  timeoutMs,
  userAgent = "apimon-notifier/1",
  lookup,
}: {
  policy: TargetPolicy;
  timeoutMs: number;
  userAgent?: string;
  /** For tests: the resolver behind both checks. */
  lookup?: LookupFn;
}): HttpClient {
  const agent = new Agent({
    connect: { timeout: timeoutMs, lookup: guardedLookup(policy, lookup) as never },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 4000,
    connections: 16,
  });
  return {
    async post(url, { headers, body, signal }) {
      await assertTargetAllowed(policy, url, lookup);
      const deadline = AbortSignal.timeout(timeoutMs);
      const res = await request(url, {
        method: "POST",
        headers: { "user-agent": userAgent, ...headers },
        body,
        dispatcher: agent,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      const answerHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      return { status: res.statusCode, headers: answerHeaders, body: await readCapped(res.body) };
    },
    close: () => agent.close(),
  };
}
