import {
  type CommandOptions,
  durationMs,
  PAGE_FLAGS,
  PAGE_OPTIONS,
  parse,
  soleIdArg,
  UsageError,
} from "./args";

const OPTIONS = {
  ...PAGE_OPTIONS,
  user: { type: "string" },
  grace: { type: "string" },
  note: { type: "string" },
  endpoint: { type: "string", multiple: true },
} as const;

const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["user", ...PAGE_FLAGS],
  get: [],
  rotate: ["grace"],
  tag: ["endpoint", "note"],
  "override set": ["endpoint", "note"],
  "override remove": ["endpoint"],
};

const run = (argv: string[]) => parse(argv, OPTIONS, COMMANDS);

describe("parse with the options of each subcommand", () => {
  it.each([
    [["get", "5", "--user", "3"], "--user does not go with 'get' (it takes no options)"],
    [["rotate", "5", "--grace", "60", "--user", "3"], "--user does not go with 'rotate' (it takes --grace)"],
    [
      ["rotate", "5", "--limit", "2"],
      // A page option goes only with the commands that page.
      "--limit does not go with 'rotate' (it takes --grace)",
    ],
    [
      ["list", "--grace", "60"],
      "--grace does not go with 'list' (it takes --user, --limit, --cursor, --all)",
    ],
    [["get", "5", "--all"], "--all does not go with 'get' (it takes no options)"],
    [
      ["tag", "5", "--endpoint", "/a", "--user=3"],
      "--user does not go with 'tag' (it takes --endpoint, --note)",
    ],
    // The first one given is named, not the first the table knows.
    [["get", "5", "--note", "x", "--user", "3"], "--note does not go with 'get' (it takes no options)"],
    [
      ["override", "remove", "--endpoint", "/a", "--note", "x"],
      "--note does not go with 'override remove' (it takes --endpoint)",
    ],
  ])("refuses %j: %s", (argv, message) => {
    expect(() => run(argv)).toThrow(new UsageError(message));
  });

  it("accepts every option a subcommand takes", () => {
    expect(run(["list", "--user", "3", "--limit", "2", "--cursor", "c1"]).values).toEqual({
      user: "3",
      limit: "2",
      cursor: "c1",
    });
    expect(run(["list", "--all"]).values).toEqual({ all: true });
    expect(run(["rotate", "5", "--grace", "60"])).toEqual({
      values: { grace: "60" },
      positionals: ["rotate", "5"],
    });
    expect(run(["tag", "5", "--endpoint", "/a", "--endpoint", "/b", "--note", "-x"]).values).toEqual({
      endpoint: ["/a", "/b"],
      note: "-x",
    });
  });

  it("lets --json and --help go with every subcommand, one that takes no options too", () => {
    expect(run(["get", "5", "--json"]).values).toEqual({ json: true });
    expect(run(["get", "5", "--help"]).values).toEqual({ help: true });
    expect(run(["get", "5", "-h"]).values).toEqual({ help: true });
    expect(run(["rotate", "5", "--grace", "60", "--json", "--help"]).values).toEqual({
      grace: "60",
      json: true,
      help: true,
    });
  });

  it("takes a subcommand of a subcommand by its two words, before its first", () => {
    expect(run(["override", "set", "--endpoint", "/a", "--note", "x"]).values).toEqual({
      endpoint: ["/a"],
      note: "x",
    });
    expect(() => run(["override", "remove", "--note", "x"])).toThrow(
      new UsageError("--note does not go with 'override remove' (it takes --endpoint)"),
    );
    // A second word the table does not pair with the first: the first alone names the command.
    expect(() => run(["get", "set", "--user", "3"])).toThrow(
      new UsageError("--user does not go with 'get' (it takes no options)"),
    );
  });

  it.each([
    [["frobnicate", "--grace", "60"]],
    [["help", "--user", "3"]],
    [["--user", "3"]],
    [["override", "--note", "x"]],
    [["override", "add", "--note", "x"]],
    // Only the table's own entries: not what every object has.
    [["constructor", "--user", "3"]],
  ])("leaves %j, which names no subcommand in the table, to the caller", (argv) => {
    expect(() => run(argv)).not.toThrow();
  });

  it("without a table, takes any option it knows for any subcommand, as before", () => {
    expect(parse(["get", "5", "--user", "3", "--grace", "60"], OPTIONS).values).toEqual({
      user: "3",
      grace: "60",
    });
  });

  it("still refuses unknown options and missing values first, in node's words", () => {
    expect(() => run(["get", "5", "--colour", "red"])).toThrow(new UsageError("Unknown option '--colour'"));
    expect(() => run(["rotate", "5", "--grace"])).toThrow(new UsageError("--grace needs a value"));
  });

  it("types the table by the group's options, so a misspelt option name does not compile", () => {
    const commands: CommandOptions<typeof OPTIONS> = {
      // @ts-expect-error: no option is called "usre".
      get: ["usre"],
    };
    expect(commands.get).toEqual(["usre"]);
    // @ts-expect-error: nor in a table given to parse itself, which must not widen the options to fit.
    expect(parse(["get"], OPTIONS, { get: ["usre"] }).positionals).toEqual(["get"]);
  });
});

describe("ids and durations", () => {
  it("takes the id of a command that acts on one, and refuses another after it", () => {
    expect(soleIdArg(["deactivate", "38"], 1, "the key id")).toBe(38);
    expect(() => soleIdArg(["deactivate", "38", "39"], 1, "the key id")).toThrow(
      new UsageError("unexpected argument '39': one key id at a time"),
    );
    expect(() => soleIdArg(["deactivate"], 1, "the key id")).toThrow("the key id is required");
  });

  it("takes durations up to a hundred years, and names the flag past that", () => {
    expect(durationMs("36500d", "--for")).toBe(36_500 * 86_400_000);
    expect(() => durationMs("36501d", "--for")).toThrow(
      new UsageError("--for must be at most 36500d (got '36501d')"),
    );
    expect(() => durationMs("999999999999d", "--since")).toThrow("--since must be at most 36500d");
  });
});
