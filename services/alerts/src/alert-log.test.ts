import type { Alert } from "@apimon/db";
import { captureLogger } from "@apimon/testkit";
import { createAlertLog } from "./alert-log";

function capture(level = "info") {
  const { logger, lines } = captureLogger({ service: "alerts", level });
  return { lines, log: createAlertLog(logger) };
}

const alert = (severity: "warning" | "critical"): Alert => ({
  id: 3,
  fingerprint: "response_time:key=7",
  type: "response_time",
  severity,
  status: "firing",
  apiKeyId: 7,
  endpoint: "/users/:id",
  clientIp: null,
  message: "Response time 2.5 s above 2 s",
  observedValue: 2.5,
  threshold: 2,
  occurrences: 1,
  firstSeenAt: new Date(),
  lastSeenAt: new Date(),
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackNote: null,
  resolvedAt: null,
  lastNotifiedAt: null,
  heldUntil: null,
  riseNotifiedAt: null,
  resolutionNotifiedAt: null,
  escalatedAt: null,
  criticalAt: null,
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe("the alert log (spec: warnings at level WARNING, critical alerts at level CRITICAL)", () => {
  it("logs a warning alert at level warn with severity WARNING", () => {
    const { lines, log } = capture();
    log.firing(alert("warning"));
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        severity: "WARNING",
        service: "alerts",
        alertId: 3,
        type: "response_time",
        apiKeyId: 7,
        msg: "alert firing: Response time 2.5 s above 2 s",
      }),
    ]);
  });

  it("logs a critical alert at level critical with severity CRITICAL, escalations included", () => {
    const { lines, log } = capture();
    log.firing(alert("critical"));
    log.escalated(alert("critical"), "warning");
    expect(lines.map((l) => [l.level, l.severity, l.msg])).toEqual([
      ["critical", "CRITICAL", "alert firing: Response time 2.5 s above 2 s"],
      ["critical", "CRITICAL", "alert escalated from warning to critical: Response time 2.5 s above 2 s"],
    ]);
  });

  it("keeps critical lines when LOG_LEVEL is error (critical ranks between error and fatal)", () => {
    const { lines, log } = capture("error");
    log.firing(alert("warning"));
    log.firing(alert("critical"));
    log.resolved(alert("critical"));
    expect(lines.map((l) => l.severity)).toEqual(["CRITICAL"]);
  });

  it("logs an alert a silence holds back at its level all the same, naming the silence", () => {
    const { lines, log } = capture();
    log.firing(alert("critical"), 4);
    log.escalated(alert("critical"), "warning", 4);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "critical",
        severity: "CRITICAL",
        silenceId: 4,
        msg: "alert firing (silenced by #4): Response time 2.5 s above 2 s",
      }),
      expect.objectContaining({
        level: "critical",
        silenceId: 4,
        from: "warning",
        msg: "alert escalated from warning to critical (silenced by #4): Response time 2.5 s above 2 s",
      }),
    ]);
  });

  it("says when an alert's notification is held for its group, opening, rising or resolving", () => {
    const { lines, log } = capture();
    const heldUntil = new Date("2026-12-06T12:05:00.000Z");
    log.firing({ ...alert("warning"), heldUntil });
    log.escalated({ ...alert("critical"), heldUntil }, "warning");
    log.resolved({ ...alert("warning"), status: "resolved", heldUntil });
    expect(lines.map((l) => [l.heldUntil, l.msg])).toEqual([
      [
        "2026-12-06T12:05:00.000Z",
        "alert firing (held for its group until 2026-12-06T12:05:00.000Z): Response time 2.5 s above 2 s",
      ],
      [
        "2026-12-06T12:05:00.000Z",
        "alert escalated from warning to critical (held for its group until 2026-12-06T12:05:00.000Z): Response time 2.5 s above 2 s",
      ],
      [
        "2026-12-06T12:05:00.000Z",
        "alert resolved (told with its group at 2026-12-06T12:05:00.000Z): Response time 2.5 s above 2 s",
      ],
    ]);
  });
});
