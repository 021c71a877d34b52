import { BlockList, isIP } from "node:net";

// Which hosts the notifier may POST to. Webhook and Slack targets are URLs that users type in,
// so without a policy anyone who can create a channel can make the notifier call the database,
// the cloud metadata service or an admin port on the private network (SSRF). Pure: the caller
// resolves names and asks about every address it would connect to.

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved";

export interface TargetRules {
  /** Literal host names, lower-case, without a trailing dot; ".example.com" matches subdomains. */
  hosts: string[];
  addresses: BlockList;
  /** The entries as given, for messages. */
  entries: string[];
}

export interface TargetPolicy {
  /** Loopback, private, link-local and other non-public addresses allowed (development). */
  allowPrivate: boolean;
  /** Exempt from the private-address rule (they do not restrict public targets). */
  allow: TargetRules;
  /** Always refused, allowlisted or not. */
  deny: TargetRules;
}

export type PolicyVerdict = { allowed: true } | { allowed: false; reason: string };

function v4(list: BlockList, cidr: string): void {
  const [net, bits] = cidr.split("/") as [string, string];
  list.addSubnet(net, Number(bits), "ipv4");
}

function v6(list: BlockList, cidr: string): void {
  const [net, bits] = cidr.split("/") as [string, string];
  list.addSubnet(net, Number(bits), "ipv6");
}

function blockList(v4s: string[], v6s: string[]): BlockList {
  const list = new BlockList();
  for (const c of v4s) v4(list, c);
  for (const c of v6s) v6(list, c);
  return list;
}

// Refused even when private targets are allowed: reaching these hands out cloud credentials.
const METADATA = blockList(
  ["169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32"],
  ["fd00:ec2::254/128"],
);
const METADATA_HOSTS = ["metadata.google.internal", "metadata.goog", "metadata"];
const LOOPBACK = blockList(["127.0.0.0/8"], ["::1/128"]);
const UNSPECIFIED = blockList(["0.0.0.0/8"], ["::/128"]);
const LINK_LOCAL = blockList(["169.254.0.0/16"], ["fe80::/10"]);
const PRIVATE = blockList(
  ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
  ["fc00::/7", "fec0::/10"],
);
const MULTICAST = blockList(["224.0.0.0/4"], ["ff00::/8"]);
// Documentation, benchmarking, protocol-assignment, reserved and NAT64 / 6to4 / Teredo ranges,
// the last three because they can embed an IPv4 address the checks above would not see.
const RESERVED = blockList(
  ["192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4"],
  ["64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16", "2001::/32"],
);

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d or ::ffff:0a0b:0c0d) as the IPv4 address it is. */
export function normaliseAddress(address: string): string {
  const ip = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const lower = ip.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted?.[1] && isIP(dotted[1]) === 4) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const hi = Number.parseInt(hex[1], 16);
    const lo = Number.parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return lower;
}

function family(ip: string): "ipv4" | "ipv6" {
  return isIP(ip) === 4 ? "ipv4" : "ipv6";
}

/** What kind of address `address` is (IPv4 or IPv6, mapped forms included). */
export function classifyAddress(address: string): AddressClass {
  const ip = normaliseAddress(address);
  if (isIP(ip) === 0) throw new Error(`not an IP address: ${address}`);
  const type = family(ip);
  if (METADATA.check(ip, type)) return "metadata";
  if (UNSPECIFIED.check(ip, type)) return "unspecified";
  if (LOOPBACK.check(ip, type)) return "loopback";
  if (LINK_LOCAL.check(ip, type)) return "link-local";
  if (PRIVATE.check(ip, type)) return "private";
  if (MULTICAST.check(ip, type)) return "multicast";
  if (type === "ipv4" && ip === "255.255.255.255") return "reserved";
  if (RESERVED.check(ip, type)) return "reserved";
  return "public";
}

/** A host name as compared: lower-case, no trailing dot, no IPv6 brackets. */
export function normaliseHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, "");
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/**
 * Parses NOTIFIER_TARGET_ALLOWLIST / DENYLIST entries: IP addresses, CIDRs (IPv4 or IPv6) and host
 * names (".example.com" also matches every subdomain). Throws on an entry that is none of these.
 */
export function parseTargetRules(entries: readonly string[]): TargetRules {
  const addresses = new BlockList();
  const hosts: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    const [net, bits, ...rest] = entry.split("/");
    if (bits !== undefined) {
      const ip = normaliseAddress(net ?? "");
      const kind = isIP(ip);
      const prefix = Number(bits);
      if (rest.length > 0 || kind === 0 || !/^\d+$/.test(bits) || prefix > (kind === 4 ? 32 : 128)) {
        throw new Error(`not a CIDR: ${entry}`);
      }
      addresses.addSubnet(ip, prefix, family(ip));
      continue;
    }
    const ip = normaliseAddress(entry);
    if (isIP(ip) !== 0) {
      addresses.addAddress(ip, family(ip));
      continue;
    }
    const host = normaliseHost(entry);
    if (!/^\.?[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
      throw new Error(`not a host name, address or CIDR: ${entry}`);
    }
    hosts.push(host);
  }
  return { hosts, addresses, entries: [...entries] };
}

function hostMatches(rules: TargetRules, host: string): boolean {
  const h = normaliseHost(host);
  return rules.hosts.some((rule) =>
    rule.startsWith(".") ? h.endsWith(rule) || h === rule.slice(1) : h === rule,
  );
}

function addressMatches(rules: TargetRules, address: string): boolean {
  const ip = normaliseAddress(address);
  return isIP(ip) !== 0 && rules.addresses.check(ip, family(ip));
}

/** A policy from configuration values (throws on a malformed list entry). */
export function createTargetPolicy({
  allowPrivate,
  allowlist = [],
  denylist = [],
}: {
  allowPrivate: boolean;
  allowlist?: readonly string[];
  denylist?: readonly string[];
}): TargetPolicy {
  return { allowPrivate, allow: parseTargetRules(allowlist), deny: parseTargetRules(denylist) };
}

/** The verdict on the host name alone, before resolving it (denylisted and metadata names). */
export function checkHostName(policy: TargetPolicy, host: string): PolicyVerdict {
  const h = normaliseHost(host);
  if (hostMatches(policy.deny, h)) return { allowed: false, reason: `${h} is on NOTIFIER_TARGET_DENYLIST` };
  if (METADATA_HOSTS.includes(h) && !hostMatches(policy.allow, h)) {
    return { allowed: false, reason: `${h} is a cloud metadata service` };
  }
  return { allowed: true };
}

/**
 * The verdict on connecting to `address` for host `host`: the denylist first (names and
 * addresses), then the allowlist, then the address class: metadata addresses are always
 * refused, other non-public ones only when private targets are not allowed.
 */
export function checkAddress(policy: TargetPolicy, host: string, address: string): PolicyVerdict {
  const byName = checkHostName(policy, host);
  if (!byName.allowed) return byName;
  const ip = normaliseAddress(address);
  const h = normaliseHost(host);
  const where = h === ip ? ip : `${h} (${ip})`;
  if (addressMatches(policy.deny, ip))
    return { allowed: false, reason: `${where} is on NOTIFIER_TARGET_DENYLIST` };
  if (hostMatches(policy.allow, h) || addressMatches(policy.allow, ip)) return { allowed: true };
  const kind = classifyAddress(ip);
  if (kind === "public") return { allowed: true };
  if (kind === "metadata") return { allowed: false, reason: `${where} is a cloud metadata address` };
  if (policy.allowPrivate && kind !== "multicast" && kind !== "unspecified") return { allowed: true };
  return {
    allowed: false,
    reason: `${where} is a ${kind} address (set NOTIFIER_ALLOW_PRIVATE_TARGETS=true or add it to NOTIFIER_TARGET_ALLOWLIST)`,
  };
}
