import { parseOr400, readJson } from "@apimon/http";
import type { Context } from "hono";
import type { z } from "zod";

/** A body whose fields are all optional may be left out entirely (no body, or Content-Length: 0). */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const empty = c.req.raw.body === null || c.req.header("content-length") === "0";
  return empty ? parseOr400(schema, {}, "body") : readJson(c, schema);
}
