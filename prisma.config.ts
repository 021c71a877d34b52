// Prisma 7 CLI configuration. The datasource url moved here from schema.prisma; the CLI loads
// no .env by itself, so the url comes from the environment with a local default.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/apimon",
  },
});
