// The demo key a seed keeps: one per database or keys service, readable by its owner only.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keepDemoKey, keptDemoKey } from "./demo-key-store";

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "apimon-demo-key-"));
  file = join(dir, ".runtime", "demo-keys.json");
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the kept demo key", () => {
  it("is kept per database, without the database's password, in a file only its owner reads", () => {
    expect(keptDemoKey(file, "postgresql://app:hunter2@db:5432/apimon")).toBeUndefined();
    keepDemoKey(file, "postgresql://app:hunter2@db:5432/apimon", { keyId: 3, key: "ak_one" });
    keepDemoKey(file, "postgresql://postgres@127.0.0.1:5432/other", { keyId: 1, key: "ak_two" });
    expect(keptDemoKey(file, "postgresql://app:hunter2@db:5432/apimon")).toEqual({ keyId: 3, key: "ak_one" });
    expect(keptDemoKey(file, "postgresql://postgres@127.0.0.1:5432/other")).toEqual({
      keyId: 1,
      key: "ak_two",
    });
    expect(readFileSync(file, "utf8")).not.toContain("hunter2");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    keepDemoKey(file, "postgresql://app:hunter2@db:5432/apimon", { keyId: 4, key: "ak_three" });
    expect(keptDemoKey(file, "postgresql://app:hunter2@db:5432/apimon")).toEqual({
      keyId: 4,
      key: "ak_three",
    });
  });

  it("remembers the latest eight places", () => {
    for (let i = 1; i <= 10; i++)
      keepDemoKey(file, `postgresql://127.0.0.1/db${i}`, { keyId: i, key: `ak_${i}` });
    expect(keptDemoKey(file, "postgresql://127.0.0.1/db1")).toBeUndefined();
    expect(keptDemoKey(file, "postgresql://127.0.0.1/db2")).toBeUndefined();
    expect(keptDemoKey(file, "postgresql://127.0.0.1/db3")).toEqual({ keyId: 3, key: "ak_3" });
    expect(keptDemoKey(file, "postgresql://127.0.0.1/db10")).toEqual({ keyId: 10, key: "ak_10" });
  });

  it("reads a damaged file, or an entry that is not a key, as nothing kept", () => {
    keepDemoKey(file, "postgresql://127.0.0.1/a", { keyId: 1, key: "ak_1" });
    writeFileSync(file, "{ not json");
    expect(keptDemoKey(file, "postgresql://127.0.0.1/a")).toBeUndefined();
    writeFileSync(file, JSON.stringify({ "postgresql://127.0.0.1/a": { keyId: "1", key: 5 } }));
    expect(keptDemoKey(file, "postgresql://127.0.0.1/a")).toBeUndefined();
    keepDemoKey(file, "postgresql://127.0.0.1/a", { keyId: 2, key: "ak_2" });
    expect(keptDemoKey(file, "postgresql://127.0.0.1/a")).toEqual({ keyId: 2, key: "ak_2" });
  });
});
