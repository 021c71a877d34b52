import type { LookupAddress } from "node:dns";
import { type HttpReceiver, startHttpReceiver } from "@apimon/testkit";
import { createHttpClient, TargetRefusedError } from "../src/delivery/http-client";
import { createTargetPolicy } from "../src/domain/target-policy";

// The policy-checked HTTP client against a real socket: the checks must be wired into undici's
// connections, not only into the up-front test.

type Lookup = (
  h: string,
  o: { all: true },
  cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void,
) => void;

let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
});

afterAll(async () => {
  await receiver?.close();
});

function hostUrl(path: string): string {
  return receiver.url(path).replace("127.0.0.1", "hooks.test");
}

describe("policy-checked HTTP client", () => {
  it("connects to the address the guarded lookup allowed", async () => {
    const lookup: Lookup = (_h, _o, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]);
    const http = createHttpClient({
      policy: createTargetPolicy({ allowPrivate: false, allowlist: ["hooks.test"] }),
      timeoutMs: 5000,
      lookup,
    });
    try {
      const answer = await http.post(hostUrl("/allowed"), {
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(answer).toEqual({
        status: 200,
        headers: expect.objectContaining({ "content-type": "text/plain" }),
        body: "ok",
      });
      expect(receiver.requests("/allowed")[0]?.headers.host).toMatch(/^hooks\.test:\d+$/);
    } finally {
      await http.close();
    }
  });

  it("refuses at connect time a name that re-resolved to loopback (DNS rebinding)", async () => {
    let calls = 0;
    const lookup: Lookup = (_h, _o, cb) =>
      cb(null, [{ address: calls++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }]);
    const http = createHttpClient({
      policy: createTargetPolicy({ allowPrivate: false }),
      timeoutMs: 5000,
      lookup,
    });
    try {
      const attempt = http.post(hostUrl("/rebound"), { headers: {}, body: "{}" });
      await expect(attempt).rejects.toBeInstanceOf(TargetRefusedError);
      await expect(attempt).rejects.toThrow("hooks.test (127.0.0.1) is a loopback address");
      expect(receiver.requests("/rebound")).toEqual([]);
    } finally {
      await http.close();
    }
  });

  it("does not follow redirects", async () => {
    receiver.script("/moved", [{ status: 302, headers: { location: "http://169.254.169.254/" } }]);
    const http = createHttpClient({ policy: createTargetPolicy({ allowPrivate: true }), timeoutMs: 5000 });
    try {
      expect((await http.post(receiver.url("/moved"), { headers: {}, body: "" })).status).toBe(302);
    } finally {
      await http.close();
    }
  });

  it("gives up after its timeout", async () => {
    const release = receiver.hold("/slow");
    const http = createHttpClient({ policy: createTargetPolicy({ allowPrivate: true }), timeoutMs: 300 });
    try {
      await expect(http.post(receiver.url("/slow"), { headers: {}, body: "" })).rejects.toThrow(/timeout/i);
    } finally {
      release();
      await http.close();
    }
  });
});
