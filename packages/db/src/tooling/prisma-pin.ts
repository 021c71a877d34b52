/**
 * The Prisma release that schema-engine.ts is written against. It drives Prisma's schema engine
 * through internals (the WebAssembly engine's JavaScript glue, adapter-pg's query methods) that
 * any Prisma release may change, so every Prisma package is pinned to exactly this release and
 * prisma-pin.test.ts fails as soon as package.json names another one.
 */
export const SUPPORTED_PRISMA = {
  version: "7.10.0",
  /** @prisma/schema-engine-wasm: the WebAssembly build of the engine commit that release ships. */
  schemaEngineWasm: "7.10.0-4.0edf323efd1d98336f3f0a68684b56f689b900d3",
} as const;

/** The pinned packages and the version each must have. */
export const PINNED_PRISMA_PACKAGES: Record<string, string> = {
  prisma: SUPPORTED_PRISMA.version,
  "@prisma/client": SUPPORTED_PRISMA.version,
  "@prisma/adapter-pg": SUPPORTED_PRISMA.version,
  "@prisma/driver-adapter-utils": SUPPORTED_PRISMA.version,
  "@prisma/schema-engine-wasm": SUPPORTED_PRISMA.schemaEngineWasm,
};

/** Where a pinned package's version differs from the supported one, a sentence saying what to do. */
export function prismaPinProblems(declared: Record<string, string | undefined>): string[] {
  return Object.entries(PINNED_PRISMA_PACKAGES).flatMap(([name, wanted]) => {
    const found = declared[name];
    if (found === wanted) return [];
    return [
      `${name} is ${found ?? "missing"} in package.json, but packages/db/src/tooling/schema-engine.ts ` +
        `supports Prisma ${SUPPORTED_PRISMA.version} only (${name} ${wanted}): it drives Prisma's ` +
        "internal schema-engine glue. Check `pnpm db:diff` and the packages/db migration tests with " +
        "the new release, then update SUPPORTED_PRISMA in packages/db/src/tooling/prisma-pin.ts.",
    ];
  });
}
