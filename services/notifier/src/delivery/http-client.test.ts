import type { LookupAddress } from "node:dns";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTargetPolicy } from "../domain/target-policy";
import { assertTargetAllowed, createHttpClient, guardedLookup, TargetRefusedError } from "./http-client";

/** A resolver with fixed answers, so no test depends on real DNS. */
function fakeLookup(table: Record<string, LookupAddress[]>) {
  return (
    host: string,
    _options: { all: true },
    callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    const answer = table[host];
    if (!answer)
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }), []);
    else callback(null, answer);
  };
}

const lookup = fakeLookup({
  "hooks.example.com": [{ address: "93.184.216.34", family: 4 }],
  "sneaky.example.com": [
    { address: "93.184.216.34", family: 4 },
    { address: "10.0.0.7", family: 4 },
  ],
  localhost: [{ address: "127.0.0.1", family: 4 }],
});
const strict = createTargetPolicy({ allowPrivate: false });

describe("webhook target check", () => {
  it("allows an https URL whose host resolves to public addresses only", async () => {
    const url = await assertTargetAllowed(strict, "https://hooks.example.com/x?token=1", lookup);
    expect(url.hostname).toBe("hooks.example.com");
  });

  it("refuses a host with any private address, naming it", async () => {
    await expect(assertTargetAllowed(strict, "https://sneaky.example.com/", lookup)).rejects.toThrow(
      "target refused: sneaky.example.com (10.0.0.7) is a private address",
    );
    await expect(assertTargetAllowed(strict, "http://localhost:8080/", lookup)).rejects.toThrow(
      "target refused: localhost (127.0.0.1) is a loopback address",
    );
  });

  it("checks IP literals without resolving them", async () => {
    await expect(assertTargetAllowed(strict, "http://[::1]:9000/", lookup)).rejects.toThrow(
      "target refused: ::1 is a loopback address",
    );
    await expect(
      assertTargetAllowed(strict, "http://169.254.169.254/latest/meta-data", lookup),
    ).rejects.toThrow("169.254.169.254 is a cloud metadata address");
    await expect(assertTargetAllowed(strict, "http://2130706433/", lookup)).rejects.toThrow(
      "127.0.0.1 is a loopback address",
    );
  });

  it("refuses other schemes, credentials in the URL and garbage", async () => {
    await expect(assertTargetAllowed(strict, "file:///etc/passwd", lookup)).rejects.toThrow(
      "scheme file: is not http or https",
    );
    await expect(assertTargetAllowed(strict, "https://u:p@hooks.example.com/", lookup)).rejects.toThrow(
      "URLs with credentials are not accepted",
    );
    await expect(assertTargetAllowed(strict, "not a url", lookup)).rejects.toBeInstanceOf(TargetRefusedError);
  });

  it("lets a resolution failure through as a (retriable) network error", async () => {
    await expect(assertTargetAllowed(strict, "https://nowhere.example.com/", lookup)).rejects.toThrow(
      "ENOTFOUND",
    );
  });
});

describe("socket lookup guard", () => {
  it("fails the connection when the name resolves to a refused address at connect time", (done) => {
    // First answer public (the up-front check), then private (the connection): DNS rebinding.
    let calls = 0;
    const rebinding = (
      _host: string,
      _o: { all: true },
      cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void,
    ) => cb(null, [{ address: calls++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }]);
    const guarded = guardedLookup(strict, rebinding);
    guarded("rebind.example.com", {}, (err, address) => {
      expect(err).toBeNull();
      expect(address).toBe("93.184.216.34");
      guarded("rebind.example.com", { all: true }, (err2) => {
        expect(err2).toBeInstanceOf(TargetRefusedError);
        expect(err2?.message).toBe(
          "target refused: rebind.example.com (127.0.0.1) is a loopback address (set NOTIFIER_ALLOW_PRIVATE_TARGETS=true or add it to NOTIFIER_TARGET_ALLOWLIST)",
        );
        done();
      });
    });
  });
});

describe("answers", () => {
  let server: Server;
  let base: string;
  const client = createHttpClient({ policy: createTargetPolicy({ allowPrivate: true }), timeoutMs: 500 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.url === "/cut") {
        // The status and part of the promised body, then the connection goes.
        res.writeHead(200, { "content-length": "1000" });
        res.write("accepted");
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (req.url === "/trickle") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("a");
        const timer = setInterval(() => res.write("a"), 100);
        res.on("close", () => clearInterval(timer));
      } else if (req.url === "/huge") {
        res.writeHead(200, { "content-type": "text/plain" });
        const chunk = "b".repeat(64 * 1024);
        let sent = 0;
        const more = () => {
          while (sent < 2000 && res.write(chunk)) sent++;
          if (sent < 2000) res.once("drain", more);
          else res.end();
        };
        more();
      } else {
        res.writeHead(503).end("busy");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string) => client.post(`${base}${path}`, { headers: {}, body: "{}" });

  it("keeps a 2xx whose body is cut short or still arriving at the deadline: the receiver took it", async () => {
    await expect(post("/cut")).resolves.toMatchObject({ status: 200, body: "accepted" });
    const trickled = await post("/trickle");
    expect(trickled.status).toBe(200);
    expect(trickled.body).toMatch(/^a+$/);
  });

  it("reads only the first kilobytes of a huge body, and the status of an error", async () => {
    const huge = await post("/huge");
    expect(huge.status).toBe(200);
    expect(huge.body).toBe("b".repeat(4096));
    await expect(post("/busy")).resolves.toMatchObject({ status: 503, body: "busy" });
  });
});
