// One Jest config for the whole workspace. Two projects so that `--selectProjects unit`
// runs without any infrastructure, while `integration` needs Kafka, Postgres and Redis
// (`pnpm infra up`). Workspace packages resolve to their TypeScript sources, so tests never
// depend on a prior `pnpm build`.
const common = {
  rootDir: __dirname,
  testEnvironment: "node",
  transform: { "^.+\\.tsx?$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }] },
  moduleNameMapper: {
    "^@apimon/client/edge$": "<rootDir>/packages/client/src/edge-client.ts",
    "^@apimon/([a-z-]+)$": "<rootDir>/packages/$1/src/index.ts",
  },
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
};

/** @type {import('jest').Config} */
module.exports = {
  // Per-project testTimeout is ignored by Jest 30; integration tests need the longer one.
  testTimeout: 60_000,
  // Jest's default on 2 cores is one worker; the integration suites mostly wait on I/O.
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/{packages,services}/*/src/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/{packages,services}/*/test/**/*.int.test.ts", "<rootDir>/test/**/*.test.ts"],
      globalSetup: "<rootDir>/packages/testkit/src/global-setup.ts",
      setupFilesAfterEnv: ["<rootDir>/packages/testkit/src/cleanup.ts"],
    },
  ],
};
