/**
 * Whose requests count together when limiting or judging by client address: an IPv4 address, or
 * an IPv6 /64. One subscriber, one host even, is given a whole /64 and can take a new address
 * from it for every request; counted per address, failed authentications or connections from
 * it would never add up. A source already in this form is returned unchanged.
 */
export function clientSource(address: string): string {
  // IPv4, the common case on the edge's hot path: no parsing, no allocation.
  if (!address.includes(":")) return address;
  if (address.includes(".")) return address.replace(/^::ffff:/i, "");
  const bare = address.replace(/[%/].*$/, "").toLowerCase();
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"),
          ...tailGroups,
        ];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
