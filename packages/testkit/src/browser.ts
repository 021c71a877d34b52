import * as fs from "node:fs";
import type { Browser } from "playwright-core";

/** Debian's chromium, driven by playwright-core (which downloads no browser of its own). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Launches headless chromium; a missing browser is an error, not a skip (.ci/run installs it).
 * Background networking is off: this machine's closed network refuses those connections.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  // Loaded here, not at the top: every test file imports this package, few of them a browser,
  // and loading playwright-core costs each of them about 0.4 s of CPU.
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
