import { createOperatorScope } from "./operator-scope";

describe("the operator scope of API calls", () => {
  it("gives each request's calls its own token and browser, even when requests interleave", async () => {
    const scope = createOperatorScope();
    const seen: [string | undefined, Record<string, string>][] = [];
    const request = (address: string, token: string, delayMs: number) =>
      scope.run(address, () =>
        scope.withToken(token, async () => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          seen.push([scope.token(), scope.headers()]);
        }),
      );
    await Promise.all([
      request("198.51.100.7", "apimon_op_alice", 10),
      request("2001:db8::44", "apimon_op_bob", 1),
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
