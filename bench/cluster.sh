#!/usr/bin/env bash
# hookd on several nodes: the message ack and the outgoing drain for one node on SQLite, one
# node on PostgreSQL and three nodes on one PostgreSQL, all on this machine (run as root on
# Debian/Ubuntu; it installs wrk, sqlite3 and postgresql when missing).
#
#   bench/cluster.sh
#   CLUSTER_SECONDS=3 CLUSTER_DRAIN=2000 bench/cluster.sh     # quick
#
# - Message ack: POST {"content":"hi"} to a message hook whose every message is forwarded to an
#   outgoing hook (a hello-world server), so each 200 means the call, its event and its
#   delivery are committed. wrk runs against every node at once, the connections split evenly
#   between them (CLUSTER_CONNECTIONS in all), for CLUSTER_SECONDS; the 2xx answers per second
#   are summed over the nodes, p99 is the worst node's.
# - Outgoing drain: with the nodes stopped, CLUSTER_DRAIN pending deliveries to the hello server
#   are written into the database; the time runs from starting the nodes until none is pending.
#
# PostgreSQL is a throwaway cluster under a temp dir with its default durability (fsync on,
# synchronous_commit on), on loopback, on the same 2 CPUs as hookd, wrk and the receiver.
# Output: a Markdown table on stdout (also bench/cluster-last-run.md).
set -euo pipefail

SECONDS_EACH=${CLUSTER_SECONDS:-6}
DRAIN=${CLUSTER_DRAIN:-10000}
CONNECTIONS=${CLUSTER_CONNECTIONS:-30}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'cluster bench: %s\n' "$*" >&2; exit 1; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
    ((EUID == 0)) || die "missing ${missing[*]}: run as root, or install them"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
PGBIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")

say "building hookd (release) and the hello server"
(cd "$ROOT" && cargo build --release --bins --quiet)
cargo build --release --quiet --manifest-path "$BENCH_DIR/hello/Cargo.toml" \
    --target-dir "$BENCH_DIR/hello/target"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
HOOKD="$TARGET_DIR/release/hookd"
HOOKCTL="$TARGET_DIR/release/hookctl"
HELLO="$BENCH_DIR/hello/target/release/hello"

TMP=$(mktemp -d /tmp/hookd-cluster-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
PG_USER=()
((EUID == 0)) && PG_USER=(runuser -u postgres --)
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ -d $TMP/pg/data ]] && "${PG_USER[@]}" "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL with its default durability.
PG_PORT=$(free_port)
mkdir -p "$TMP/pg"
((EUID == 0)) && chown postgres "$TMP/pg"
"${PG_USER[@]}" "$PGBIN/initdb" -D "$TMP/pg/data" -U hookd --auth=trust -E UTF8 >/dev/null
"${PG_USER[@]}" "$PGBIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w \
    -o "-p $PG_PORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
psql_do() { psql -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U hookd -d "$1" -c "$2"; }

HELLO_PORT=$(free_port)
"$HELLO" "$HELLO_PORT" >/dev/null 2>&1 &
PIDS+=("$!")

NODE_PIDS=()
start_nodes() { # start_nodes N DATABASE-URL-OR-EMPTY
    local n=$1 db=$2 i
    NODE_PIDS=()
    for ((i = 1; i <= n; i++)); do
        HOOKD_DATABASE=$db HOOKD_LOG=warn "$HOOKD" --config "$TMP/n$i/config.toml" \
            --listen "127.0.0.1:${PORTS[$i]}" --socket "$TMP/n$i/hookd.sock" \
            --state-dir "$TMP/n$i/state" >>"$TMP/n$i/log" 2>&1 &
        NODE_PIDS+=("$!")
    done
    for ((i = 1; i <= n; i++)); do
        local deadline=$(($(date +%s) + 60))
        until "$HOOKCTL" --socket "$TMP/n$i/hookd.sock" status >/dev/null 2>&1; do
            (($(date +%s) < deadline)) || die "node $i did not start: $(tail -5 "$TMP/n$i/log")"
            sleep 0.05
        done
    done
}
stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    NODE_PIDS=()
}
pending() { # pending NODES: deliveries waiting or being sent, as node 1 reports them
    "$HOOKCTL" --socket "$TMP/n1/hookd.sock" --json status |
        python3 -c 'import json,sys; print(sum(e["backlog"] for e in json.load(sys.stdin)["endpoints"]))'
}
wait_drained() {
    local deadline=$(($(date +%s) + 900))
    until [[ $(pending "$1") == 0 ]]; do
        (($(date +%s) < deadline)) || die "deliveries still pending after 900 s"
        sleep 0.1
    done
}

ROWS=()
measure() { # measure LABEL NODES SETUP(sqlite|dbname)
    local label=$1 n=$2 setup=$3 db="" i
    say "$label"
    [[ $setup != sqlite ]] && psql_do postgres "CREATE DATABASE $setup" && db="postgresql://hookd@127.0.0.1:$PG_PORT/$setup"
    PORTS=()
    for ((i = 1; i <= n; i++)); do
        mkdir -p "$TMP/n$i/state"
        printf 'node_name = "n%s"\n' "$i" >"$TMP/n$i/config.toml"
        PORTS[$i]=$(free_port)
    done
    start_nodes "$n" "$db"
    local ctl=("$HOOKCTL" --socket "$TMP/n1/hookd.sock")
    "${ctl[@]}" create out --url "http://127.0.0.1:$HELLO_PORT/" --event message.received >/dev/null
    local token
    token=$("${ctl[@]}" --json create chat --message | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    for ((i = 1; i <= n; i++)); do
        local deadline=$(($(date +%s) + 10))
        until curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
            -d '{"content":"warm"}' "http://127.0.0.1:${PORTS[$i]}/webhook/$token"; do
            (($(date +%s) < deadline)) || die "the hook does not answer on node $i"
            sleep 0.1
        done
    done
    # The ack load, on every node at once.
    local per=$((CONNECTIONS / n)) outs=()
    for ((i = 1; i <= n; i++)); do
        wrk -t1 -c"$per" -d"${SECONDS_EACH}s" --latency -s "$BENCH_DIR/message.lua" \
            "http://127.0.0.1:${PORTS[$i]}/webhook/$token" >"$TMP/wrk$i.out" &
        outs+=("$!")
    done
    for i in "${outs[@]}"; do wait "$i"; done
    local rps=0 p99=0 bad=0
    for ((i = 1; i <= n; i++)); do
        local r b p
        r=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk$i.out")
        b=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$TMP/wrk$i.out")
        p=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else {sub(/s$/,"",v); v*=1000} print v}' "$TMP/wrk$i.out")
        rps=$(awk -v a="$rps" -v r="$r" 'BEGIN {printf "%.0f", a + r}')
        bad=$((bad + ${b:-0}))
        p99=$(awk -v a="$p99" -v p="$p" 'BEGIN {print (p > a ? p : a)}')
    done
    ((bad == 0)) || say "$label: $bad answers were not 2xx"
    wait_drained "$setup"
    stop_nodes
    # The drain: a backlog written while the nodes are stopped.
    local now
    now=$(date +%s%3N)
    if [[ $setup == sqlite ]]; then
        sqlite3 "$TMP/n1/state/hookd.db" "
            WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $DRAIN)
            INSERT INTO events (id, type, time, data) SELECT printf('evt_ffff%020x', i), type, $now, data
                FROM k, (SELECT type, data FROM events WHERE type = 'message.received' LIMIT 1);
            WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $DRAIN)
            INSERT INTO deliveries (event_id, hook_id, hook, status, next_attempt_at, created_at)
                SELECT printf('evt_ffff%020x', i), (SELECT id FROM hooks WHERE name = 'out'), 'out', 'pending', $now, $now FROM k;"
    else
        psql_do "$setup" "
            INSERT INTO events (id, type, time, data)
                SELECT 'evt_ffff' || lpad(to_hex(i), 20, '0'), type, $now, data
                FROM generate_series(1, $DRAIN) i, (SELECT type, data FROM events WHERE type = 'message.received' LIMIT 1) e;
            INSERT INTO deliveries (event_id, hook_id, hook, status, next_attempt_at, created_at)
                SELECT 'evt_ffff' || lpad(to_hex(i), 20, '0'), (SELECT id FROM hooks WHERE name = 'out'), 'out', 'pending', $now, $now
                FROM generate_series(1, $DRAIN) i;" >/dev/null
    fi
    local t0 t1
    t0=$(date +%s%N)
    start_nodes "$n" "$db"
    wait_drained "$setup"
    t1=$(date +%s%N)
    stop_nodes
    local drain
    drain=$(awk -v n="$DRAIN" -v ns="$((t1 - t0))" 'BEGIN {printf "%.0f", n / (ns / 1e9)}')
    ROWS+=("| $label | $rps | $p99 | $drain |")
    rm -rf "$TMP"/n*
}

measure "1 node, SQLite" 1 sqlite
measure "1 node, PostgreSQL" 1 one
measure "3 nodes, one PostgreSQL" 3 three

{
    echo "Cluster benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "(${SECONDS_EACH} s of ack load with $CONNECTIONS connections in all; drain of $DRAIN deliveries)"
    echo
    echo "| Setup | Message ack, 2xx/s | p99, ms | Drain, deliveries/s |"
    echo "| --- | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
} | tee "$BENCH_DIR/cluster-last-run.md"
