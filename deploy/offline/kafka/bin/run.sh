#!/bin/bash
# Writes server.properties from the environment the way the official image does (KAFKA_ stripped,
# lower case, "___" -> "-", "__" -> "_", "_" -> "."), formats the log directory once with
# CLUSTER_ID, then runs the broker in the foreground as PID 1 (SIGTERM is a clean shutdown).
set -euo pipefail
config=/opt/kafka/config/server.properties
: >"$config"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_LOG_LEVEL) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  printf '%s=%s\n' "$key" "$value" >>"$config"
done < <(env)
log_dirs="$(sed -n 's/^log\.dirs=//p' "$config")"
log_dirs="${log_dirs:-/var/lib/kafka/data}"
grep -q '^log\.dirs=' "$config" || echo "log.dirs=$log_dirs" >>"$config"

java=(java $KAFKA_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true ${KAFKA_OPTS:-}
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml -cp "/opt/kafka/libs/*")
if [[ ! -f "${log_dirs%%,*}/meta.properties" ]]; then
  [[ -n "${CLUSTER_ID:-}" ]] || { echo "kafka: CLUSTER_ID is required to format ${log_dirs}" >&2; exit 1; }
  "${java[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$config"
fi
exec "${java[@]}" kafka.Kafka "$config"
