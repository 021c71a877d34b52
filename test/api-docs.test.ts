// The interactive API references of the keys and alerts services, opened as an operator would:
// in chromium, with the services' CSP, and nothing loaded from anywhere but the service.
import { type RunningServer, startServer } from "@apimon/http";
import { launchChromium } from "@apimon/testkit";
import type { Browser } from "playwright-core";
import { describedApps } from "../scripts/described-apps";

// Opening the reference reads only /openapi.json: no route that needs the database runs.
const apps = describedApps();

describe("the API reference at /docs", () => {
  let browser: Browser;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each(Object.entries(apps))(
    "renders every operation of the %s service without a console error",
    async (_, app) => {
      const server = await startServer(app, { port: 0, hostname: "127.0.0.1" });
      servers.push(server);
      const origin = `http://127.0.0.1:${server.port}`;
      const spec = (await (await fetch(`${origin}/openapi.json`)).json()) as {
        paths: Record<string, object>;
      };
      const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);

      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("response", (response) => {
        if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
      });
      const foreign: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(origin) && !request.url().startsWith("data:"))
          foreign.push(request.url());
      });

      const res = await page.goto(`${origin}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
      await page.waitForFunction(
        (n) =>
          (
            globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
          ).document.querySelectorAll(".opblock").length === n,
        operations,
        {
          timeout: 30_000,
        },
      );
      // Open one operation: the expanded view renders its schemas.
      await page.locator(".opblock-summary").first().click();
      await page.locator(".opblock-body").first().waitFor();
      expect({ problems, foreign }).toEqual({ problems: [], foreign: [] });
      await page.close();
    },
    60_000,
  );
});
