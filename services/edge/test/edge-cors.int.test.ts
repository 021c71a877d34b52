// Browsers on another origin: the spec's JavaScript client, run in chromium from a page served by
// a different port, calls the edge and reads the rate-limit headers.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { launchChromium } from "@apimon/testkit";
import type { Browser } from "playwright-core";
import { type EdgeProcess, type EdgeStack, startEdgeStack } from "./harness";

let stack: EdgeStack;
let edge: EdgeProcess;
let page: http.Server;
let pageOrigin: string;
let browser: Browser | undefined;

/** The spec's JavaScript client, as published, with its base URL pointed at the edge. */
const SPEC_CLIENT = `
class APIClient {
    constructor(apiKey) {
        this.apiKey = apiKey;
        this.baseUrl = 'https://api.example.com';
    }
    async makeRequest(endpoint, method = 'GET', options = {}) {
        const response = await fetch(\`\${this.baseUrl}\${endpoint}\`, {
            method,
            headers: { 'X-API-Key': this.apiKey, ...options.headers },
            ...options
        });
        this.checkRateLimits(response.headers);
        if (!response.ok) throw new Error(\`HTTP error! status: \${response.status}\`);
        return await response.json();
    }
    checkRateLimits(headers) {
        ['minute', 'hour', 'day'].forEach(period => {
            const remaining = parseInt(headers.get(\`X-RateLimit-\${period}-Remaining\`));
            if (remaining < 10) console.warn(\`Warning: Low \${period} rate limit remaining: \${remaining}\`);
        });
    }
}`;

beforeAll(async () => {
  page = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end(
      // A class declaration is a global binding but not a property of window: publish it.
      `<!doctype html><script>${SPEC_CLIENT}\nwindow.APIClient = APIClient;</script>`,
    );
  });
  await new Promise<void>((r) => page.listen(0, "127.0.0.1", r));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  stack = await startEdgeStack({ label: "edge-cors", edges: 1, edgeEnv: { EDGE_CORS_ORIGINS: pageOrigin } });
  edge = stack.edges[0] as EdgeProcess;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((r) => page.close(r));
});

describe("edge CORS", () => {
  it("answers a preflight from an allowed origin with 204 and the headers, without a key", async () => {
    const res = await fetch(`${edge.url}/api/users`, {
      method: "OPTIONS",
      headers: {
        origin: pageOrigin,
        "access-control-request-method": "GET",
        "access-control-request-headers": "x-api-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(pageOrigin);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-api-key");
    expect(res.headers.get("access-control-allow-methods")).toContain("GET");

    // Another origin's preflight is not answered by the edge: it needs a key like any request.
    const other = await fetch(`${edge.url}/api/users`, {
      method: "OPTIONS",
      headers: { origin: "http://elsewhere.example", "access-control-request-method": "GET" },
    });
    expect(other.status).toBe(401);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("exposes every rate-limit header and Retry-After on answers to an allowed origin, 401 included", async () => {
    const res = await fetch(`${edge.url}/api/users`, { headers: { origin: pageOrigin } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(pageOrigin);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(", ");
    for (const w of ["Minute", "Hour", "Day"]) {
      for (const f of ["Limit", "Remaining", "Reset"]) expect(exposed).toContain(`X-RateLimit-${w}-${f}`);
    }
    expect(exposed).toContain("Retry-After");
  });

  it("lets the spec's JavaScript client in chromium, on another origin, read X-RateLimit-Minute-Remaining", async () => {
    const { key } = await stack.newKey();
    browser = await launchChromium();
    const tab = await browser.newPage();
    await tab.goto(pageOrigin);
    const seen = await tab.evaluate(
      async ({ key, edgeUrl }) => {
        const Client = (
          globalThis as unknown as {
            APIClient: new (
              k: string,
            ) => {
              baseUrl: string;
              makeRequest(e: string): Promise<unknown>;
              checkRateLimits(h: Headers): void;
            };
          }
        ).APIClient;
        const client = new Client(key);
        client.baseUrl = edgeUrl;
        let minuteRemaining: string | null = null;
        const check = client.checkRateLimits.bind(client);
        client.checkRateLimits = (headers: Headers) => {
          minuteRemaining = headers.get("X-RateLimit-Minute-Remaining");
          check(headers);
        };
        const body = await client.makeRequest("/api/users/1");
        return { minuteRemaining, body };
      },
      { key, edgeUrl: edge.url },
    );
    expect(seen.minuteRemaining).toBe("99");
    expect(seen.body).toMatchObject({ id: 1 });
  }, 60_000);
});
