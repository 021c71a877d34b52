#!/bin/sh
# Prunes the built workspace down to what one image needs (run by deploy/Dockerfile after
# `pnpm build`; runnable by hand from the repository root to inspect an image's contents).
#
#   deploy.sh <service> [out]   services/<service> and its production dependencies:
#                               <out>/package.json, <out>/dist/main.js, <out>/node_modules
#   deploy.sh tools [out]       the one-shot jobs: @apimon/db (migration CLI), @apimon/kafka
#                               (topic CLI) and @apimon/cli (the operator CLI and the seed)
#                               at <out>/packages/{db,kafka,cli}, migrations at <out>/prisma,
#                               so the CLIs run as in the repository:
#                               node packages/db/dist/migrate-cli.js
#                               node packages/kafka/dist/topics-cli.js
#                               apimon keys list | apimon seed   (<out>/bin/apimon, on PATH)
set -eu

target="${1:-}"
out="${2:-/out}"

# --prod: no devDependencies. --frozen-lockfile: the deploy lockfile is cut from pnpm-lock.yaml
# and must not be re-resolved. --no-optional: the lockfile binds @prisma/client's optional peers
# (the `prisma` CLI with its Studio, and `typescript`) because the root devDependencies provide
# them; pnpm records those as optional dependencies, and without this flag every image that uses
# @apimon/db carries ~235 MB of CLI. No runtime dependency here needs an optional dependency today
# (pg's optional pg-cloudflare is for Workers). If one ever does (a prebuilt native binary shipped
# as optionalDependencies), drop this flag and exclude the Prisma CLI another way.
# pnpm >= 12.2 deploys without injectWorkspacePackages (workspace dependencies become file:
# dependencies of the deploy lockfile), so neither that setting nor --legacy is needed.
deploy() {
  pnpm --filter "$1" deploy --prod --frozen-lockfile --no-optional "$2"
}

case "$target" in
  "")
    echo "deploy.sh: name a service (a directory under services/) or 'tools'" >&2
    exit 64
    ;;
  tools)
    [ -d prisma/migrations ] || {
      echo "deploy.sh: prisma/migrations is missing; the migration job would have nothing to apply" >&2
      exit 1
    }
    deploy ./packages/db "$out/packages/db"
    deploy ./packages/kafka "$out/packages/kafka"
    deploy ./packages/cli "$out/packages/cli"
    mkdir -p "$out/bin"
    printf '#!/bin/sh\nexec node /app/packages/cli/dist/main.js "$@"\n' >"$out/bin/apimon"
    chmod 755 "$out/bin/apimon"
    for cli in packages/db/dist/migrate-cli.js packages/kafka/dist/topics-cli.js packages/cli/dist/main.js; do
      [ -f "$out/$cli" ] || { echo "deploy.sh: $cli is missing; did 'pnpm build' compile it?" >&2; exit 1; }
    done
    mkdir -p "$out/prisma"
    cp -R prisma/migrations "$out/prisma/migrations"
    [ ! -f prisma/schema.prisma ] || cp prisma/schema.prisma "$out/prisma/schema.prisma"
    ;;
  *)
    [ -f "services/$target/package.json" ] || {
      echo "deploy.sh: no service '$target' (expected services/$target/package.json)" >&2
      exit 64
    }
    deploy "./services/$target" "$out"
    [ -f "$out/dist/main.js" ] || {
      echo "deploy.sh: $out/dist/main.js is missing; did 'pnpm build' compile services/$target?" >&2
      exit 1
    }
    ;;
esac
