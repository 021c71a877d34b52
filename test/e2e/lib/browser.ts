// A real browser for end-to-end tests: Debian's chromium driven by playwright-core (which
// downloads nothing). Every page's console errors and uncaught exceptions are collected, so a
// test can require that no page of a run logged one.
import * as fs from "node:fs";
import * as path from "node:path";
import { launchChromium } from "@apimon/testkit";
import type { Browser, BrowserContext, Page } from "playwright-core";

export const SCREENSHOT_DIR = path.join(__dirname, "..", "..", "..", ".runtime", "screenshots");

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors so far, with the URL they happened on. */
  errors: string[];
  /** Saves a full-page screenshot as .runtime/screenshots/<name>.png and answers its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches chromium; a missing browser is an error (run `.ci/run`, or apt-get install chromium). */
export async function openBrowser(): Promise<BrowserSession> {
  const browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1360, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    // Chromium reports every 4xx answer as a console error, pages included; a page answered
    // 400/401/403 on purpose (a form with errors, a refused sign-in) is what a test asserts, so
    // failed loads are judged by the listeners below instead.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(`${page.url()}: console error: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400 && response.request().resourceType() !== "document") {
      errors.push(`${page.url()}: ${response.status()} for ${response.url()}`);
    }
  });
  page.on("requestfailed", (request) => {
    // Leaving a page aborts what it still had in flight (an auto-refresh, say): not a failure.
    if (request.resourceType() !== "document" && request.failure()?.errorText !== "net::ERR_ABORTED") {
      errors.push(`${page.url()}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    context,
    page,
    errors,
    async screenshot(name) {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: () => browser.close(),
  };
}
