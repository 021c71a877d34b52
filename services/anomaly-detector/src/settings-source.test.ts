import { DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import { createSettingsSource, type SettingsStore } from "./settings-source";

const logger = createLogger({ service: "test", level: "silent" });

function fakeStore() {
  let row: { thresholds: unknown; updatedAt: Date } | null = null;
  let fail = false;
  const calls = { version: 0, thresholds: 0 };
  const store: SettingsStore = {
    async readVersion() {
      calls.version++;
      if (fail) throw new Error("database down");
      return row?.updatedAt ?? null;
    },
    async readThresholds() {
      calls.thresholds++;
      return row;
    },
  };
  return {
    store,
    calls,
    set: (thresholds: unknown, at: number) => {
      row = { thresholds, updatedAt: new Date(at) };
    },
    clear: () => {
      row = null;
    },
    fail: (value: boolean) => {
      fail = value;
    },
  };
}

describe("alert settings source", () => {
  it("applies the defaults without a row, and a row's thresholds once its updated_at changes", async () => {
    const db = fakeStore();
    const source = createSettingsSource({ store: db.store, logger, pollMs: 60_000 });
    expect(await source.refresh()).toBe(true);
    expect(source.current()).toEqual(DEFAULT_ALERT_SETTINGS.alertThresholds);
    expect(source.isHealthy()).toBe(true);

    db.set({ response_time: { warning: 3, critical: 4 } }, 1000);
    expect(await source.refresh()).toBe(true);
    expect(source.current().response_time).toEqual({ warning: 3, critical: 4 });
    expect(source.current().error_rate).toEqual(DEFAULT_ALERT_SETTINGS.alertThresholds.error_rate);

    // Unchanged updated_at: only the cheap version read.
    const before = db.calls.thresholds;
    expect(await source.refresh()).toBe(false);
    expect(db.calls.thresholds).toBe(before);

    db.clear();
    expect(await source.refresh()).toBe(true);
    expect(source.current()).toEqual(DEFAULT_ALERT_SETTINGS.alertThresholds);
  });

  it("keeps the thresholds in force when the row is invalid or the database is down", async () => {
    const db = fakeStore();
    const source = createSettingsSource({ store: db.store, logger, pollMs: 60_000 });
    db.set({ response_time: { warning: 3, critical: 4 } }, 1000);
    await source.refresh();
    db.set({ response_time: { warning: 5, critical: 1 } }, 2000);
    expect(await source.refresh()).toBe(false);
    expect(source.current().response_time.warning).toBe(3);
    db.fail(true);
    expect(await source.refresh()).toBe(false);
    expect(source.isHealthy()).toBe(false);
    expect(source.current().response_time.warning).toBe(3);
  });
});
