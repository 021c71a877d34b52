// Prisma's own schema engine, offline: @prisma/schema-engine-wasm is the WebAssembly build of
// the very engine commit that the supported Prisma release ships natively (prisma-pin.ts, whose
// test fails when package.json moves to another release), driven through
// @prisma/adapter-pg. The Prisma 7 CLI cannot run it (it downloads the native engine for every
// migrate command), so this module loads it the way Prisma 6's CLI did for `engine: "js"`.
//
// Development and test tooling only: excluded from the build (tsconfig.build.json), never
// imported by services; both packages are exact-pinned devDependencies because the engine's
// JavaScript API is internal to Prisma. Run under tsx or node (the engine's glue is an ES
// module), not inside Jest: tests spawn schema-diff-cli.ts.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";

// The engine's glue is an ES module, so this CommonJS file imports it dynamically and takes
// its types from that import.
const importGlue = () => import("@prisma/schema-engine-wasm/schema_engine_bg");
type EngineModule = Awaited<ReturnType<typeof importGlue>>;
type SchemaEngine = Awaited<ReturnType<EngineModule["SchemaEngine"]["new"]>>;
type MigrationList = Parameters<SchemaEngine["diagnoseMigrationHistory"]>[0]["migrationsList"];
type DiagnoseMigrationHistoryOutput = Awaited<ReturnType<SchemaEngine["diagnoseMigrationHistory"]>>;

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** Postgres' internal single-byte `"char"` type (pg_constraint.contype and friends). */
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/** The WebAssembly global, typed here: the project's lib (ES2023, no DOM) does not declare it. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let lastPanic: string | undefined;
let engineModule: Promise<EngineModule> | undefined;

async function loadEngineModule(): Promise<EngineModule> {
  // The glue reports Rust panics through this global; without it a panic is an opaque
  // TypeError instead of the engine's message.
  (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY = {
    set_message(message: string) {
      lastPanic = message;
    },
  };
  const glue = await importGlue();
  const wasmPath = path.join(
    path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg")),
    "schema_engine_bg.wasm",
  );
  const instance = new wasmApi.Instance(new wasmApi.Module(await readFile(wasmPath)), {
    "./schema_engine_bg.js": glue,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

interface ColumnTyped {
  columnTypes: number[];
}
interface PgFieldsResult {
  fields: Array<{ dataTypeID: number }>;
}
interface PatchableQueryable {
  performIO(query: unknown): Promise<PgFieldsResult>;
  queryRaw(query: unknown): Promise<ColumnTyped>;
  startTransaction?: (...args: unknown[]) => Promise<PatchableQueryable>;
}

/**
 * The engine's describer reads `"char"` columns (constraint types) as ColumnType.Character,
 * which adapter-pg does not produce: it rejects OID 18 as unsupported (cf. prisma/orm#27403).
 * Read them as text, then label those columns Character.
 */
function readCharAsCharacter<T>(queryable: T): T {
  const q = queryable as unknown as PatchableQueryable;
  if (typeof q.performIO !== "function" || typeof q.queryRaw !== "function") {
    throw new Error(
      "@prisma/adapter-pg changed its internals; update packages/db/src/tooling/schema-engine.ts",
    );
  }
  const performIO = q.performIO.bind(q);
  const queryRaw = q.queryRaw;
  q.queryRaw = async (query) => {
    let charColumns: boolean[] = [];
    const self = Object.create(q, {
      performIO: {
        value: async (io: unknown) => {
          const result = await performIO(io);
          charColumns = result.fields.map((f) => f.dataTypeID === PG_CHAR_OID);
          for (const field of result.fields)
            if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
          return result;
        },
      },
    });
    const result = await queryRaw.call(self, query);
    charColumns.forEach((isChar, i) => {
      if (isChar) result.columnTypes[i] = ColumnTypeEnum.Character;
    });
    return result;
  };
  if (typeof q.startTransaction === "function") {
    const startTransaction = q.startTransaction.bind(q);
    q.startTransaction = async (...args) => readCharAsCharacter(await startTransaction(...args));
  }
  return queryable;
}

export interface SchemaEngineOptions {
  /** The database the engine inspects (its "config datasource"). */
  connectionString: string;
  /** Postgres schema of that database; public by default. */
  schema?: string;
  /** The Prisma schema file. */
  schemaFile: string;
}

export interface SchemaEngineSession {
  /**
   * The SQL that would bring the database to schemaFile, as `prisma migrate diff
   * --from-config-datasource --to-schema <file> --script` prints it; empty when they match.
   */
  diffDatabaseToSchema(): Promise<{ differs: boolean; script: string }>;
  /** Prisma's view of `_prisma_migrations` against a migrations folder (`prisma migrate status`). */
  diagnoseMigrationHistory(migrationsDir: string): Promise<DiagnoseMigrationHistoryOutput>;
  /** Applies pending migrations as `prisma migrate deploy` does; returns their names. */
  applyMigrations(migrationsDir: string): Promise<string[]>;
  close(): void;
}

async function migrationList(migrationsDir: string): Promise<MigrationList> {
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  return {
    baseDir: migrationsDir,
    lockfile: { path: lockPath, content: await readFile(lockPath, "utf8") },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      names.map(async (name) => {
        const file = path.join(migrationsDir, name, "migration.sql");
        // The engine names a migration after `path`, so pass the folder name as Prisma's CLI does.
        return {
          path: name,
          migrationFile: { path: file, content: { tag: "ok" as const, value: await readFile(file, "utf8") } },
        };
      }),
    ),
  };
}

/** Starts Prisma 7.10's schema engine (WebAssembly) on a database and a schema file. */
export async function openSchemaEngine(options: SchemaEngineOptions): Promise<SchemaEngineSession> {
  engineModule ??= loadEngineModule();
  const glue = await engineModule;
  const schemaFile = path.resolve(options.schemaFile);
  const content = await readFile(schemaFile, "utf8");
  const inner = new PrismaPg(
    { connectionString: options.connectionString },
    options.schema !== undefined ? { schema: options.schema } : undefined,
  );
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => readCharAsCharacter(await inner.connect()),
    connectToShadowDb: async () => readCharAsCharacter(await inner.connectToShadowDb()),
  };
  const engine: SchemaEngine = await glue.SchemaEngine.new(
    { datamodels: [[schemaFile, content]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  const files = [{ path: schemaFile, content }];

  async function run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (lastPanic !== undefined) throw new Error(`schema engine panicked: ${lastPanic}`, { cause: error });
      throw error;
    }
  }

  return {
    diffDatabaseToSchema: () =>
      run(async () => {
        const result = await engine.diff({
          from: { tag: "schemaDatasource", files, configDir: path.dirname(schemaFile) },
          to: { tag: "schemaDatamodel", files },
          script: true,
          exitCode: true,
          filters: NO_FILTERS,
        });
        return { differs: result.exitCode === 2, script: result.stdout ?? "" };
      }),
    diagnoseMigrationHistory: (migrationsDir) =>
      run(async () =>
        engine.diagnoseMigrationHistory({
          migrationsList: await migrationList(path.resolve(migrationsDir)),
          optInToShadowDatabase: false,
          filters: NO_FILTERS,
        }),
      ),
    applyMigrations: (migrationsDir) =>
      run(async () => {
        const result = await engine.applyMigrations({
          migrationsList: await migrationList(path.resolve(migrationsDir)),
          filters: NO_FILTERS,
        });
        return result.appliedMigrationNames;
      }),
    close: () => engine.free(),
  };
}
