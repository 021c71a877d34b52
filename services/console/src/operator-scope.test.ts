import { createOperatorScope } from "./operator-scope";

describe("the operator scope of API calls", () => {
  it("gives each request's calls its own token and browser, even when requests interleave", async () => {
    const scope = createOperatorScope();
    const seen: [string | undefined, Record<string, string>][] = [];
    // Alice's request starts first and waits until Bob's has finished inside it: an order set by
    // the test, not by timers that a busy machine may fire together.
    let releaseAlice = () => {};
    const aliceMayGoOn = new Promise<void>((resolve) => {
      releaseAlice = resolve;
    });
    const request = (address: string, token: string, waitFor: Promise<unknown>, done = () => {}) =>
      scope.run(address, () =>
        scope.withToken(token, async () => {
          await waitFor;
          seen.push([scope.token(), scope.headers()]);
          done();
        }),
      );
    await Promise.all([
      request("198.51.100.7", "apimon_op_alice", aliceMayGoOn),
      request("2001:db8::44", "apimon_op_bob", new Promise((resolve) => setImmediate(resolve)), releaseAlice),
    ]);
    expect(seen).toEqual([
      ["apimon_op_bob", { "x-apimon-source": "console", "x-apimon-operator-address": "2001:db8::44" }],
      ["apimon_op_alice", { "x-apimon-source": "console", "x-apimon-operator-address": "198.51.100.7" }],
    ]);
  });

  it("has no token outside a request, and refuses to call for a request nobody signed in to", () => {
    const scope = createOperatorScope();
    expect(scope.token()).toBeUndefined();
    expect(scope.headers()).toEqual({ "x-apimon-source": "console" });
    expect(() => scope.run("198.51.100.7", () => scope.token())).toThrow(
      "an API call in a request nobody signed in to",
    );
  });
});
