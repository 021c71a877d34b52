import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { describeRoute, errorResponses, OpenAPIHono } from "./openapi";

/** The reference page may run only the scripts and styles served here, and talk only to here. */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const ASSETS = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
} as const;

/**
 * `/docs`: an interactive reference of the service's `/openapi.json` (Swagger UI), with its
 * script and styles served from the installed swagger-ui-dist package: no CDN, and a CSP that
 * allows nothing else.
 */
export function createDocsRoutes({ title }: { title: string }): OpenAPIHono {
  const routes = new OpenAPIHono();
  const assetDir = dirname(require.resolve("swagger-ui-dist/package.json"));
  // Read on first use: the bundle is large, and most apps (tests) never serve it.
  const assets = new Map<string, Promise<string>>();
  const secure = {
    "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
  };

  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replaceAll("<", "&lt;")}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;
  // A file, not an inline script, so that the CSP needs no 'unsafe-inline'.
  const init = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

  const html = { description: "HTML", content: { "text/html": { schema: z.string() } } };
  describeRoute(
    routes,
    {
      method: "get",
      path: "/docs",
      summary: "Interactive API reference",
      tags: ["Operations"],
      security: [],
      responses: { 200: html },
    },
    (c) => c.html(page, 200, secure),
  );
  describeRoute(
    routes,
    {
      method: "get",
      path: "/docs/{asset}",
      summary: "Scripts and styles of the API reference",
      tags: ["Operations"],
      security: [],
      request: { params: z.object({ asset: z.enum(["init.js", ...Object.keys(ASSETS)]) }) },
      responses: {
        200: {
          description: "The asset",
          content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
        },
        ...errorResponses({ 404: "No such asset" }),
      },
    },
    async (c) => {
      const name = c.req.param("asset") ?? "";
      const cache = { "Cache-Control": "public, max-age=3600", ...secure };
      if (name === "init.js")
        return c.body(init, 200, { "Content-Type": ASSETS["swagger-ui-bundle.js"], ...cache });
      if (!(name in ASSETS)) return c.json({ detail: "Not found" }, 404);
      let body = assets.get(name);
      if (!body) {
        body = readFile(join(assetDir, name), "utf8");
        assets.set(name, body);
      }
      return c.body(await body, 200, { "Content-Type": ASSETS[name as keyof typeof ASSETS], ...cache });
    },
  );
  return routes;
}
