import { createHash } from "node:crypto";
import { CONSOLE_HEADERS, CONSOLE_HTML, SCRIPT, STYLE } from "./console";

const hashOf = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

describe("the web console page", () => {
  it("lets exactly its own inline script and style run (CSP hashes of what the page holds)", () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(CONSOLE_HTML)?.[1];
    const style = /<style>([\s\S]*)<\/style>/.exec(CONSOLE_HTML)?.[1];
    expect(script).toBe(SCRIPT);
    expect(style).toBe(STYLE);
    const csp = CONSOLE_HEADERS["Content-Security-Policy"];
    expect(csp).toContain(`script-src ${hashOf(SCRIPT)};`);
    expect(csp).toContain(`style-src ${hashOf(STYLE)};`);
    // The HTML parser turns CR LF into LF, which would break the hashes.
    expect(CONSOLE_HTML).not.toContain("\r");
  });

  it("holds a script that parses, and never writes markup from data", () => {
    expect(() => new Function(SCRIPT)).not.toThrow();
    expect(SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
