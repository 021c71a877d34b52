// Stand-in for axllent/mailpit: the part of it that apimon's compose stack and its end-to-end
// check use, in plain Node with no dependencies. It is not Mailpit.
//   SMTP on MP_SMTP_BIND_ADDR (0.0.0.0:1025): EHLO/HELO, AUTH PLAIN/LOGIN (any credentials, when
//     MP_SMTP_AUTH_ACCEPT_ANY is set), MAIL, RCPT, DATA, RSET, NOOP, QUIT. No STARTTLS.
//   HTTP on MP_UI_BIND_ADDR (0.0.0.0:8025): GET /livez, /readyz; GET /api/v1/messages
//     (?start&limit), GET /api/v1/search?query=, GET /api/v1/message/{ID} (Text, HTML),
//     GET /api/v1/message/{ID}/raw, DELETE /api/v1/messages; GET / lists the inbox.
//   `mailpit readyz` exits 0 when the HTTP server answers (the compose healthcheck).
// Messages live in memory (Mailpit's default is a temporary database too), newest first, at most
// MP_MAX_MESSAGES (500).
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

const env = process.env;

function splitAddr(value, fallbackPort) {
  const at = value.lastIndexOf(":");
  return at < 0
    ? { host: value, port: fallbackPort }
    : { host: value.slice(0, at) || "0.0.0.0", port: Number(value.slice(at + 1)) };
}

const smtpAddr = splitAddr(env.MP_SMTP_BIND_ADDR ?? "0.0.0.0:1025", 1025);
const uiAddr = splitAddr(env.MP_UI_BIND_ADDR ?? "0.0.0.0:8025", 8025);
const acceptAnyAuth = ["1", "true"].includes(String(env.MP_SMTP_AUTH_ACCEPT_ANY ?? "").toLowerCase());
const maxMessages = Number(env.MP_MAX_MESSAGES) || 500;

if (process.argv[2] === "readyz") {
  const host = uiAddr.host === "0.0.0.0" ? "127.0.0.1" : uiAddr.host;
  fetch(`http://${host}:${uiAddr.port}/readyz`, { signal: AbortSignal.timeout(4000) })
    .then((res) => process.exit(res.ok ? 0 : 1))
    .catch(() => process.exit(1));
} else {
  start();
}

// ---- MIME ------------------------------------------------------------------------------------

function decodeWords(value) {
  // Whitespace between two encoded words is not text (RFC 2047 6.2): senders fold long
  // subjects there, as nodemailer does.
  return value
    .replace(/(\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?]+)\?([bqBQ])\?([^?]*)\?=/g, (_, _charset, enc, text) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text
              .replace(/_/g, " ")
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(Number.parseInt(h, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

function parseHeaders(block) {
  const headers = new Map();
  for (const line of block.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
    }
  }
  return headers;
}

function splitMessage(raw) {
  const end = raw.indexOf("\r\n\r\n");
  return end < 0
    ? { headers: parseHeaders(raw), body: "" }
    : { headers: parseHeaders(raw.slice(0, end)), body: raw.slice(end + 4) };
}

function decodeBody(body, encoding) {
  switch ((encoding ?? "").toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return Buffer.from(
        body
          .replace(/=\r\n/g, "")
          .replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(Number.parseInt(h, 16))),
        "latin1",
      ).toString("utf8");
    default:
      return body;
  }
}

// Collects the first text/plain and text/html parts, walking multipart bodies.
function collectParts(headers, body, out) {
  const type = headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const sections = body.split(`--${boundary}`);
    for (const section of sections.slice(1)) {
      if (section.startsWith("--")) break;
      const part = splitMessage(section.replace(/^\r\n/, ""));
      collectParts(part.headers, part.body.replace(/\r\n$/, ""), out);
    }
    return;
  }
  const text = decodeBody(body, headers.get("content-transfer-encoding"));
  if (/^text\/html/i.test(type)) out.html ??= text;
  else if (/^text\/plain/i.test(type)) out.text ??= text;
}

function parseAddressList(value) {
  if (!value) return [];
  return value
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(.*)<([^>]+)>$/.exec(entry);
      return match
        ? { Name: match[1].trim().replace(/^"|"$/g, ""), Address: match[2].trim() }
        : { Name: "", Address: entry };
    });
}

// ---- store -----------------------------------------------------------------------------------

const messages = [];

function store(raw, envelope) {
  const { headers, body } = splitMessage(raw);
  const parts = {};
  collectParts(headers, body, parts);
  const to = parseAddressList(headers.get("to"));
  const message = {
    ID: randomUUID(),
    MessageID: (headers.get("message-id") ?? "").replace(/^<|>$/g, ""),
    Read: false,
    From: parseAddressList(headers.get("from"))[0] ?? { Name: "", Address: envelope.from },
    To: to.length > 0 ? to : envelope.to.map((Address) => ({ Name: "", Address })),
    Cc: parseAddressList(headers.get("cc")),
    Bcc: [],
    ReplyTo: parseAddressList(headers.get("reply-to")),
    ReturnPath: envelope.from,
    Subject: headers.get("subject") ?? "",
    Date: new Date(headers.get("date") ?? Date.now()).toISOString(),
    Created: new Date().toISOString(),
    Tags: [],
    Size: Buffer.byteLength(raw),
    Attachments: 0,
    Text: parts.text ?? "",
    HTML: parts.html ?? "",
    raw,
  };
  messages.unshift(message);
  messages.length = Math.min(messages.length, maxMessages);
  console.log(
    JSON.stringify({ msg: "message received", id: message.ID, to: envelope.to, subject: message.Subject }),
  );
}

function summary(m) {
  const { Text, HTML, raw, ReturnPath, Date: _date, ...rest } = m;
  return {
    ...rest,
    Snippet: (Text || HTML.replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim().slice(0, 250),
  };
}

function detail(m) {
  const { raw, Created, Read, Attachments, ...rest } = m;
  return { ...rest, Inline: [], Attachments: [] };
}

function listing(items, url) {
  const start = Number(url.searchParams.get("start")) || 0;
  const limit = Number(url.searchParams.get("limit")) || 50;
  const page = items.slice(start, start + limit);
  return {
    total: messages.length,
    unread: messages.filter((m) => !m.Read).length,
    count: page.length,
    messages_count: items.length,
    start,
    tags: [],
    messages: page.map(summary),
  };
}

// ---- SMTP ------------------------------------------------------------------------------------

function startSmtp() {
  const server = createTcpServer((socket) => {
    let buffer = "";
    let envelope = { from: "", to: [] };
    let data = null; // the DATA lines while a message is being received
    let authStep = null;
    const reply = (line) => socket.write(`${line}\r\n`);
    reply("220 mailpit stand-in ESMTP ready");
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (let eol = buffer.indexOf("\r\n"); eol >= 0; eol = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        if (data !== null) {
          if (line === ".") {
            store(Buffer.from(data.join("\r\n"), "latin1").toString("utf8"), envelope);
            data = null;
            envelope = { from: "", to: [] };
            reply("250 2.0.0 Ok: queued");
          } else {
            data.push(line.startsWith("..") ? line.slice(1) : line);
          }
          continue;
        }
        if (authStep !== null) {
          authStep = authStep === "user" ? "pass" : null;
          reply(authStep === "pass" ? "334 UGFzc3dvcmQ6" : "235 2.7.0 Authentication successful");
          continue;
        }
        const [verb = "", ...args] = line.split(" ");
        const arg = args.join(" ");
        switch (verb.toUpperCase()) {
          case "EHLO":
            socket.write(
              `250-mailpit stand-in\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n${acceptAnyAuth ? "250-AUTH PLAIN LOGIN\r\n" : ""}250 SIZE 0\r\n`,
            );
            break;
          case "HELO":
            reply("250 mailpit stand-in");
            break;
          case "AUTH":
            if (!acceptAnyAuth) reply("502 5.5.1 Authentication not enabled");
            else if (/^PLAIN\s*$/i.test(arg)) {
              authStep = "plain";
              reply("334 ");
            } else if (/^LOGIN\s*$/i.test(arg)) {
              authStep = "user";
              reply("334 VXNlcm5hbWU6");
            } else if (/^(PLAIN|LOGIN) /i.test(arg)) {
              if (/^LOGIN /i.test(arg)) {
                authStep = "pass";
                reply("334 UGFzc3dvcmQ6");
              } else reply("235 2.7.0 Authentication successful");
            } else reply("504 5.5.4 Unrecognized authentication type");
            break;
          case "MAIL":
            envelope = { from: /<([^>]*)>/.exec(arg)?.[1] ?? "", to: [] };
            reply("250 2.1.0 Ok");
            break;
          case "RCPT":
            envelope.to.push(/<([^>]*)>/.exec(arg)?.[1] ?? "");
            reply("250 2.1.5 Ok");
            break;
          case "DATA":
            if (envelope.to.length === 0) reply("503 5.5.1 Error: need RCPT command");
            else {
              data = [];
              reply("354 End data with <CR><LF>.<CR><LF>");
            }
            break;
          case "RSET":
            envelope = { from: "", to: [] };
            reply("250 2.0.0 Ok");
            break;
          case "NOOP":
            reply("250 2.0.0 Ok");
            break;
          case "QUIT":
            reply("221 2.0.0 Bye");
            socket.end();
            break;
          default:
            reply("502 5.5.2 Error: command not recognized");
        }
      }
    });
  });
  server.listen(smtpAddr.port, smtpAddr.host);
  return server;
}

// ---- HTTP ------------------------------------------------------------------------------------

function escapeHtml(value) {
  return value.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function startHttp() {
  const server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = url.pathname;
    if (path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    if (req.method === "GET" && path === "/api/v1/messages") return json(200, listing(messages, url));
    if (req.method === "GET" && path === "/api/v1/search") {
      const query = (url.searchParams.get("query") ?? "").toLowerCase();
      const hits = messages.filter((m) =>
        [m.Subject, m.Text, m.HTML, m.From.Address, ...m.To.map((t) => t.Address)].some((f) =>
          f.toLowerCase().includes(query),
        ),
      );
      return json(200, listing(hits, url));
    }
    if (req.method === "DELETE" && path === "/api/v1/messages") {
      let body = "";
      for await (const chunk of req) body += chunk;
      const ids = body ? (JSON.parse(body).IDs ?? []) : [];
      if (ids.length === 0) messages.length = 0;
      else for (const id of ids) messages.splice(messages.findIndex((m) => m.ID === id) >>> 0, 1);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const match = /^\/api\/v1\/message\/([^/]+)(\/raw)?$/.exec(path);
    if (req.method === "GET" && match) {
      const message = match[1] === "latest" ? messages[0] : messages.find((m) => m.ID === match[1]);
      if (!message) {
        res.writeHead(404, { "content-type": "text/plain" }).end("message not found");
        return;
      }
      message.Read = true;
      if (match[2]) {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(message.raw);
        return;
      }
      return json(200, detail(message));
    }
    if (req.method === "GET" && path === "/") {
      const rows = messages
        .map(
          (m) =>
            `<tr><td>${escapeHtml(m.Created)}</td><td>${escapeHtml(m.To.map((t) => t.Address).join(", "))}</td><td><a href="/api/v1/message/${m.ID}">${escapeHtml(m.Subject)}</a></td></tr>`,
        )
        .join("");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><title>Inbox</title><h1>Inbox (${messages.length})</h1><p>Mailpit stand-in for offline use.</p><table><tr><th>received</th><th>to</th><th>subject</th></tr>${rows}</table>`,
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  server.listen(uiAddr.port, uiAddr.host);
  return server;
}

function start() {
  const smtp = startSmtp();
  const http = startHttp();
  console.log(JSON.stringify({ msg: "mailpit stand-in listening", smtp: smtpAddr, http: uiAddr }));
  const stop = () => {
    smtp.close();
    http.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
