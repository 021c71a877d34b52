import { DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import type { Alert, Silence } from "@apimon/db";
import {
  type AuditedChannel,
  alertAcknowledged,
  channelCreated,
  channelDeleted,
  channelUpdated,
  escalationChannelRemoved,
  HIDDEN,
  settingsUpdated,
  silenceCreated,
  silenceEnded,
  silenceUpdated,
} from "./audit-entries";

const SLACK = "https://hooks.slack.com/services/T0/B0/tok3n";
const channel: AuditedChannel = {
  id: 4,
  name: "billing-team",
  type: "webhook",
  target: "https://hooks.example.com/in?token=s3cret",
  secret: "signing-secret-0123456789",
  minSeverity: "warning",
  alertTypes: [],
  endpoints: [],
  userIds: [],
  enabled: true,
};

describe("audit entries of channels", () => {
  it("record a creation with every field, the target and secret hidden", () => {
    expect(channelCreated(channel)).toEqual({
      action: "channel.created",
      targetType: "channel",
      targetId: 4,
      summary: 'created webhook channel "billing-team" for warning and above',
      changes: {
        name: { from: null, to: "billing-team" },
        type: { from: null, to: "webhook" },
        target: { from: null, to: HIDDEN },
        secret: { from: null, to: HIDDEN },
        minSeverity: { from: null, to: "warning" },
        alertTypes: { from: null, to: [] },
        endpoints: { from: null, to: [] },
        userIds: { from: null, to: [] },
        enabled: { from: null, to: true },
      },
    });
  });

  it("say what a channel is for when it narrows its alerts, and that it was created disabled", () => {
    const narrowed = { ...channel, minSeverity: "critical" as const, alertTypes: ["error_rate" as const] };
    expect(channelCreated({ ...narrowed, endpoints: ["* /api/billing/*"], enabled: false }).summary).toBe(
      'created webhook channel "billing-team" for critical and above (error_rate alerts on * /api/billing/*), disabled',
    );
    expect(channelCreated({ ...channel, endpoints: ["GET /a", "GET /b"] }).summary).toBe(
      'created webhook channel "billing-team" for warning and above (on 2 endpoints)',
    );
  });

  it("say whose alerts a customer's channel is for: its users, counted when many", () => {
    expect(channelCreated({ ...channel, userIds: [3] }).summary).toBe(
      'created webhook channel "billing-team" for warning and above (of user 3)',
    );
    const narrowed = { ...channel, alertTypes: ["error_rate" as const], endpoints: ["* /api/billing/*"] };
    expect(channelCreated({ ...narrowed, userIds: [3, 7] })).toMatchObject({
      summary:
        'created webhook channel "billing-team" for warning and above (error_rate alerts on * /api/billing/* of users 3 and 7)',
      changes: expect.objectContaining({ userIds: { from: null, to: [3, 7] } }),
    });
    expect(channelCreated({ ...channel, userIds: [1, 2, 3, 4, 5, 6] }).summary).toBe(
      'created webhook channel "billing-team" for warning and above (of 6 users)',
    );
  });

  it("record a change of users as such", () => {
    expect(channelUpdated({ ...channel, userIds: [3] }, { ...channel, userIds: [3, 7] })).toEqual({
      action: "channel.updated",
      targetType: "channel",
      targetId: 4,
      summary: 'changed the users of webhook channel 4 ("billing-team")',
      changes: { userIds: { from: [3], to: [3, 7] } },
    });
    expect(channelUpdated({ ...channel, userIds: [3, 7] }, { ...channel, userIds: [3, 7] })).toBeNull();
  });

  it("name enabling and disabling as such, and other changes by the fields changed", () => {
    expect(channelUpdated(channel, { ...channel, enabled: false })).toEqual({
      action: "channel.disabled",
      targetType: "channel",
      targetId: 4,
      summary: 'disabled webhook channel 4 ("billing-team")',
      changes: { enabled: { from: true, to: false } },
    });
    expect(channelUpdated({ ...channel, enabled: false }, channel)?.action).toBe("channel.enabled");
    expect(channelUpdated(channel, { ...channel, minSeverity: "critical", enabled: false })).toEqual({
      action: "channel.updated",
      targetType: "channel",
      targetId: 4,
      summary: 'changed the minimum severity of webhook channel 4 ("billing-team") and disabled it',
      changes: { minSeverity: { from: "warning", to: "critical" }, enabled: { from: true, to: false } },
    });
  });

  it("record a new target or secret as a change without either value", () => {
    const changed = {
      ...channel,
      target: "https://hooks.example.com/in?token=n3w",
      secret: "another-secret-0123456789",
    };
    expect(channelUpdated(channel, changed)).toEqual({
      action: "channel.updated",
      targetType: "channel",
      targetId: 4,
      summary: 'changed the target and signing secret of webhook channel 4 ("billing-team")',
      changes: { target: { from: HIDDEN, to: HIDDEN }, secret: { from: HIDDEN, to: HIDDEN } },
    });
    expect(channelUpdated(channel, { ...channel, secret: null })?.changes).toEqual({
      secret: { from: HIDDEN, to: null },
    });
  });

  it("hide a target in a name made of it, also once the target changed", () => {
    const unnamed = {
      ...channel,
      type: "slack" as const,
      name: `slack ${SLACK}`,
      target: SLACK,
      secret: null,
    };
    const created = channelCreated(unnamed);
    expect(created.summary).toBe(`created slack channel "slack ${HIDDEN}" for warning and above`);
    expect(created.changes?.name).toEqual({ from: null, to: `slack ${HIDDEN}` });
    const moved = channelUpdated(unnamed, {
      ...unnamed,
      target: "https://hooks.slack.com/services/T0/B0/other",
    });
    expect(JSON.stringify(moved)).not.toMatch(/tok3n|other/);
    // Renamed after its target changed: the old target is still in the old name.
    const later = { ...unnamed, target: "https://hooks.slack.com/services/T0/B0/other" };
    expect(channelUpdated(later, { ...later, name: "ops" })?.changes).toEqual({
      name: { from: `slack ${HIDDEN}`, to: "ops" },
    });
    const mail = { ...channel, type: "email" as const, target: "a@x.io,b@x.io", secret: null };
    const cut = channelCreated({ ...mail, name: "email a@x.io,b@x" });
    expect(cut.summary).toBe(`created email channel "email ${HIDDEN}" for warning and above`);
    expect(channelCreated({ ...mail, name: "team @ night" }).changes?.name?.to).toBe("team @ night");
  });

  it("record nothing for a change to what was there", () => {
    expect(channelUpdated(channel, { ...channel })).toBeNull();
  });

  it("record a deletion with every field it had", () => {
    const deleted = channelDeleted(channel);
    expect(deleted.summary).toBe('deleted webhook channel 4 ("billing-team")');
    expect(deleted.changes?.target).toEqual({ from: HIDDEN, to: null });
    expect(deleted.changes?.enabled).toEqual({ from: true, to: null });
  });
});

describe("audit entries of the settings", () => {
  const base = DEFAULT_ALERT_SETTINGS;
  const withThresholds = (patch: Partial<typeof base.alertThresholds>) => ({
    ...base,
    alertThresholds: { ...base.alertThresholds, ...patch },
  });
  const slowExport = { endpoint: "GET /api/export", response_time: { warning: 5, critical: 10 } };
  const keyErrors = { apiKeyId: 3, error_rate: { warning: 0.2, critical: 0.5 } };

  it("record each changed rule and override with its whole value", () => {
    const after = withThresholds({
      response_time: { warning: 1, critical: 3 },
      overrides: [slowExport, keyErrors],
    });
    expect(settingsUpdated(base, after)).toEqual({
      action: "settings.updated",
      targetType: "settings",
      summary: "changed the response-time thresholds and 2 threshold overrides",
      changes: {
        "alertThresholds.response_time": {
          from: base.alertThresholds.response_time,
          to: { warning: 1, critical: 3 },
        },
        "alertThresholds.overrides[GET /api/export]": { from: null, to: slowExport },
        "alertThresholds.overrides[key 3]": { from: null, to: keyErrors },
      },
    });
  });

  it("name one override by its scope, and other settings by what people call them", () => {
    const before = withThresholds({ overrides: [slowExport, keyErrors] });
    const after = {
      ...withThresholds({ overrides: [{ ...slowExport, note: "exports are slow" }, keyErrors] }),
      repeatIntervalSeconds: 600,
      escalation: { enabled: true, afterSeconds: 300, channelIds: [1] },
    };
    const entry = settingsUpdated(before, after);
    expect(entry?.summary).toBe(
      "changed the threshold override of GET /api/export, the reminder interval and the escalation policy",
    );
    expect(Object.keys(entry?.changes ?? {})).toEqual([
      "alertThresholds.overrides[GET /api/export]",
      "repeatIntervalSeconds",
      "escalation",
    ]);
  });

  it("record a new order of the overrides, which decides between equally specific patterns", () => {
    const entry = settingsUpdated(
      withThresholds({ overrides: [slowExport, keyErrors] }),
      withThresholds({ overrides: [keyErrors, slowExport] }),
    );
    expect(entry?.summary).toBe("changed the order of the threshold overrides");
    expect(entry?.changes).toEqual({
      "alertThresholds.overrides": { from: ["GET /api/export", "key 3"], to: ["key 3", "GET /api/export"] },
    });
  });

  it("record nothing for a save of the settings as they were", () => {
    expect(settingsUpdated(base, structuredClone(base))).toBeNull();
  });

  it("say that a deleted channel left the escalation policy", () => {
    const before = { ...base, escalation: { enabled: true, afterSeconds: 900, channelIds: [4, 5] } };
    const after = { ...before, escalation: { ...before.escalation, channelIds: [5] } };
    expect(escalationChannelRemoved(before, after, channel)).toEqual({
      action: "settings.updated",
      targetType: "settings",
      summary: 'removed webhook channel 4 ("billing-team") from the escalation policy, as it was deleted',
      changes: { escalation: { from: before.escalation, to: after.escalation } },
    });
  });
});

describe("audit entries of silences", () => {
  const now = new Date("2026-12-06T12:00:00.000Z");
  const at = (hours: number) => new Date(now.getTime() + hours * 3_600_000);
  const silence: Silence = {
    id: 7,
    type: "error_rate",
    apiKeyId: 3,
    endpoint: "* /api/billing/*",
    clientIp: null,
    comment: "deploy of billing",
    createdBy: "ada",
    startsAt: now,
    endsAt: at(2),
    createdAt: now,
    updatedAt: now,
  };

  it("record a creation with its matchers, comment and range", () => {
    expect(silenceCreated(silence, now)).toEqual({
      action: "silence.created",
      targetType: "silence",
      targetId: 7,
      summary:
        'created silence 7 ("deploy of billing") for error_rate alerts of key 3 on * /api/billing/* until 2026-12-06T14:00:00.000Z',
      changes: {
        type: { from: null, to: "error_rate" },
        apiKeyId: { from: null, to: 3 },
        endpoint: { from: null, to: "* /api/billing/*" },
        comment: { from: null, to: "deploy of billing" },
        createdBy: { from: null, to: "ada" },
        startsAt: { from: null, to: "2026-12-06T12:00:00.000Z" },
        endsAt: { from: null, to: "2026-12-06T14:00:00.000Z" },
      },
    });
    const window = { ...silence, type: null, apiKeyId: null, endpoint: null, startsAt: at(1) };
    expect(silenceCreated(window, now).summary).toBe(
      'created silence 7 ("deploy of billing") for every alert from 2026-12-06T13:00:00.000Z until 2026-12-06T14:00:00.000Z',
    );
  });

  it("record a new end or comment, and nothing for the same ones", () => {
    expect(silenceUpdated(silence, { ...silence, endsAt: at(4) })).toEqual({
      action: "silence.updated",
      targetType: "silence",
      targetId: 7,
      summary: 'extended silence 7 ("deploy of billing") until 2026-12-06T16:00:00.000Z',
      changes: { endsAt: { from: "2026-12-06T14:00:00.000Z", to: "2026-12-06T16:00:00.000Z" } },
    });
    expect(silenceUpdated(silence, { ...silence, endsAt: at(1), comment: "short deploy" })?.summary).toBe(
      'shortened silence 7 ("short deploy") to end at 2026-12-06T13:00:00.000Z and changed its comment',
    );
    expect(silenceUpdated(silence, { ...silence, comment: "x".repeat(100) })?.summary).toBe(
      `changed the comment of silence 7 from "deploy of billing" to "${"x".repeat(59)}…"`,
    );
    expect(silenceUpdated(silence, { ...silence })).toBeNull();
  });

  it("record an early end, and the end of one that had not started", () => {
    expect(silenceEnded(silence, { ...silence, endsAt: at(1) })).toEqual({
      action: "silence.ended",
      targetType: "silence",
      targetId: 7,
      summary: 'ended silence 7 ("deploy of billing") early',
      changes: { endsAt: { from: "2026-12-06T14:00:00.000Z", to: "2026-12-06T13:00:00.000Z" } },
    });
    const pending = { ...silence, startsAt: at(1) };
    expect(silenceEnded(pending, { ...pending, startsAt: now, endsAt: now }).summary).toBe(
      'ended silence 7 ("deploy of billing") before it started',
    );
  });
});

describe("audit entries of alerts", () => {
  const alert = {
    id: 5,
    type: "unauthorized_access",
    severity: "warning",
    status: "acknowledged",
    apiKeyId: null,
    endpoint: null,
    clientIp: "203.0.113.9",
    acknowledgedBy: null,
    ackNote: `${"a very long note ".repeat(6)}end`,
  } as unknown as Alert;

  it("name an acknowledged alert by its severity, type, id and scope, with a long note cut", () => {
    expect(alertAcknowledged(alert)).toEqual({
      action: "alert.acknowledged",
      targetType: "alert",
      targetId: 5,
      summary: `acknowledged warning unauthorized_access alert 5 (from 203.0.113.9): "${"a very long note ".repeat(6).slice(0, 59)}…"`,
      changes: {
        status: { from: "firing", to: "acknowledged" },
        ackNote: { from: null, to: alert.ackNote },
      },
    });
  });
});
