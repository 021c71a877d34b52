import type { SettingsView } from "@apimon/client";
import { DEFAULT_ALERT_SETTINGS, type ThresholdOverride } from "@apimon/config";
import type { AlertsApi } from "../alerts-api";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { runSettings, SETTINGS_USAGE } from "./settings";

const saved: ThresholdOverride[] = [
  { endpoint: "GET /api/export", response_time: { warning: 5, critical: 10 }, note: "exports take long" },
  { apiKeyId: 7, error_rate: { warning: 0.3, critical: 0.6 } },
];

/** A fake alerts API holding settings with these overrides; it records what the commands ask of it. */
function fakeApi(overrides: ThresholdOverride[] = saved) {
  const calls: [string, unknown][] = [];
  let settings: SettingsView = {
    ...DEFAULT_ALERT_SETTINGS,
    alertThresholds: { ...DEFAULT_ALERT_SETTINGS.alertThresholds, overrides },
    updatedAt: "2026-12-06T09:00:00.000Z",
  };
  const api = {
    getSettings: async () => {
      calls.push(["getSettings", undefined]);
      return settings;
    },
    putSettings: async (doc: SettingsView) => {
      calls.push(["putSettings", doc]);
      settings = { ...doc, updatedAt: "2026-12-06T10:00:00.000Z" };
      return settings;
    },
  } as unknown as AlertsApi;
  const run = (argv: string[]) => runSettings(api, argv, { keyNames: async () => new Map([[7, "billing"]]) });
  const put = () => calls.filter(([name]) => name === "putSettings").map(([, doc]) => doc as SettingsView);
  return { calls, run, put };
}

/** The rows of a table (header first), each split into its cells. */
const rows = (text: string) => text.split("\n").map((line) => line.split(/ {2,}/));

describe("settings overrides CLI", () => {
  it("lists the overrides with 'any' for what they leave open and keys by name", async () => {
    const { run } = fakeApi();
    const result = await run(["overrides"]);
    expect(rows(result.text())).toEqual([
      ["#", "ENDPOINT", "KEY", "RESPONSE TIME W/C (S)", "ERROR RATE W/C", "NOTE"],
      ["1", "GET /api/export", "any", "5/10", "-", "exports take long"],
      ["2", "any", "billing #7", "-", "0.3/0.6", "-"],
    ]);
    expect(result.data).toEqual(saved);
    expect((await fakeApi([]).run(["overrides"])).text()).toBe("(none)");
  });

  it("adds an override after the others and writes the whole document back", async () => {
    const { run, put } = fakeApi();
    const result = await run([
      "override",
      "set",
      "--endpoint",
      "/api/reports/:id",
      "--key",
      "7",
      "--response-time",
      "3,6",
      "--error-rate",
      " 0.2 , 0.5",
      "--note",
      "nightly batch",
    ]);
    const added = {
      endpoint: "/api/reports/:id",
      apiKeyId: 7,
      response_time: { warning: 3, critical: 6 },
      error_rate: { warning: 0.2, critical: 0.5 },
      note: "nightly batch",
    };
    expect(put()).toEqual([
      {
        ...DEFAULT_ALERT_SETTINGS,
        alertThresholds: { ...DEFAULT_ALERT_SETTINGS.alertThresholds, overrides: [...saved, added] },
        updatedAt: "2026-12-06T09:00:00.000Z",
      },
    ]);
    const text = result.text().split("\n");
    expect(text.slice(0, 2)).toEqual(["added override 3 (/api/reports/:id, key 7)", ""]);
    expect(rows(text.slice(2).join("\n"))[3]).toEqual([
      "3",
      "/api/reports/:id",
      "billing #7",
      "3/6",
      "0.2/0.5",
      "nightly batch",
    ]);
    expect(result.data).toEqual([...saved, added]);
  });

  it("replaces the override with the same endpoint and key, in its place, keeping the others", async () => {
    const { run, put } = fakeApi();
    const result = await run(["override", "set", "--endpoint", "GET /api/export", "--error-rate", "0.4,0.8"]);
    expect(put()[0]?.alertThresholds.overrides).toEqual([
      { endpoint: "GET /api/export", error_rate: { warning: 0.4, critical: 0.8 } },
      saved[1],
    ]);
    expect(result.text()).toMatch(/^replaced override 1 \(GET \/api\/export, any key\)\n/);
    // The same endpoint for one key is another override.
    await run(["override", "set", "--endpoint", "GET /api/export", "--key", "7", "--response-time", "8,9"]);
    expect(put()[1]?.alertThresholds.overrides).toHaveLength(3);
  });

  it("removes the override for exactly that endpoint and key", async () => {
    const { run, put } = fakeApi();
    const result = await run(["override", "remove", "--key", "7"]);
    expect(put()[0]?.alertThresholds.overrides).toEqual([saved[0]]);
    expect(result.text()).toMatch(/^removed override 2 \(any endpoint, key 7\)\n/);
  });

  it("says so, without writing, when no override has that endpoint and key", async () => {
    const { run, put } = fakeApi();
    await expect(run(["override", "remove", "--endpoint", "GET /api/export", "--key", "7"])).rejects.toThrow(
      "no override for GET /api/export, key 7 (see 'apimon settings overrides')",
    );
    expect(put()).toEqual([]);
  });

  it.each([
    [["override", "set", "--response-time", "1,2"], "give --endpoint, --key or both"],
    [["override", "set", "--endpoint", "/x"], "give --response-time, --error-rate or both"],
    [
      ["override", "set", "--endpoint", "/x", "--response-time", "2"],
      "--response-time must be a warning and a critical threshold, e.g. --response-time 2,5 (got '2')",
    ],
    [
      ["override", "set", "--key", "7", "--error-rate", "5%,10%"],
      "--error-rate must be a warning and a critical threshold, e.g. --error-rate 0.2,0.5 (got '5%,10%')",
    ],
    [
      ["override", "set", "--key", "billing", "--error-rate", "0.1,0.2"],
      "--key must be a whole number of at least 1",
    ],
    [["override", "remove"], "give --endpoint, --key or both"],
    [["override"], "an override command is required: set or remove"],
    [["override", "add", "--key", "7"], "unknown override command 'add'"],
    [["get", "--key", "7"], "--key does not go with 'get' (it takes no options)"],
    [["set", "--file", "settings.json", "--note", "x"], "--note does not go with 'set' (it takes --file)"],
    [["overrides", "--endpoint", "/x"], "--endpoint does not go with 'overrides' (it takes no options)"],
    [
      ["override", "remove", "--key", "7", "--error-rate", "0.2,0.5"],
      "--error-rate does not go with 'override remove' (it takes --endpoint, --key)",
    ],
    [
      ["override", "set", "--key", "7", "--error-rate", "0.2,0.5", "--file", "x.json"],
      "--file does not go with 'override set' (it takes --endpoint, --key, --response-time, --error-rate, --note)",
    ],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { calls, run } = fakeApi();
    await expect(run(argv)).rejects.toThrow(UsageError);
    await expect(run(argv)).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });

  it("exits with 1 and one line when no override matches, and lists the commands on --help", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const env = { ADMIN_TOKEN: "admin-token-0123456789", ALERTS_URL: "http://127.0.0.1:9" };
    expect(await apimonMain(["settings", "override", "set", "--endpoint", "/x"], env, io)).toBe(2);
    expect(err).toEqual([
      "apimon settings: give --response-time, --error-rate or both (see 'apimon settings --help')",
    ]);
    expect(await apimonMain(["settings", "--help"], env, io)).toBe(0);
    expect(out).toEqual([SETTINGS_USAGE]);
  });
});
