#!/usr/bin/env bash
# A single-node Apache Kafka broker on 127.0.0.1, for tests and for trying Sluice on Kafka.
#
#   scripts/kafka.sh start [--port P] [--dir D]   assemble, format fresh storage, start, wait; prints `bootstrap 127.0.0.1:P`
#   scripts/kafka.sh stop  [--port P] [--dir D]   SIGTERM the broker and wait for it to exit
#
# The broker is assembled from Maven Central (org.apache.kafka:kafka_2.13 and kafka-tools, with a
# log4j2 binding; scripts/kafka/pom.xml) by maven-dependency-plugin copy-dependencies into a cache
# beside the user's Maven repository, once. It runs in KRaft combined mode (broker and controller
# in one process) with single-broker settings: replication factors 1,
# transaction.state.log.min.isr=1, group.initial.rebalance.delay.ms=0. Each start formats fresh
# storage under D (default ${TMPDIR:-/tmp}/sluice-kafka-P): what an earlier run held is gone.
# Needs Java 17+ and Maven.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
KAFKA_VERSION="${SLUICE_KAFKA_VERSION:-4.4.0}"
CACHE="${SLUICE_KAFKA_CACHE:-$HOME/.m2/sluice-kafka/$KAFKA_VERSION}"

usage() {
  echo "usage: scripts/kafka.sh start|stop [--port P] [--dir D]" >&2
  exit 2
}

command="${1:-}"
[ "$command" = start ] || [ "$command" = stop ] || usage
shift
port=9092
dir=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65534 ] || { echo "kafka.sh: --port $port: give a port number from 1 to 65534 (the controller listens on the next one)" >&2; exit 2; }
dir="${dir:-${TMPDIR:-/tmp}/sluice-kafka-$port}"
pidfile="$dir/broker.pid"

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    echo "kafka.sh: no broker running for $dir" >&2
    return 0
  fi
  kill -TERM "$pid"
  # A controlled shutdown takes a few seconds; give up after a minute.
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "stopped broker $pid"; return 0; }
    sleep 0.1
  done
  echo "kafka.sh: broker $pid did not stop within 60 s of SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

assemble() {
  [ -f "$CACHE/.complete" ] && return 0
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is needed to fetch the broker's jars from Maven Central" >&2; exit 1; }
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $CACHE (once)" >&2
  rm -rf "$CACHE/libs"
  mkdir -p "$CACHE"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/libs" >&2
  touch "$CACHE/.complete"
}

start() {
  if pid="$(running_pid)"; then
    echo "kafka.sh: a broker (pid $pid) already runs for $dir; stop it first: scripts/kafka.sh stop --dir $dir" >&2
    exit 1
  fi
  command -v java >/dev/null || { echo "kafka.sh: Java 17 or newer is needed to run the broker" >&2; exit 1; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "kafka.sh: port $port is in use; pick another with --port" >&2
    exit 1
  fi
  assemble
  local controller=$((port + 1))
  rm -rf "$dir/logs"
  mkdir -p "$dir/logs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  local java=(java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$here/kafka/log4j2.properties" "-Dkafka.logs.dir=$dir" -cp "$CACHE/libs/*")
  local cluster
  cluster="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
  "${java[@]}" kafka.tools.StorageTool format --standalone -t "$cluster" -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
    echo "kafka.sh: formatting storage failed:" >&2
    cat "$dir/format.log" >&2
    exit 1
  }
  : >"$dir/broker.log"
  nohup "${java[@]}" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  # Ready when the broker says it started and its port answers; give up after two minutes.
  for _ in $(seq 1200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: the broker exited while starting; its log ($dir/broker.log) ends:" >&2
      tail -n 20 "$dir/broker.log" "$dir/stdout.log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "bootstrap 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "kafka.sh: the broker did not start within 120 s; see $dir/broker.log" >&2
  stop
  exit 1
}

"$command"
