import {
  checkAddress,
  checkHostName,
  classifyAddress,
  createTargetPolicy,
  parseTargetRules,
} from "./target-policy";

describe("address classes", () => {
  it.each([
    ["8.8.8.8", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "loopback"],
    ["127.9.9.9", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd12:3456::1", "private"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["169.254.169.254", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.10", "reserved"],
    ["64:ff9b::7f00:1", "reserved"],
  ])("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it("keeps 172.32/12 and 11/8 public", () => {
    expect(classifyAddress("172.32.0.1")).toBe("public");
    expect(classifyAddress("11.0.0.1")).toBe("public");
  });
});

describe("webhook target policy", () => {
  const strict = createTargetPolicy({ allowPrivate: false });
  const dev = createTargetPolicy({ allowPrivate: true });

  it("allows public addresses and refuses private ones by default, saying how to allow them", () => {
    expect(checkAddress(strict, "hooks.example.com", "93.184.216.34")).toEqual({ allowed: true });
    const verdict = checkAddress(strict, "internal.example.com", "10.0.0.5");
    expect(verdict).toEqual({
      allowed: false,
      reason:
        "internal.example.com (10.0.0.5) is a private address (set NOTIFIER_ALLOW_PRIVATE_TARGETS=true or add it to NOTIFIER_TARGET_ALLOWLIST)",
    });
    expect(checkAddress(strict, "localhost", "127.0.0.1").allowed).toBe(false);
    expect(checkAddress(strict, "::1", "::1").allowed).toBe(false);
  });

  it("allows loopback and private addresses in development", () => {
    expect(checkAddress(dev, "localhost", "127.0.0.1")).toEqual({ allowed: true });
    expect(checkAddress(dev, "receiver", "172.18.0.4")).toEqual({ allowed: true });
  });

  it("refuses cloud metadata addresses and names even in development", () => {
    expect(checkAddress(dev, "169.254.169.254", "169.254.169.254")).toEqual({
      allowed: false,
      reason: "169.254.169.254 is a cloud metadata address",
    });
    expect(checkHostName(dev, "metadata.google.internal.")).toEqual({
      allowed: false,
      reason: "metadata.google.internal is a cloud metadata service",
    });
    expect(checkAddress(dev, "x", "0.0.0.0").allowed).toBe(false);
  });

  it("exempts allowlisted hosts and CIDRs from the private-address rule", () => {
    const policy = createTargetPolicy({
      allowPrivate: false,
      allowlist: ["10.20.0.0/16", "hooks.internal", "127.0.0.1"],
    });
    expect(checkAddress(policy, "a", "10.20.3.4")).toEqual({ allowed: true });
    expect(checkAddress(policy, "hooks.internal", "10.99.0.1")).toEqual({ allowed: true });
    expect(checkAddress(policy, "127.0.0.1", "127.0.0.1")).toEqual({ allowed: true });
    expect(checkAddress(policy, "b", "10.21.0.1").allowed).toBe(false);
    expect(checkAddress(policy, "127.0.0.2", "127.0.0.2").allowed).toBe(false);
  });

  it("refuses denylisted hosts, subdomains and CIDRs, public or allowlisted", () => {
    const policy = createTargetPolicy({
      allowPrivate: true,
      allowlist: ["10.0.0.0/8"],
      denylist: [".evil.example", "10.0.0.9", "203.0.112.0/24", "2001:4860::/32"],
    });
    expect(checkAddress(policy, "a.evil.example", "93.184.216.34")).toEqual({
      allowed: false,
      reason: "a.evil.example is on NOTIFIER_TARGET_DENYLIST",
    });
    expect(checkAddress(policy, "evil.example", "93.184.216.34").allowed).toBe(false);
    expect(checkAddress(policy, "notevil.example", "93.184.216.34").allowed).toBe(true);
    expect(checkAddress(policy, "db", "10.0.0.9").allowed).toBe(false);
    expect(checkAddress(policy, "h", "203.0.112.77").allowed).toBe(false);
    expect(checkAddress(policy, "g", "2001:4860::8888").allowed).toBe(false);
  });

  it("rejects malformed list entries", () => {
    expect(() => parseTargetRules(["10.0.0.0/33"])).toThrow("not a CIDR: 10.0.0.0/33");
    expect(() => parseTargetRules(["not a host"])).toThrow("not a host name, address or CIDR: not a host");
    expect(() => parseTargetRules(["10.0.0.0/x"])).toThrow("not a CIDR");
    expect(parseTargetRules([" ", "example.com", "::1/128"]).hosts).toEqual(["example.com"]);
  });
});
