import * as fs from "node:fs";
import * as net from "node:net";
import { freePort } from "./broker";

const ephemeralStart = Number(
  fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
);

describe("freePort", () => {
  it("hands out distinct ports below the kernel's ephemeral range, where no outgoing connection can take them", async () => {
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralStart);
    }
  });

  it("skips a port something already listens on", async () => {
    const taken = await freePort();
    const next = await freePort();
    // Occupy the port the next call would hand out; it must move past it.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(next + 1, "127.0.0.1", resolve));
    try {
      const port = await freePort();
      expect([taken, next, next + 1]).not.toContain(port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
