import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

// Real receivers for the integration tests: an HTTP server standing in for Slack and webhook
// endpoints, and an SMTP server standing in for the mail relay.

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  /** Answers for a path, in order; the last one repeats. Unscripted paths answer 200 "ok". */
  script(path: string, answers: ScriptedAnswer[]): void;
  /** Holds every request to `path` until the returned function is called. */
  hold(path: string): () => void;
  requests(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  const gates = new Map<string, { held: Promise<void>; release: () => void }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = req.url ?? "/";
      received.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      });
      await gates.get(path)?.held;
      const queue = scripts.get(path);
      const answer = (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ?? { status: 200, body: "ok" };
      res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    script: (path, answers) => {
      scripts.set(path, [...answers]);
    },
    hold(path) {
      let release: () => void = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      gates.set(path, { held, release });
      return () => {
        gates.delete(path);
        release();
      };
    },
    requests: (path) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const gate of gates.values()) gate.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Set when the client authenticated. */
  user?: string;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on a free port; with `credentials`, clients must log in with them. */
export async function startSmtpReceiver(credentials?: { user: string; pass: string }): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    authOptional: !credentials,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error("Invalid username or password"));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          from: mailFrom ? mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          ...(typeof session.user === "string" && { user: session.user }),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** The decoded text/plain and text/html parts of a raw message (enough MIME for our own mail). */
export function mailParts(raw: string): { headers: string; text: string; html: string } {
  const [headers = ""] = raw.split(/\r?\n\r?\n/, 1);
  const parts: Record<string, string> = {};
  for (const section of raw.split(/\r?\n--[^\r\n]+/)) {
    const split = section.search(/\r?\n\r?\n/);
    if (split < 0) continue;
    const head = section.slice(0, split);
    const body = section.slice(split).replace(/^\r?\n\r?\n/, "");
    const type = /content-type:\s*(text\/(?:plain|html))/i.exec(head)?.[1]?.toLowerCase();
    if (!type) continue;
    const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
    parts[type] =
      encoding === "base64"
        ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8")
        : encoding === "quoted-printable"
          ? decodeQuotedPrintable(body)
          : body;
  }
  return { headers, text: parts["text/plain"] ?? "", html: parts["text/html"] ?? "" };
}
