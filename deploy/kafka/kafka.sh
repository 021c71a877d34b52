#!/usr/bin/env bash
# Single-node Kafka (KRaft, broker+controller in one JVM) for development and tests, without
# Docker and without the Kafka tarball: the broker's jars come from Maven Central through
# pom.xml next to this script.
#
#   kafka.sh fetch | start [--secure] | stop | status | logs [-f] [lines] | reset
#
# See README.md in this directory for the environment variables. Exit codes of `status`
# follow LSB: 0 running and answering, 3 stopped, 4 process alive but not answering.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd -P)"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
# realpath -m: absolute even when relative or not created yet. The config path derived from it
# is what identifies "our" broker in /proc/<pid>/cmdline, so it must be canonical.
RUNTIME_DIR="$(realpath -m -- "${KAFKA_RUNTIME_DIR:-$REPO_DIR/.runtime/kafka}")"
LIBS_DIR="$(realpath -m -- "${KAFKA_LIBS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/apimon/kafka-$KAFKA_VERSION/libs}")"

HOST=127.0.0.1
CONFIG="$RUNTIME_DIR/server.properties"
DATA_DIR="$RUNTIME_DIR/data"
LOG_DIR="$RUNTIME_DIR/logs"
PID_FILE="$RUNTIME_DIR/kafka.pid"
OUT_FILE="$RUNTIME_DIR/kafka.out"
LOCK_FILE="$RUNTIME_DIR/.lock"
LIBS_MARKER="$LIBS_DIR/.complete"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

for v in KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_START_TIMEOUT KAFKA_STOP_TIMEOUT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
done
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

# ---------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------

libs_complete() { [[ -f "$LIBS_MARKER" ]]; }

cmd_fetch() {
  if libs_complete; then
    [[ "${1:-}" == quiet ]] || log "jars for Kafka $KAFKA_VERSION already in $LIBS_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka's jars from Maven Central)"
  mkdir -p "$(dirname "$LIBS_DIR")"
  # The cache is shared by every runtime dir (e.g. a test broker starting next to the main
  # one), so fetches are serialised and the marker re-checked once we hold the lock.
  exec 8>"$LIBS_DIR.lock"
  flock -w 900 8 || die "timed out waiting for another fetch into $LIBS_DIR"
  if libs_complete; then
    exec 8>&-
    return 0
  fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR ..."
  # Copy into a temp dir and rename it into place, so an interrupted fetch never leaves a
  # half-filled libs dir that looks usable. The marker is written last.
  local tmp
  tmp="$(mktemp -d "$LIBS_DIR.tmp.XXXXXX")"
  chmod 755 "$tmp" # mktemp makes it 0700; it becomes the (readable) cache dir
  # mvn's output is kept aside (Maven 3.8 prints stray ANSI resets even with -q -B) and only
  # shown when it fails.
  if ! mvn -q -B -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "mvn dependency:copy-dependencies failed for Kafka $KAFKA_VERSION"
  fi
  rm -f "$tmp.log"
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  (cd "$tmp" && ls -1 ./*.jar) >"$tmp/.complete"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  exec 8>&- # release the fetch lock (and keep the broker from inheriting it)
  log "fetched $(($(wc -l <"$LIBS_MARKER"))) jars"
}

# ---------------------------------------------------------------------------------------------
# Process identity and the network
# ---------------------------------------------------------------------------------------------

# True when $1 is a live process whose command line is our broker: java ... kafka.Kafka <CONFIG>.
# Guards against a stale pid file whose pid was reused by an unrelated process. A zombie has an
# empty cmdline, so an exited but unreaped JVM counts as gone.
is_our_broker() {
  local pid="$1" args first
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] || return 1
  args="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  first="$(head -n1 <<<"$args")"
  [[ "${first##*/}" == java ]] && grep -qx 'kafka.Kafka' <<<"$args" && grep -qxF "$CONFIG" <<<"$args"
}

# Prints the pid of our running broker, or fails (and drops a stale pid file).
our_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(<"$PID_FILE")"
  if is_our_broker "$pid"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Who listens on a port, for error messages (best effort).
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1; }

# ---------------------------------------------------------------------------------------------
# readiness
# ---------------------------------------------------------------------------------------------

# True when the broker serves Metadata with a broker and a controller (probe.cjs, kafkajs), i.e.
# admin calls such as CreateTopics work right away. A secure broker is asked over TLS, as admin.
broker_ready() {
  local node
  node="$(command -v node)" || die "node not found (the readiness probe runs on Node)"
  if secure_mode; then
    KAFKA_PROBE_PASSWORD="$(secure_password admin)" "$node" "$SCRIPT_DIR/probe.cjs" "$HOST:$KAFKA_PORT" \
      --ca "$SECURE_DIR/ca.pem" --user admin </dev/null >/dev/null 2>&1
  else
    "$node" "$SCRIPT_DIR/probe.cjs" "$HOST:$KAFKA_PORT" </dev/null >/dev/null 2>&1
  fi
}

# ---------------------------------------------------------------------------------------------
# start / stop / status
# ---------------------------------------------------------------------------------------------

# Serialises start/stop/reset per runtime dir, so two concurrent `start`s cannot both launch.
take_lock() {
  mkdir -p "$RUNTIME_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "another kafka.sh is busy with $RUNTIME_DIR"
}

print_log_tail() {
  if [[ -s "$LOG_DIR/server.log" ]]; then
    echo "---- last 40 lines of $LOG_DIR/server.log ----" >&2
    tail -n 40 "$LOG_DIR/server.log" >&2
  fi
  if [[ -s "$OUT_FILE" ]]; then
    echo "---- last 40 lines of $OUT_FILE ----" >&2
    tail -n 40 "$OUT_FILE" >&2
  fi
}

java_cmd() {
  local cds=()
  mapfile -t cds < <(class_archive_args)
  # Same JVM flags as Kafka's kafka-run-class.sh / kafka-server-start.sh.
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word lists on purpose
  JAVA_ARGS=("$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -Djava.awt.headless=true "${cds[@]}" ${KAFKA_JVM_OPTS:-}
    "-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2.xml" "-Dkafka.logs.dir=$LOG_DIR"
    -cp "$LIBS_DIR/*")
}

# ---------------------------------------------------------------------------------------------
# Class data sharing: a broker loads some 5,000 classes at every start, which costs more CPU
# than anything else it does before it serves. A broker stopped cleanly writes the classes it
# loaded into an archive (-XX:ArchiveClassesAtExit) next to the jars; every later JVM maps them
# from there instead (-XX:SharedArchiveFile), which takes a third off a start's CPU. The archive
# is named after the java binary and the jars, so another JDK or a fresh fetch makes a new one;
# a JVM that cannot use an archive loads its classes as usual.
# ---------------------------------------------------------------------------------------------

class_archive() {
  local java key
  java="$(readlink -f -- "$(command -v "$JAVA")" 2>/dev/null)" || return 1
  key="$(stat -c '%n %Y %s' -- "$java" "$LIBS_MARKER" 2>/dev/null | sha1sum | cut -c1-12)" || return 1
  printf '%s/classes-%s.jsa\n' "$(dirname "$LIBS_DIR")" "$key"
}

# The archive's JVM flags: use it when it is there. Logging of class sharing is off either way:
# the dump lists every class it skips, and a JVM that cannot map an archive falls back by itself.
class_archive_args() {
  local archive
  archive="$(class_archive)" || return 0
  [[ -f "$archive" ]] && printf '%s\n' "-XX:SharedArchiveFile=$archive"
  printf '%s\n' "-Xlog:cds=off" "-Xlog:cds+dynamic=off"
}

# Where a broker launched now writes its classes at exit, or nothing when the archive exists.
class_archive_dump() {
  local archive
  archive="$(class_archive)" || return 0
  [[ -f "$archive" ]] || printf '%s\n' "$RUNTIME_DIR/classes.jsa"
}

# After a clean stop: moves the classes the broker wrote into the shared archive, unless another
# broker's got there first. Copied beside it and renamed, so no JVM maps a half-written archive.
class_archive_keep() {
  local dump="$RUNTIME_DIR/classes.jsa" archive tmp
  [[ -s "$dump" ]] || { rm -f "$dump"; return 0; }
  if archive="$(class_archive)" && [[ ! -f "$archive" ]]; then
    tmp="$archive.tmp.$$"
    cp -- "$dump" "$tmp" 2>/dev/null && mv -f -- "$tmp" "$archive" 2>/dev/null || rm -f -- "$tmp"
  fi
  rm -f "$dump"
}

# server.properties of node $1 with the quorum voters $2; $3 copies of every record, $4 of them
# in sync for a write (acks=all), $5 partitions of the group-offsets topic; $6 says who wrote it.
# The dev broker and the cluster nodes differ only in these.
write_server_properties() {
  local node_id="$1" voters="$2" replicas="$3" min_isr="$4" offsets_partitions="$5" writer="$6"
  cat >"$CONFIG.tmp" <<EOF
# Written by deploy/kafka/$writer; edits here are overwritten.
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

log.dirs=$DATA_DIR
num.partitions=3
auto.create.topics.enable=false
default.replication.factor=$replicas
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=$offsets_partitions
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
# Nobody to wait for on a single node, and a cluster's nodes start together: the 3 s default
# only slows consumer group joins.
group.initial.rebalance.delay.ms=0

# Dev retention: a day or 1 GiB per partition, in 64 MiB segments.
log.retention.hours=24
log.retention.bytes=1073741824
log.segment.bytes=67108864
log.retention.check.interval.ms=300000
EOF
  mv "$CONFIG.tmp" "$CONFIG"
}

# One node does not need Kafka's 50 group-offset partitions; creating them (at the first group
# join on a fresh broker) took long enough on a busy 2-core machine to stall tests.
write_config() {
  write_server_properties 1 "1@$HOST:$KAFKA_CONTROLLER_PORT" 1 1 5 "kafka.sh on every start"
}

# Fails when something else listens on the broker's or the controller's port; $1 says which
# variables move them.
check_ports_free() {
  local p owner
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      owner="$(port_owner "$p")"
      die "${NODE:+node $NODE: }port $p on $HOST is already in use by another process${owner:+ ($owner)}; stop it or set $1"
    fi
  done
}

# Formats $DATA_DIR with cluster id $1 unless it is formatted already. meta.properties marks a
# formatted log dir; formatting again would fail (or, with --ignore-formatted, hide a cluster
# id mismatch), so this happens once per data dir.
format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  log "${NODE:+node $NODE: }formatting $DATA_DIR (cluster id $1)"
  "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$1" -c "$CONFIG" "${FORMAT_EXTRA_ARGS[@]}" >>"$OUT_FILE" 2>&1 ||
    { print_log_tail; die "${NODE:+node $NODE: }storage format failed"; }
}

# A new cluster id, made as Kafka's Uuid.randomUuid() makes one (what `StorageTool random-uuid`
# prints, without starting a JVM for it): 16 random bytes in unpadded base64url, never starting
# with '-' (it would read as a command-line flag).
new_cluster_id() {
  local id=""
  while [[ ! "$id" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  printf '%s\n' "$id"
}

# Launches the selected broker detached, without waiting for it to serve; sets LAUNCHED_PID.
launch_broker() {
  local pid i dump
  rm -f "$PID_FILE"
  dump="$(class_archive_dump)"
  # setsid: own session, so the broker survives the calling terminal/test runner and gets no
  # SIGHUP. The inner shell writes its own pid and then execs java, so the recorded pid is the
  # JVM's even if setsid has to fork. 9>&- keeps the start lock from being inherited (the
  # JVM would hold it for its whole life). stdin/stdout/stderr are detached so callers that
  # wait on our output pipes (execFileSync) return.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "${JAVA_ARGS[0]}" ${dump:+"-XX:ArchiveClassesAtExit=$dump"} "${JAVA_ARGS[@]:1}" kafka.Kafka "$CONFIG" \
    </dev/null >>"$OUT_FILE" 2>&1 9>&- &
  for ((i = 0; i < 50; i++)); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || { print_log_tail; die "${NODE:+node $NODE: }broker did not start"; }
  # The pid file is written just before `exec java`: give the exec a moment to happen so
  # is_our_broker (which wants java as argv[0]) does not see the wrapper shell.
  for ((i = 0; i < 50; i++)); do
    if is_our_broker "$pid" || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  LAUNCHED_PID="$pid"
}

# Stops the selected broker: SIGTERM (SIGKILL after KAFKA_STOP_TIMEOUT), or at once with $1=1.
# Logs with prefix $2 ("" or "node <n>: ").
stop_broker() {
  local kill_now="$1" prefix="$2" pid deadline p killed="$1"
  if ! pid="$(our_pid)"; then
    log "${prefix}not running"
    return 0
  fi
  if [[ "$kill_now" == 1 ]]; then
    log "${prefix}SIGKILL (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  else
    if [[ -n "$prefix" ]]; then log "${prefix}stopping (pid $pid)"; else log "stopping broker (pid $pid)"; fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while is_our_broker "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if is_our_broker "$pid"; then
      log "${prefix}no exit after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      killed=1
    fi
  fi
  while is_our_broker "$pid"; do sleep 0.1; done
  rm -f "$PID_FILE"
  # A killed JVM may have been cut off while writing its classes.
  if [[ "$killed" == 1 ]]; then rm -f "$RUNTIME_DIR/classes.jsa"; else class_archive_keep; fi
  # The process is gone; make sure the listener is too before reporting "stopped", so a
  # following start (or a test asserting a refused connect) does not race the kernel.
  deadline=$((SECONDS + 10))
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    while port_open "$p" && ((SECONDS < deadline)); do sleep 0.2; done
    if port_open "$p"; then die "${prefix}port $p still open after the broker exited"; fi
  done
  log "${prefix}stopped"
}

# Waits until broker $1 serves requests; on death or timeout prints its log and fails.
wait_ready() {
  local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! is_our_broker "$pid"; then
      rm -f "$PID_FILE"
      print_log_tail
      die "broker process $pid exited during startup"
    fi
    # The probe is a Node process: only ask it once the listener is bound, so a starting JVM
    # does not share its CPU with a probe every 0.3 s.
    port_open "$KAFKA_PORT" && broker_ready && return 0
    sleep 0.3
  done
  print_log_tail
  die "broker (pid $pid) not ready after ${KAFKA_START_TIMEOUT}s; it is still running, see 'kafka.sh logs' or 'kafka.sh stop'"
}

cmd_start() {
  local secure=""
  case "${1:-}" in
    --secure) secure=1 ;;
    "") ;;
    *) die "usage: kafka.sh start [--secure]" ;;
  esac
  take_lock
  local pid
  if pid="$(our_pid)"; then
    secure_check_running_mode "$secure"
    # Ours is running (maybe still starting): wait for it rather than launching a second one.
    broker_ready || wait_ready "$pid"
    log "already running (pid $pid, $HOST:$KAFKA_PORT)"
    return 0
  fi
  check_ports_free "KAFKA_PORT / KAFKA_CONTROLLER_PORT"

  cmd_fetch quiet
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  java_cmd
  : >"$OUT_FILE"
  write_config
  secure_configure "$secure"
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    local id
    id="$(new_cluster_id)" || exit 1
    format_storage "$id"
  fi
  if secure_mode; then secure_record_format; fi

  local t0=$SECONDS
  log "starting broker on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, data in $DATA_DIR)"
  launch_broker
  pid="$LAUNCHED_PID"
  wait_ready "$pid"
  if secure_mode; then secure_apply_acls; fi
  log "ready (pid $pid, $HOST:$KAFKA_PORT${secure:+, SASL_SSL}) in $((SECONDS - t0))s"
}

cmd_stop() {
  take_lock
  stop_broker 0 ""
}

cmd_status() {
  local pid
  if ! pid="$(our_pid)"; then
    log "stopped"
    return 3
  fi
  if broker_ready; then
    log "running (pid $pid, $HOST:$KAFKA_PORT)"
    return 0
  fi
  log "process $pid is alive but not answering on $HOST:$KAFKA_PORT (starting or hung)"
  return 4
}

cmd_logs() {
  local follow="" lines=100 a
  for a in "$@"; do
    case "$a" in
      -f | --follow) follow=1 ;;
      *[!0-9]* | "") die "usage: kafka.sh logs [-f] [lines]" ;;
      *) lines="$a" ;;
    esac
  done
  [[ -f "$LOG_DIR/server.log" ]] || die "no log yet at $LOG_DIR/server.log"
  if [[ -n "$follow" ]]; then
    exec tail -n "$lines" -F "$LOG_DIR/server.log"
  fi
  tail -n "$lines" "$LOG_DIR/server.log"
}

cmd_reset() {
  cmd_stop
  # Remove only what this script creates: KAFKA_RUNTIME_DIR might point somewhere shared.
  rm -rf "$DATA_DIR" "$LOG_DIR"
  rm -f "$CONFIG" "$CONFIG.tmp" "$PID_FILE" "$OUT_FILE" "$LOCK_FILE" "$RUNTIME_DIR/classes.jsa"
  rmdir "$RUNTIME_DIR" 2>/dev/null || true
  log "reset: removed data and logs under $RUNTIME_DIR"
}

# ---------------------------------------------------------------------------------------------
# --secure: SASL_SSL for clients, mutual TLS on the controller listener, SCRAM users per
# service and the standard authorizer with the ACLs of packages/kafka/src/acls.ts
# ---------------------------------------------------------------------------------------------

SECURE_DIR="$RUNTIME_DIR/secure"
# Every service's SCRAM user; `admin` is the broker's own (inter-broker) user and a super user.
SECURE_USERS=(admin keys edge usage-recorder key-stats anomaly-detector alerts notifier)
# The broker's certificate subject: as a TLS client of the controller listener it is this principal.
BROKER_PRINCIPAL="User:CN=kafka-broker"
FORMAT_EXTRA_ARGS=()

# True when this runtime dir's broker was started with --secure.
secure_mode() { [[ -f "$SECURE_DIR/enabled" ]]; }

# A running broker keeps its mode: switching needs a stop first.
secure_check_running_mode() {
  if [[ -n "$1" ]] && ! secure_mode; then die "the running broker is not secure; stop it first"; fi
  if [[ -z "$1" ]] && secure_mode; then die "the running broker is secure (started with --secure); stop it first"; fi
  return 0
}

# The cluster id of the formatted storage, and the one whose storage got the SCRAM users.
data_cluster_id() { sed -n 's/^cluster.id=//p' "$DATA_DIR/meta.properties" 2>/dev/null; }
secure_formatted_cluster() { cat "$SECURE_DIR/users.cluster" 2>/dev/null || true; }

# Called after format_storage: this storage was formatted with the SCRAM users (or checked to be).
secure_record_format() { data_cluster_id >"$SECURE_DIR/users.cluster"; }

# The password of SCRAM user $1 (generated on the first secure start).
secure_password() { sed -n "s/^$1=//p" "$SECURE_DIR/users.properties"; }

# A CA, the broker's key pair signed by it (PKCS12 keystore) and a truststore holding the CA;
# made once per runtime dir, so clients keep their CA file across restarts.
secure_make_certs() {
  [[ -f "$SECURE_DIR/broker.p12" && -f "$SECURE_DIR/truststore.p12" ]] && return 0
  command -v openssl >/dev/null || die "openssl not found (needed by --secure)"
  command -v keytool >/dev/null || die "keytool not found (needed by --secure; it comes with the JDK)"
  local d="$SECURE_DIR" pass
  pass="$(<"$d/store.password")"
  (
    set -e
    exec >>"$OUT_FILE" 2>&1
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=apimon dev Kafka CA" \
      -keyout "$d/ca.key" -out "$d/ca.pem"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kafka-broker" -keyout "$d/broker.key" -out "$d/broker.csr"
    printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' "$HOST" >"$d/broker.ext"
    openssl x509 -req -days 825 -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -extfile "$d/broker.ext" -out "$d/broker.pem"
    openssl pkcs12 -export -name broker -in "$d/broker.pem" -inkey "$d/broker.key" -certfile "$d/ca.pem" \
      -passout "pass:$pass" -out "$d/broker.p12.tmp"
    rm -f "$d/truststore.p12"
    keytool -importcert -noprompt -alias ca -file "$d/ca.pem" -storetype PKCS12 \
      -keystore "$d/truststore.p12" -storepass "$pass"
    mv "$d/broker.p12.tmp" "$d/broker.p12"
    rm -f "$d/broker.csr" "$d/broker.ext"
  ) || { print_log_tail; die "could not make the CA and broker keystore in $SECURE_DIR"; }
  chmod 600 "$d"/*.key
  log "made a CA ($d/ca.pem) and a broker keystore"
}

# With $1 set: appends the secure listeners and settings to server.properties (later keys
# override the PLAINTEXT ones above) and prepares the SCRAM users for the first format.
secure_configure() {
  if [[ -z "$1" ]]; then
    rm -f "$SECURE_DIR/enabled"
    return 0
  fi
  # SCRAM users exist only in storage formatted by a secure start: the cluster id it recorded.
  if [[ -f "$DATA_DIR/meta.properties" && "$(secure_formatted_cluster)" != "$(data_cluster_id)" ]]; then
    die "$DATA_DIR was not formatted by a secure start (it has no SCRAM users); run 'kafka.sh reset' or use another KAFKA_RUNTIME_DIR"
  fi
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  [[ -f "$SECURE_DIR/store.password" ]] || openssl rand -hex 16 >"$SECURE_DIR/store.password"
  if [[ ! -f "$SECURE_DIR/users.properties" ]]; then
    local u
    for u in "${SECURE_USERS[@]}"; do printf '%s=%s\n' "$u" "$(openssl rand -hex 16)"; done >"$SECURE_DIR/users.properties.tmp"
    mv "$SECURE_DIR/users.properties.tmp" "$SECURE_DIR/users.properties"
  fi
  chmod 600 "$SECURE_DIR/store.password" "$SECURE_DIR/users.properties"
  secure_make_certs
  local pass admin u pw plain_users=""
  pass="$(<"$SECURE_DIR/store.password")"
  admin="$(secure_password admin)"
  FORMAT_EXTRA_ARGS=()
  for u in "${SECURE_USERS[@]}"; do
    pw="$(secure_password "$u")"
    # SCRAM credentials live in the metadata log; formatting adds them without a running broker
    # (format_storage skips a formatted dir, so this happens once per runtime dir).
    FORMAT_EXTRA_ARGS+=(--add-scram "SCRAM-SHA-256=[name=$u,password=$pw]")
    FORMAT_EXTRA_ARGS+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$pw]")
    plain_users+=" user_$u=\"$pw\""
  done
  cat >>"$CONFIG" <<EOF

# --secure: these override the PLAINTEXT listeners above.
listeners=SASL_SSL://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://$HOST:$KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
# Only holders of a certificate from our CA (the broker itself) may talk to the controller.
listener.name.controller.ssl.client.auth=required

ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/broker.p12
ssl.keystore.password=$pass
ssl.key.password=$pass
ssl.truststore.type=PKCS12
ssl.truststore.location=$SECURE_DIR/truststore.p12
ssl.truststore.password=$pass

sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
# PLAIN checks these static users (the SCRAM passwords); it is only offered over TLS.
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin"$plain_users;

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;$BROKER_PRINCIPAL
allow.everyone.if.no.acl.found=false
EOF
  chmod 600 "$CONFIG"
  touch "$SECURE_DIR/enabled"
}

# Applies the services' ACLs (packages/kafka/src/acls.ts) as the admin user.
secure_apply_acls() {
  local tsx="$REPO_DIR/node_modules/.bin/tsx"
  [[ -x "$tsx" ]] || die "$tsx not found: run 'pnpm install' (--secure applies its ACLs with Node)"
  KAFKA_BROKERS="$HOST:$KAFKA_PORT" KAFKA_SSL=true KAFKA_SSL_CA_FILE="$SECURE_DIR/ca.pem" \
    KAFKA_SSL_CERT_FILE="" KAFKA_SSL_KEY_FILE="" KAFKA_SASL_MECHANISM=scram-sha-512 \
    KAFKA_SASL_USERNAME=admin KAFKA_SASL_PASSWORD="$(secure_password admin)" LOG_LEVEL=warn \
    "$tsx" "$REPO_DIR/packages/kafka/src/acls-cli.ts" </dev/null >>"$OUT_FILE" 2>&1 ||
    { tail -n 20 "$OUT_FILE" >&2; die "could not apply the ACLs (the broker is still running; see $OUT_FILE)"; }
  log "ACLs applied; SCRAM passwords in $SECURE_DIR/users.properties, CA in $SECURE_DIR/ca.pem"
}

# ---------------------------------------------------------------------------------------------
# cluster: three KRaft nodes (each broker and controller) on one machine
#
#   kafka.sh cluster start | stop | status | stop-node <n> [--kill] | start-node <n> | logs <n> | reset
#
# Node n (1..3) serves clients on the n-th of KAFKA_CLUSTER_PORTS and votes in the controller
# quorum on the n-th of KAFKA_CLUSTER_CONTROLLER_PORTS; its files live in
# KAFKA_CLUSTER_RUNTIME_DIR/node-<n>. The single-node helpers above (pid check, readiness probe,
# readiness wait) work on whichever node cluster_select last picked.
# ---------------------------------------------------------------------------------------------

CLUSTER_DIR="$(realpath -m -- "${KAFKA_CLUSTER_RUNTIME_DIR:-$REPO_DIR/.runtime/kafka-cluster}")"
IFS=, read -r -a CLUSTER_PORTS <<<"${KAFKA_CLUSTER_PORTS:-9192,9193,9194}"
IFS=, read -r -a CLUSTER_CONTROLLER_PORTS <<<"${KAFKA_CLUSTER_CONTROLLER_PORTS:-9195,9196,9197}"
CLUSTER_HEAP_OPTS="${KAFKA_CLUSTER_HEAP_OPTS:--Xms256m -Xmx512m}"
CLUSTER_NODES=3

cluster_check_settings() {
  ((${#CLUSTER_PORTS[@]} == CLUSTER_NODES && ${#CLUSTER_CONTROLLER_PORTS[@]} == CLUSTER_NODES)) ||
    die "KAFKA_CLUSTER_PORTS and KAFKA_CLUSTER_CONTROLLER_PORTS need $CLUSTER_NODES comma-separated ports each"
  local p seen=" "
  for p in "${CLUSTER_PORTS[@]}" "${CLUSTER_CONTROLLER_PORTS[@]}"; do
    [[ "$p" =~ ^[0-9]+$ ]] || die "cluster port '$p' is not a number"
    [[ "$seen" != *" $p "* ]] || die "cluster port $p is listed twice"
    seen+="$p "
  done
}

# Points the single-node globals (ports, config, pid file, dirs) at node $1.
cluster_select() {
  local n="$1"
  [[ "$n" =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '$n')"
  NODE="$n"
  RUNTIME_DIR="$CLUSTER_DIR/node-$n"
  KAFKA_PORT="${CLUSTER_PORTS[n - 1]}"
  KAFKA_CONTROLLER_PORT="${CLUSTER_CONTROLLER_PORTS[n - 1]}"
  CONFIG="$RUNTIME_DIR/server.properties"
  DATA_DIR="$RUNTIME_DIR/data"
  LOG_DIR="$RUNTIME_DIR/logs"
  PID_FILE="$RUNTIME_DIR/kafka.pid"
  OUT_FILE="$RUNTIME_DIR/kafka.out"
  # Cluster nodes are plaintext: a secure dev broker's marker must not switch their probes to TLS.
  SECURE_DIR="$RUNTIME_DIR/secure"
}

cluster_take_lock() {
  mkdir -p "$CLUSTER_DIR"
  exec 9>"$CLUSTER_DIR/.lock"
  flock -w 300 9 || die "another kafka.sh is busy with $CLUSTER_DIR"
}

cluster_brokers() {
  local out="" p
  for p in "${CLUSTER_PORTS[@]}"; do out+="${out:+,}$HOST:$p"; done
  printf '%s\n' "$out"
}

# Every record on all three nodes; a write (acks=all) needs two of them, so one node may be lost.
cluster_write_config() {
  local voters="" i
  for ((i = 1; i <= CLUSTER_NODES; i++)); do
    voters+="${voters:+,}$i@$HOST:${CLUSTER_CONTROLLER_PORTS[i - 1]}"
  done
  write_server_properties "$NODE" "$voters" 3 2 10 "kafka.sh cluster on every start of this node"
}

# One cluster id for all three nodes, made on the first start and kept beside them.
cluster_id() {
  local file="$CLUSTER_DIR/cluster.id"
  if [[ ! -s "$file" ]]; then
    new_cluster_id >"$file.tmp"
    mv "$file.tmp" "$file"
  fi
  cat "$file"
}

# Launches node $NODE detached (without waiting for it); no-op when it runs already.
cluster_launch() {
  if our_pid >/dev/null; then return 0; fi
  check_ports_free "KAFKA_CLUSTER_PORTS / KAFKA_CLUSTER_CONTROLLER_PORTS"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  : >"$OUT_FILE"
  cluster_write_config
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    local id
    id="$(cluster_id)" || exit 1
    format_storage "$id"
  fi
  log "node $NODE: starting on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  launch_broker
}

cluster_prepare() {
  cluster_check_settings
  cmd_fetch quiet
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  KAFKA_HEAP_OPTS="$CLUSTER_HEAP_OPTS"
  java_cmd
}

cluster_wait_node() {
  local pid
  pid="$(our_pid)" || { print_log_tail; die "node $NODE exited during startup"; }
  broker_ready || wait_ready "$pid"
}

cmd_cluster_start() {
  cluster_take_lock
  cluster_prepare
  local n t0=$SECONDS
  # All nodes first, then the waits: none is ready before a quorum of controllers runs.
  for ((n = 1; n <= CLUSTER_NODES; n++)); do cluster_select "$n"; cluster_launch; done
  for ((n = 1; n <= CLUSTER_NODES; n++)); do cluster_select "$n"; cluster_wait_node; done
  log "cluster ready in $((SECONDS - t0))s: KAFKA_BROKERS=$(cluster_brokers)"
}

cmd_cluster_start_node() {
  cluster_take_lock
  cluster_prepare
  cluster_select "${1:-}"
  local t0=$SECONDS
  cluster_launch
  cluster_wait_node
  log "node $NODE ready (pid $(our_pid), $HOST:$KAFKA_PORT) in $((SECONDS - t0))s"
}

cmd_cluster_stop_node() {
  local n="" kill_now=0 a
  for a in "$@"; do
    case "$a" in
      --kill) kill_now=1 ;;
      *) n="$a" ;;
    esac
  done
  cluster_take_lock
  cluster_check_settings
  cluster_select "$n"
  stop_broker "$kill_now" "node $NODE: "
}

cmd_cluster_stop() {
  cluster_take_lock
  cluster_check_settings
  local n pid
  # SIGTERM to all at once: a node stopped after the others has no controller quorum left to
  # finish its controlled shutdown with, and would sit out KAFKA_STOP_TIMEOUT before SIGKILL.
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    cluster_select "$n"
    if pid="$(our_pid)"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for ((n = CLUSTER_NODES; n >= 1; n--)); do cluster_select "$n"; stop_broker 0 "node $NODE: "; done
}

# Exit 0 when all nodes serve, 3 when none runs, 4 otherwise; one line per node.
cmd_cluster_status() {
  cluster_check_settings
  local n pid up=0 down=0
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    cluster_select "$n"
    if ! pid="$(our_pid)"; then
      log "node $n: stopped"
      down=$((down + 1))
    elif broker_ready; then
      log "node $n: running (pid $pid, $HOST:$KAFKA_PORT)"
      up=$((up + 1))
    else
      log "node $n: process $pid alive but not answering on $HOST:$KAFKA_PORT"
    fi
  done
  if ((up == CLUSTER_NODES)); then return 0; fi
  if ((down == CLUSTER_NODES)); then return 3; fi
  return 4
}

cmd_cluster_reset() {
  cmd_cluster_stop
  local n
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    cluster_select "$n"
    rm -rf "$DATA_DIR" "$LOG_DIR"
    rm -f "$CONFIG" "$CONFIG.tmp" "$PID_FILE" "$OUT_FILE" "$RUNTIME_DIR/classes.jsa"
    rmdir "$RUNTIME_DIR" 2>/dev/null || true
  done
  rm -f "$CLUSTER_DIR/cluster.id" "$CLUSTER_DIR/.lock"
  rmdir "$CLUSTER_DIR" 2>/dev/null || true
  log "cluster reset: removed data and logs under $CLUSTER_DIR"
}

cluster_usage() {
  cat <<USAGE
usage: kafka.sh cluster <command>
  start              start nodes 1-3 (client ports ${CLUSTER_PORTS[*]}) and wait until all serve
  stop               stop every node (idempotent)
  status             one line per node; exit 0 all serve, 3 none runs, 4 otherwise
  stop-node <n> [--kill]  stop node n (SIGTERM; --kill: SIGKILL at once)
  start-node <n>     start node n and wait until it serves
  logs <n> [-f] [N]  the broker log of node n
  brokers            print the KAFKA_BROKERS value for the cluster
  reset              stop and delete every node's data and logs
USAGE
}

cmd_cluster() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) cmd_cluster_start ;;
    stop) cmd_cluster_stop ;;
    status) cmd_cluster_status ;;
    stop-node) cmd_cluster_stop_node "$@" ;;
    start-node) cmd_cluster_start_node "$@" ;;
    logs) cluster_check_settings; cluster_select "${1:-}"; shift || true; cmd_logs "$@" ;;
    brokers) cluster_check_settings; cluster_brokers ;;
    reset) cmd_cluster_reset ;;
    -h | --help | help) cluster_usage ;;
    *) cluster_usage >&2; exit 2 ;;
  esac
}

usage() {
  cat <<EOF
usage: kafka.sh <command>
  fetch        download Kafka $KAFKA_VERSION jars (once) into $LIBS_DIR
  start        start the broker on $HOST:$KAFKA_PORT and wait until it serves (idempotent)
  start --secure  the same with SASL_SSL, SCRAM users per service and ACLs (see README.md)
  stop         stop it (SIGTERM, SIGKILL after ${KAFKA_STOP_TIMEOUT}s; idempotent)
  status       exit 0 running, 3 stopped, 4 alive but not answering
  probe        exit 0 when any Kafka broker (ours or not) serves on $HOST:$KAFKA_PORT
  logs [-f] [N]  last N lines of the broker log (default 100), -f to follow
  reset        stop and delete data and logs in $RUNTIME_DIR
  cluster ...  a three-node cluster on ports 9192-9194 (kafka.sh cluster help)
EOF
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    probe) broker_ready ;;
    logs) cmd_logs "$@" ;;
    reset) cmd_reset ;;
    cluster) cmd_cluster "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
