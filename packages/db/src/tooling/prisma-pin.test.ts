import { readFileSync } from "node:fs";
import path from "node:path";
import { PINNED_PRISMA_PACKAGES, prismaPinProblems, SUPPORTED_PRISMA } from "./prisma-pin";

const repo = path.resolve(__dirname, "../../../..");

function declaredVersions(...files: string[]): Record<string, string> {
  const all: Record<string, string> = {};
  for (const file of files) {
    const json = JSON.parse(readFileSync(path.join(repo, file), "utf8"));
    Object.assign(all, json.dependencies, json.devDependencies);
  }
  return all;
}

describe("the Prisma release the schema-engine tooling supports", () => {
  it("is the one package.json pins, for every Prisma package", () => {
    const declared = declaredVersions("package.json", "packages/db/package.json");
    const problems = prismaPinProblems(declared);
    // One sentence per package, so a Prisma upgrade says exactly what to check.
    expect(problems.join("\n")).toBe("");
  });

  it("is the one installed", () => {
    // pnpm links each dependency of packages/db under its node_modules.
    const installed = (name: string) =>
      JSON.parse(readFileSync(path.join(repo, "packages/db/node_modules", name, "package.json"), "utf8"))
        .version as string;
    expect(installed("@prisma/client")).toBe(SUPPORTED_PRISMA.version);
    expect(installed("@prisma/schema-engine-wasm")).toBe(SUPPORTED_PRISMA.schemaEngineWasm);
  });

  it("names the package and what to do when a version differs", () => {
    const declared = { ...PINNED_PRISMA_PACKAGES, prisma: "7.11.0" };
    expect(prismaPinProblems(declared)).toEqual([
      "prisma is 7.11.0 in package.json, but packages/db/src/tooling/schema-engine.ts supports Prisma " +
        `${SUPPORTED_PRISMA.version} only (prisma ${SUPPORTED_PRISMA.version}): it drives Prisma's internal ` +
        "schema-engine glue. Check `pnpm db:diff` and the packages/db migration tests with the new release, " +
        "then update SUPPORTED_PRISMA in packages/db/src/tooling/prisma-pin.ts.",
    ]);
    expect(prismaPinProblems({})).toHaveLength(Object.keys(PINNED_PRISMA_PACKAGES).length);
  });
});
