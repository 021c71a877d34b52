import { clientSource } from "./client-source";

describe("clientSource", () => {
  it("keeps an IPv4 address, also one written as IPv4-mapped IPv6", () => {
    expect(clientSource("203.0.113.9")).toBe("203.0.113.9");
    expect(clientSource("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientSource("::FFFF:203.0.113.9")).toBe("203.0.113.9");
  });

  it("takes an IPv6 address's /64, however it is written", () => {
    expect(clientSource("2001:db8:0:12:aaaa::1")).toBe("2001:db8:0:12::/64");
    expect(clientSource("2001:DB8:0000:0012:bbbb:cccc:dddd:eeee")).toBe("2001:db8:0:12::/64");
    expect(clientSource("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientSource("::1")).toBe("0:0:0:0::/64");
    expect(clientSource("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("returns a source unchanged", () => {
    for (const source of ["2001:db8:0:12::/64", "2001:db8:0:0::/64", "0:0:0:0::/64", "203.0.113.9"]) {
      expect(clientSource(source)).toBe(source);
    }
  });
});
