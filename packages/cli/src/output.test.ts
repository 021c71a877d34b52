import { durationMs, pageArgs, parse, UsageError, wholeNumber } from "./args";
import { displayWidth, pageResult, record, table } from "./output";

describe("CLI output", () => {
  it("pads table columns to their widest cell and shows missing values as '-'", () => {
    const rows = [
      { id: 1, name: "billing", expires: null },
      { id: 12, name: "a", expires: "2026-01-01T00:00:00.000Z" },
    ];
    const columns = [
      { header: "ID", value: (r: (typeof rows)[number]) => r.id },
      { header: "NAME", value: (r: (typeof rows)[number]) => r.name },
      { header: "EXPIRES", value: (r: (typeof rows)[number]) => r.expires },
    ];
    expect(table(rows, columns)).toBe(
      ["ID  NAME     EXPIRES", "1   billing  -", "12  a        2026-01-01T00:00:00.000Z"].join("\n"),
    );
    expect(table([], columns)).toBe("(none)");
  });

  it("lines columns up by the width a terminal draws, and never cuts an emoji in half", () => {
    const rows = [
      { name: "ключ-测试-🚀", id: 1 },
      { name: "plain", id: 22 },
    ];
    const lines = table(rows, [
      { header: "NAME", value: (r) => r.name },
      { header: "ID", value: (r) => r.id },
    ]).split("\n");
    // "ключ-" 5 + "测试" 4 + "-" 1 + "🚀" 2: twelve columns, so ID starts at column 14 on every line.
    expect(lines.map((line) => displayWidth(line.slice(0, line.lastIndexOf(" ") + 1)))).toEqual([14, 14, 14]);
    expect(displayWidth("Zoë")).toBe(3);
    expect(displayWidth("e\u0301")).toBe(1);
    const long = `${"a".repeat(58)}🚀🚀`;
    const cut = table([{ n: long }], [{ header: "N", value: (r) => r.n }]).split("\n")[1] as string;
    expect(cut).toBe(`${"a".repeat(58)}…`);
    expect(cut).not.toContain("\uFFFD");
  });

  it("cuts long cells in tables but never in a record, whose nested fields get dotted names", () => {
    const long = "x".repeat(100);
    expect(table([{ m: long }], [{ header: "M", value: (r) => r.m }]).split("\n")[1]).toBe(
      `${"x".repeat(59)}…`,
    );
    expect(record({ key: long, rateLimits: { minute: 5, hour: null }, tags: [] })).toBe(
      [
        `key                ${long}`,
        "rateLimits.minute  5",
        "rateLimits.hour    -",
        "tags               []",
      ].join("\n"),
    );
  });

  it("names the next page's cursor under a table, and --json keeps the API's page", () => {
    const page = { items: [{ id: 1 }], nextCursor: "abc" };
    const result = pageResult(page, [{ header: "ID", value: (r) => r.id }]);
    expect(result.data).toBe(page);
    expect(result.text()).toBe("ID\n1\n(more: --cursor abc)");
  });
});

describe("CLI arguments", () => {
  it("takes whole numbers and refuses anything else", () => {
    expect(wholeNumber("42", "--limit", 1)).toBe(42);
    expect(wholeNumber(undefined, "--limit")).toBeUndefined();
    expect(() => wholeNumber("0", "--limit", 1)).toThrow(
      new UsageError("--limit must be a whole number of at least 1 (got '0')"),
    );
    expect(() => wholeNumber("1.5", "--grace")).toThrow(UsageError);
  });

  it("refuses unknown flags in one sentence, and --all with --cursor", () => {
    expect(() => parse(["list", "--colour"], {})).toThrow(new UsageError("Unknown option '--colour'"));
    expect(() => pageArgs({ all: true, cursor: "x" })).toThrow("--all and --cursor do not go together");
    expect(parse(["list", "--json"], {}).values.json).toBe(true);
  });

  it("gives an option a value that starts with a dash, and says so when an option has no value", () => {
    const options = {
      note: { type: "string" },
      minute: { type: "string" },
      all: { type: "boolean" },
    } as const;
    expect(parse(["ack", "1", "--note", "- checked the upstream"], options).values.note).toBe(
      "- checked the upstream",
    );
    expect(parse(["limits", "1", "--minute", "-3"], options).values.minute).toBe("-3");
    expect(parse(["set", "--note", "-"], options).values.note).toBe("-");
    expect(parse(["x", "--note=-y", "--all"], options).values).toEqual({ note: "-y", all: true });
    expect(() => parse(["ack", "1", "--note"], options)).toThrow(new UsageError("--note needs a value"));
    expect(() => parse(["ack", "1", "--note", "--all"], options)).toThrow(
      new UsageError("--note needs a value"),
    );
    expect(parse(["x", "--", "--note", "-y"], options).positionals).toEqual(["x", "--note", "-y"]);
  });

  it("reads a duration in minutes, hours or days, and refuses any other unit or none", () => {
    expect(durationMs("30m", "--for")).toBe(30 * 60_000);
    expect(durationMs("2h", "--for")).toBe(2 * 3_600_000);
    expect(durationMs("3d", "--for")).toBe(3 * 86_400_000);
    for (const wrong of ["2w", "2", "h", "0h", "1.5h", "-1h", " 2h", "2H", "2 h", ""]) {
      expect(() => durationMs(wrong, "--for")).toThrow(
        new UsageError(
          `--for must be a whole number of minutes, hours or days, e.g. 30m, 2h or 3d (got '${wrong}')`,
        ),
      );
    }
  });
});
