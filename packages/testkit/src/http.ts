import http from "node:http";

/** One field a request got wrong, as the services list it in a 400 answer. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The services' answer to a request whose body, query or path fails validation: 400 with
 * `Invalid <part>` and every bad field, as `toEqual`/`toMatchObject` expect it.
 */
export function invalidRequest(part: "body" | "query" | "path", errors: FieldError[]) {
  return { status: 400, body: { detail: `Invalid ${part}`, errors } };
}

/** A GET from a chosen loopback address (Linux routes all of 127/8 to lo): its status, fields and body. */
export function getFrom(
  localAddress: string,
  url: string,
  headers: http.OutgoingHttpHeaders = {},
  agent?: http.Agent,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers, localAddress, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
