#!/usr/bin/env bash
# hookd benchmark: one command from a fresh clone (run as root on Debian/Ubuntu).
#
#   bench/run.sh                                   # full run: 3 rounds of 6 s loads (~4 minutes)
#   BENCH_SECONDS=3 BENCH_ROUNDS=1 bench/run.sh    # quick smoke run
#
# What it measures, with wrk (-t2 -c32 by default) against loopback servers, alternating
# hookd and the reference in every round (the order flips each round), median of the rounds:
#
#   1. Sync script hook `echo hi` with raw output, against adnanh/webhook running a #!/bin/sh
#      script that echoes hi with include-command-output-in-response, and against this
#      machine's spawn limit (bench/spawnrate: /bin/sh -c 'echo hi' from 8 workers per CPU).
#      Beside it, a command hook (`--exec /bin/echo --arg string:hi --if …`) with its condition
#      true (a run) and false (answered without one; against the 404 rate of 3).
#   2. Message hook (POST {"content":"hi"} answered 200 once it is on disk with a delivery to
#      an outgoing hook), against webhook's fire-and-forget hook (answers at once, runs the
#      script in the background); plus hookd's p99 latency.
#   3. Unknown-token 404s (/webhook/hkd_nope), against a hello-world hyper server
#      (bench/hello), the limit for answering anything at all.
#   3b. The 404 path and the sync script hook over HTTPS (a second hookd with tls_cert and a
#      self-signed certificate made by openssl), against the same loads over plain HTTP;
#      wrk keeps its connections alive, so this measures TLS records more than handshakes.
#   4. Outgoing drain: a backlog of BENCH_DRAIN pending deliveries to the hello server,
#      timed from hookd's start until none is pending; then the same backlog again beside
#      BENCH_FAILING outgoing hooks whose receiver refuses every connection (100 pending
#      deliveries each), timed until the healthy hook's backlog is empty; then `hookctl emit`
#      throughput (one process per event, in a row and 8 at a time).
#   5. `hookctl --json list` with BENCH_HOOKS hooks created by `hookctl apply`.
#   6. hookd's resident memory (VmRSS): idle, the maximum during and the value after each
#      load, and with BENCH_PENDING pending deliveries to a receiver that never answers.
#   7. hookd's resident memory while a sync `--stream` hook writes 10 MB of output to a
#      streaming client (a fresh daemon and state directory), against its value before.
#
# Targets are printed next to the results; they are goals, not pass/fail tests.
# Output: a Markdown table on stdout, also written to bench/last-run.md with the machine's
# details; every wrk output goes to bench/last-run.log. Everything binds 127.0.0.1 only and is cleaned up on exit, including Ctrl-C.
#
# Settings (environment):
#   BENCH_SECONDS=6         length of each load
#   BENCH_ROUNDS=3          A/B rounds
#   BENCH_THREADS=2         wrk threads
#   BENCH_CONNECTIONS=32    wrk connections
#   BENCH_DRAIN=20000       deliveries in the drain backlog
#   BENCH_FAILING=100       failing endpoints (100 pending deliveries each) beside the second drain
#   BENCH_EMITS=500         `hookctl emit` calls per emit timing
#   BENCH_HOOKS=10000       hooks for the list timing
#   BENCH_PENDING=1000000   pending deliveries for the memory test (0 skips it)
#   BENCH_SETTLE=10         seconds hookd runs with the pending backlog before RSS is read
#   WEBHOOK=/usr/bin/webhook  the adnanh/webhook binary

set -euo pipefail

BENCH_SECONDS=${BENCH_SECONDS:-6}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_DRAIN=${BENCH_DRAIN:-20000}
BENCH_HOOKS=${BENCH_HOOKS:-10000}
BENCH_PENDING=${BENCH_PENDING:-1000000}
BENCH_SETTLE=${BENCH_SETTLE:-10}
BENCH_FAILING=${BENCH_FAILING:-100}
BENCH_EMITS=${BENCH_EMITS:-500}
WEBHOOK=${WEBHOOK:-/usr/bin/webhook}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
REPORT="$BENCH_DIR/last-run.md"
RAW_LOG="$BENCH_DIR/last-run.log"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }

for v in BENCH_SECONDS BENCH_ROUNDS BENCH_THREADS BENCH_CONNECTIONS BENCH_DRAIN BENCH_HOOKS \
    BENCH_PENDING BENCH_SETTLE BENCH_FAILING BENCH_EMITS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((BENCH_SECONDS >= 1 && BENCH_ROUNDS >= 1 && BENCH_DRAIN >= 1 && BENCH_HOOKS >= 1 && BENCH_EMITS >= 1)) ||
    die "BENCH_SECONDS, BENCH_ROUNDS, BENCH_DRAIN, BENCH_HOOKS and BENCH_EMITS must be at least 1"

# ---------------------------------------------------------------------------------------------
# Processes and clean-up

TMP=""
HOOKD_PID=""
SAMPLER_PID=""
FG_PID=""
HELPER_PIDS=()

# Stops one process we started: SIGTERM, then SIGKILL after `grace` seconds.
stop_pid() {
    local pid=$1 grace=${2:-5} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $FG_PID ]] && stop_pid "$FG_PID" 2
    [[ -n $SAMPLER_PID ]] && stop_pid "$SAMPLER_PID" 1
    [[ -n $HOOKD_PID ]] && stop_pid "$HOOKD_PID" 5
    local pid
    for pid in "${HELPER_PIDS[@]}"; do stop_pid "$pid" 5; done
    [[ -n $TMP && -d $TMP ]] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools and builds

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x $WEBHOOK ]] || missing+=(webhook)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v ps >/dev/null || missing+=(procps)
if ((${#missing[@]})); then
    ((EUID == 0)) || die "missing ${missing[*]}: run as root, or install them (apt-get install ${missing[*]})"
    say "installing ${missing[*]} from the Debian packages"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
[[ -x $WEBHOOK ]] || die "$WEBHOOK not found (package webhook, or set WEBHOOK=PATH)"

say "building hookd (release) and the helpers"
(cd "$ROOT" && cargo build --release --bins --quiet)
cargo build --release --quiet --manifest-path "$BENCH_DIR/hello/Cargo.toml" \
    --target-dir "$BENCH_DIR/hello/target"
cargo build --release --quiet --manifest-path "$BENCH_DIR/spawnrate/Cargo.toml" \
    --target-dir "$BENCH_DIR/spawnrate/target"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
HOOKD="$TARGET_DIR/release/hookd"
HOOKCTL="$TARGET_DIR/release/hookctl"
HELLO="$BENCH_DIR/hello/target/release/hello"
SPAWNRATE="$BENCH_DIR/spawnrate/target/release/spawnrate"
for b in "$HOOKD" "$HOOKCTL" "$HELLO" "$SPAWNRATE"; do [[ -x $b ]] || die "$b was not built"; done

TMP=$(mktemp -d /tmp/hookd-bench.XXXXXX)
WRK_LOG="$TMP/wrk.log"
: >"$WRK_LOG"

# ---------------------------------------------------------------------------------------------
# Helpers

# free_port VAR: a loopback port nobody listens on (and that we have not handed out yet).
USED_PORTS=" "
free_port() {
    local p _
    for _ in $(seq 500); do
        p=$((20000 + RANDOM % 30000))
        [[ $USED_PORTS == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS+="$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    die "no free loopback port found"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
    local limit=$1 what=$2 deadline
    shift 2
    deadline=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        (($(date +%s) < deadline)) || die "timed out after ${limit}s waiting for $what"
        sleep 0.1
    done
}

# fg_run COMMAND...: runs a long command as a background job and waits for it, so that Ctrl-C
# interrupts the wait at once (the trap then stops the command) whatever the command does
# with SIGINT itself.
fg_run() {
    "$@" &
    FG_PID=$!
    local rc=0
    wait "$FG_PID" || rc=$?
    FG_PID=""
    return "$rc"
}

http_up() { curl -s -o /dev/null --max-time 1 "$1"; }

# CPU time the whole machine has spent busy, in ticks (1/100 s per CPU).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# webhook answers its fire-and-forget hook before the script runs, so a load leaves a backlog
# of scripts behind. Waits (at most 300 s) until webhook has had no child process and the
# machine has been nearly idle (under 30 % of one CPU) for 0.3 s, so the backlog does not eat
# into the next measurement: its scripts are short, so a moment without a child alone does
# not mean the backlog is done. Sets WH_BACKLOG_S to the time taken.
wait_webhook_idle() {
    local t0 quiet=0 deadline before now
    t0=$(now_ns)
    deadline=$(($(date +%s) + 300))
    before=$(busy_ticks)
    while ((quiet < 3)); do
        kill -0 "$WEBHOOK_PID" 2>/dev/null || die "webhook exited (see its log: $TMP/webhook.log)"
        now=$(busy_ticks)
        if [[ -z $(ps --ppid "$WEBHOOK_PID" -o pid= 2>/dev/null) ]] && ((now - before < 3)); then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
        if (($(date +%s) >= deadline)); then
            WARNINGS+=("webhook was still running fire-and-forget scripts after 300s")
            break
        fi
        before=$now
        sleep 0.1
    done
    WH_BACKLOG_S=$(awk -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.1f", ns / 1e9 - 0.3 }')
}

# start_helper VAR_PID COMMAND...: starts a long-running helper and records it for clean-up.
start_helper() {
    local var=$1
    shift
    "$@" &
    HELPER_PIDS+=("$!")
    printf -v "$var" '%s' "$!"
}

ctl() { HOOKD_SOCKET="$SOCK" "$HOOKCTL" "$@"; }

start_hookd() {
    HOOKD_LOG=warn "$HOOKD" --listen "127.0.0.1:$HOOKD_PORT" --socket "$SOCK" \
        --state-dir "$STATE" --config "$CONF" >>"$TMP/hookd.log" 2>&1 &
    HOOKD_PID=$!
    HOOKD_STARTED_NS=$(now_ns)
    local deadline=$(($(date +%s) + 60))
    until ctl status >/dev/null 2>&1; do
        kill -0 "$HOOKD_PID" 2>/dev/null || { tail -20 "$TMP/hookd.log" >&2; die "hookd exited"; }
        (($(date +%s) < deadline)) || die "hookd did not answer hookctl status within 60s"
        sleep 0.05
    done
}

stop_hookd() {
    stop_pid "$HOOKD_PID" "${1:-40}"
    HOOKD_PID=""
}

# VmRSS of a process in KiB.
rss_kib() {
    local k v _
    while read -r k v _; do
        [[ $k == VmRSS: ]] && { echo "$v"; return 0; }
    done <"/proc/$1/status"
    echo 0
}
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# Samples hookd's VmRSS every 0.2 s into $TMP/rss.max (the maximum seen) until stopped.
start_rss_sampler() {
    (
        max=0
        while kill -0 "$HOOKD_PID" 2>/dev/null; do
            r=$(rss_kib "$HOOKD_PID" 2>/dev/null || echo 0)
            ((r > max)) && max=$r && echo "$max" >"$TMP/rss.max"
            sleep 0.2
        done
    ) &
    SAMPLER_PID=$!
}
stop_rss_sampler() {
    stop_pid "$SAMPLER_PID" 1
    SAMPLER_PID=""
    cat "$TMP/rss.max" 2>/dev/null || echo 0
    rm -f "$TMP/rss.max"
}

# Per-phase memory: the maximum VmRSS seen during the phase and the value right after it.
declare -A RSS_MAX=() RSS_AFTER=()
RSS_PHASES=()
note_rss() { # note_rss PHASE MAX_KIB
    local phase=$1 max=$2 after prev
    after=$(rss_kib "$HOOKD_PID")
    prev=${RSS_MAX[$phase]:-}
    [[ -n $prev ]] || RSS_PHASES+=("$phase")
    ((max < after)) && max=$after
    ((max < ${prev:-0})) && max=$prev
    RSS_MAX[$phase]=$max
    RSS_AFTER[$phase]=$after
}

# wrk output → milliseconds
to_ms() {
    awk -v t="$1" 'BEGIN {
        if (t ~ /us$/) { sub(/us$/, "", t); print t / 1000 }
        else if (t ~ /ms$/) { sub(/ms$/, "", t); print t + 0 }
        else if (t ~ /m$/) { sub(/m$/, "", t); print t * 60000 }
        else { sub(/s$/, "", t); print t * 1000 } }'
}

# run_wrk LABEL URL [wrk args...]: one load; sets W_RPS (requests answered per second),
# W_GOOD (2xx per second), W_BAD (non-2xx answers), W_ERR (socket errors), W_P99 (ms).
run_wrk() {
    local label=$1 url=$2 out
    shift 2
    fg_run timeout $((BENCH_SECONDS + 60)) wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" \
        -d"${BENCH_SECONDS}s" --timeout 10s --latency "$@" "$url" >"$TMP/wrk.out" ||
        die "wrk failed ($label)"
    out=$(<"$TMP/wrk.out")
    printf '### %s\n%s\n\n' "$label" "$out" >>"$WRK_LOG"
    W_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    local total secs
    total=$(awk '/ requests in / {print $1}' <<<"$out")
    secs=$(awk '/ requests in / {sub(/,$/, "", $4); print $4}' <<<"$out")
    W_BAD=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    W_BAD=${W_BAD:-0}
    W_ERR=$(awk -F'[ ,]+' '/Socket errors:/ {print $4 + $6 + $8 + $10}' <<<"$out")
    W_ERR=${W_ERR:-0}
    W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    W_GOOD=$(awk -v n="$total" -v bad="$W_BAD" -v s="$(to_ms "$secs")" \
        'BEGIN { printf "%.0f", (n - bad) / (s / 1000) }')
    W_RPS=$(awk -v r="$W_RPS" 'BEGIN { printf "%.0f", r }')
}

# Results: space-separated per-round values under a key.
declare -A R=()
add() { R[$1]="${R[$1]:-}${R[$1]:+ }$2"; }
median() {
    tr ' ' '\n' <<<"$1" | sort -g | awk '{a[NR] = $1} END {
        if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2];
        else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
met() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "**not met**") }'; }
check() { awk -v a="$1" -v b="$3" "BEGIN { print (a $2 b) ? 1 : 0 }"; }

metric() { # metric NAME_WITH_LABELS: a value from hookd's /metrics, 0 when absent
    curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" |
        awk -v m="$1" '$1 == m {v = $2} END {print v + 0}'
}
pending_is_zero() { [[ $(metric hookd_pending_deliveries) == 0 ]]; }

# queue_deliveries COUNT HOOK DUE_MS: COUNT copies of the newest message.received event, each
# with a pending delivery to outgoing hook HOOK due at DUE_MS, written straight into the
# database while hookd is stopped (the same rows hookd writes for a message).
queue_deliveries() {
    local count=$1 hook=$2 due=$3 hook_id template
    hook_id=$(sqlite3 "$DB" "SELECT id FROM hooks WHERE name = '$hook'")
    template=$(sqlite3 "$DB" "SELECT id FROM events WHERE type = 'message.received' ORDER BY time DESC LIMIT 1")
    [[ -n $hook_id && -n $template ]] || die "no outgoing hook $hook or no message event to copy"
    local base
    base=$(sqlite3 "$DB" "SELECT count(*) FROM events")
    cat >"$TMP/queue.sql" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
INSERT INTO events (id, type, time, data)
    SELECT printf('evt_ffff%020x', $base + i), e.type, $due, e.data
    FROM n, (SELECT type, data FROM events WHERE id = '$template') e;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
INSERT INTO deliveries (event_id, hook_id, hook, status, attempts, next_attempt_at, created_at)
    SELECT printf('evt_ffff%020x', $base + i), $hook_id, '$hook', 'pending', 0, $due, $due FROM n;
COMMIT;
SQL
    fg_run timeout 900 sqlite3 -batch "$DB" ".read $TMP/queue.sql" || die "cannot queue deliveries"
}

# ---------------------------------------------------------------------------------------------
# Servers

free_port HOOKD_PORT
free_port METRICS_PORT
free_port WEBHOOK_PORT
free_port HELLO_PORT
free_port HANG_PORT
SOCK="$TMP/hookd.sock"
STATE="$TMP/state"
CONF="$TMP/config.toml"
# Scripts: allow 64 at once (the default is 16) so the sync test is not limited by the cap;
# the hook itself gets --concurrency 64.
cat >"$CONF" <<EOF
metrics_listen = "127.0.0.1:$METRICS_PORT"

[scripts]
max_concurrent = 64
EOF

printf '#!/bin/sh\necho hi\n' >"$TMP/hi.sh"
chmod 755 "$TMP/hi.sh"
cat >"$TMP/webhook-hooks.json" <<EOF
[
  {"id": "sync", "execute-command": "$TMP/hi.sh", "include-command-output-in-response": true},
  {"id": "ff", "execute-command": "$TMP/hi.sh"}
]
EOF

say "starting hookd, webhook and the hello server on 127.0.0.1"
start_hookd
DB=$(ctl --json status | sed -n 's/.*"database": *"\([^"]*\)".*/\1/p')
[[ -f $DB ]] || die "cannot find hookd's database (got '$DB')"
start_helper WEBHOOK_PID "$WEBHOOK" -hooks "$TMP/webhook-hooks.json" -ip 127.0.0.1 \
    -port "$WEBHOOK_PORT" >"$TMP/webhook.log" 2>&1
start_helper HELLO_PID "$HELLO" "$HELLO_PORT"
wait_until 30 "webhook" http_up "http://127.0.0.1:$WEBHOOK_PORT/hooks/ff"
wait_until 30 "the hello server" http_up "http://127.0.0.1:$HELLO_PORT/"

url_of() { sed -n 's/.*"url": *"\([^"]*\)".*/\1/p'; }
SYNC_URL=$(ctl --json create s --run 'echo hi' --raw-output --concurrency 64 --queue-limit 100000 | url_of)
MSG_URL=$(ctl --json create m --message | url_of)
# A command hook with a condition: true runs /bin/echo, false answers at once without a run.
COND_URL=$(ctl --json create c --exec /bin/echo --arg string:hi --output stdout \
    --if "header('X-Go') == 'yes'" --concurrency 64 --queue-limit 100000 | url_of)
[[ $COND_URL == http://* ]] || die "hookctl create printed no URL for the command hook"
printf 'wrk.headers["X-Go"] = "yes"\n' >"$TMP/cond-true.lua"
printf 'wrk.headers["X-Go"] = "no"\n' >"$TMP/cond-false.lua"
[[ $SYNC_URL == http://* && $MSG_URL == http://* ]] || die "hookctl create printed no URL"
NOPE_URL="http://127.0.0.1:$HOOKD_PORT/webhook/hkd_nope"
WH_SYNC="http://127.0.0.1:$WEBHOOK_PORT/hooks/sync"
WH_FF="http://127.0.0.1:$WEBHOOK_PORT/hooks/ff"
HELLO_URL="http://127.0.0.1:$HELLO_PORT/"
# Every message is forwarded: its ack waits for the event and its delivery to reach the disk.
ctl create out --url "$HELLO_URL" --event message.received >/dev/null

sleep 1
note_rss "idle (4 hooks)" 0
IDLE_RSS=${RSS_AFTER["idle (4 hooks)"]}

# Each side answers as expected before it is loaded.
expect() { # expect WHAT STATUS BODY curl-args...
    local what=$1 status=$2 body=$3 got
    shift 3
    got=$(curl -s --max-time 10 -w '\n%{http_code}' "$@") || die "$what: request failed"
    [[ ${got##*$'\n'} == "$status" ]] || die "$what: expected HTTP $status, got: $got"
    [[ -z $body || ${got%$'\n'*} == "$body"* ]] || die "$what: unexpected body: $got"
}
MSG_ARGS=(-H 'Content-Type: application/json' -d '{"content":"hi"}')
expect "hookd sync hook" 200 hi "$SYNC_URL"
expect "webhook sync hook" 200 hi "$WH_SYNC"
expect "hookd message hook" 200 "" "${MSG_ARGS[@]}" "$MSG_URL"
expect "webhook fire-and-forget hook" 200 "" "${MSG_ARGS[@]}" "$WH_FF"
expect "hookd unknown token" 404 "" "$NOPE_URL"
expect "hookd command hook, condition true" 200 hi -H 'X-Go: yes' "$COND_URL"
expect "hookd command hook, condition false" 200 "Hook rules were not satisfied." -H 'X-Go: no' "$COND_URL"
expect "hello server" 200 hello "$HELLO_URL"

# ---------------------------------------------------------------------------------------------
# 1-3: A/B rounds

WARNINGS=()
hookd_load() { # hookd_load PHASE LABEL URL [wrk args...]: a load on hookd, with its memory
    local phase=$1 label=$2
    shift 2
    start_rss_sampler
    run_wrk "$label" "$@"
    note_rss "$phase" "$(stop_rss_sampler)"
}

for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    say "round $round of $BENCH_ROUNDS (${BENCH_SECONDS}s per load)"
    if ((round % 2)); then order=(hookd peer limit); else order=(limit peer hookd); fi

    for side in "${order[@]}"; do
        case $side in
        hookd)
            hookd_load "sync script load" "round $round: hookd sync script" "$SYNC_URL"
            add sync.hookd "$W_GOOD"
            add sync.hookd.p99 "$W_P99"
            ((W_BAD + W_ERR == 0)) || WARNINGS+=("round $round: hookd sync: $W_BAD non-2xx, $W_ERR socket errors (only 2xx counted)")
            hookd_load "command hook load" "round $round: hookd command hook, condition true" "$COND_URL" -s "$TMP/cond-true.lua"
            add cond.true "$W_GOOD"
            hookd_load "command hook load" "round $round: hookd command hook, condition false" "$COND_URL" -s "$TMP/cond-false.lua"
            add cond.false "$W_GOOD"
            ;;
        peer)
            run_wrk "round $round: webhook sync script" "$WH_SYNC"
            add sync.webhook "$W_GOOD"
            add sync.webhook.p99 "$W_P99"
            ((W_BAD + W_ERR == 0)) || WARNINGS+=("round $round: webhook sync: $W_BAD non-2xx, $W_ERR socket errors (only 2xx counted)")
            ;;
        limit)
            fg_run timeout $((BENCH_SECONDS + 60)) "$SPAWNRATE" "$BENCH_SECONDS" >"$TMP/spawnrate.out" ||
                die "spawnrate failed"
            rate=$(<"$TMP/spawnrate.out")
            printf '### round %s: spawnrate\n%s spawns/s\n\n' "$round" "$rate" >>"$WRK_LOG"
            add sync.spawn "$rate"
            ;;
        esac
    done

    if ((round % 2)); then order=(hookd peer); else order=(peer hookd); fi
    for side in "${order[@]}"; do
        if [[ $side == hookd ]]; then
            hookd_load "message load" "round $round: hookd message" "$MSG_URL" -s "$BENCH_DIR/message.lua"
            add msg.hookd "$W_GOOD"
            add msg.hookd.p99 "$W_P99"
            ((W_BAD + W_ERR == 0)) || WARNINGS+=("round $round: hookd message: $W_BAD non-2xx, $W_ERR socket errors (only 2xx counted)")
            # The deliveries the load queued are sent before the next measurement.
            t0=$(now_ns)
            wait_until 600 "hookd's deliveries of the message load" pending_is_zero
            add msg.hookd.backlog "$(awk -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.1f", ns / 1e9 }')"
        else
            run_wrk "round $round: webhook fire-and-forget" "$WH_FF" -s "$BENCH_DIR/message.lua"
            add msg.webhook "$W_GOOD"
            add msg.webhook.p99 "$W_P99"
            ((W_BAD + W_ERR == 0)) || WARNINGS+=("round $round: webhook fire-and-forget: $W_BAD non-2xx, $W_ERR socket errors (only 2xx counted)")
            wait_webhook_idle
            add msg.webhook.backlog "$WH_BACKLOG_S"
        fi
    done
    for side in "${order[@]}"; do
        if [[ $side == hookd ]]; then
            hookd_load "404 load" "round $round: hookd unknown token" "$NOPE_URL"
            add nf.hookd "$W_RPS"
            ((W_BAD == 0 && W_ERR == 0)) && WARNINGS+=("round $round: hookd unknown token answered 2xx")
            ((W_ERR == 0)) || WARNINGS+=("round $round: hookd 404: $W_ERR socket errors")
        else
            run_wrk "round $round: hello-world" "$HELLO_URL"
            add nf.hello "$W_GOOD"
        fi
    done
done

# ---------------------------------------------------------------------------------------------
# 3b: HTTPS next to plain HTTP

say "starting a second hookd serving HTTPS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null || die "openssl could not make a certificate"
free_port TLS_PORT
TLS_SOCK="$TMP/hookd-tls.sock"
cat >"$TMP/config-tls.toml" <<EOF
tls_cert = "$TMP/tls.crt"
tls_key = "$TMP/tls.key"

[scripts]
max_concurrent = 64
EOF
start_helper TLS_PID env HOOKD_LOG=warn "$HOOKD" --listen "127.0.0.1:$TLS_PORT" \
    --socket "$TLS_SOCK" --state-dir "$TMP/state-tls" --config "$TMP/config-tls.toml" \
    >>"$TMP/hookd-tls.log" 2>&1
tctl() { HOOKD_SOCKET="$TLS_SOCK" "$HOOKCTL" "$@"; }
wait_until 60 "the HTTPS hookd" tctl status
TLS_SYNC_URL=$(tctl --json create s --run 'echo hi' --raw-output --concurrency 64 --queue-limit 100000 | url_of)
TLS_NOPE_URL="https://127.0.0.1:$TLS_PORT/webhook/hkd_nope"
[[ $TLS_SYNC_URL == https://* ]] || die "the HTTPS hookd printed no https:// URL (got '$TLS_SYNC_URL')"
expect "hookd sync hook over HTTPS" 200 hi --cacert "$TMP/tls.crt" "$TLS_SYNC_URL"
expect "hookd unknown token over HTTPS" 404 "" --cacert "$TMP/tls.crt" "$TLS_NOPE_URL"

for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    say "HTTPS round $round of $BENCH_ROUNDS"
    if ((round % 2)); then order=(tls plain); else order=(plain tls); fi
    for side in "${order[@]}"; do
        if [[ $side == tls ]]; then
            run_wrk "round $round: hookd unknown token, HTTPS" "$TLS_NOPE_URL"
            add tls.nf.tls "$W_RPS"
            ((W_ERR == 0)) || WARNINGS+=("round $round: HTTPS 404: $W_ERR socket errors")
            run_wrk "round $round: hookd sync script, HTTPS" "$TLS_SYNC_URL"
            add tls.sync.tls "$W_GOOD"
            ((W_BAD + W_ERR == 0)) || WARNINGS+=("round $round: HTTPS sync: $W_BAD non-2xx, $W_ERR socket errors (only 2xx counted)")
        else
            run_wrk "round $round: hookd unknown token, plain HTTP" "$NOPE_URL"
            add tls.nf.plain "$W_RPS"
            run_wrk "round $round: hookd sync script, plain HTTP" "$SYNC_URL"
            add tls.sync.plain "$W_GOOD"
        fi
    done
done
stop_pid "$TLS_PID" 40

# ---------------------------------------------------------------------------------------------
# 4: outgoing drain

say "outgoing drain: $BENCH_DRAIN pending deliveries to the hello server"
expect "hookd message hook" 200 "" "${MSG_ARGS[@]}" "$MSG_URL"
wait_until 600 "every delivery so far" pending_is_zero
stop_hookd
queue_deliveries "$BENCH_DRAIN" out "$(date +%s%3N)"
start_hookd
start_rss_sampler
wait_until 600 "the drain" pending_is_zero
DRAIN_NS=$(($(now_ns) - HOOKD_STARTED_NS))
note_rss "outgoing drain" "$(stop_rss_sampler)"
DRAIN_OK=$(metric 'hookd_delivery_attempts_total{hook="out",outcome="succeeded"}')
DRAIN_RATE=$(awk -v n="$BENCH_DRAIN" -v ns="$DRAIN_NS" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
((DRAIN_OK == BENCH_DRAIN)) || WARNINGS+=("drain: $DRAIN_OK of $BENCH_DRAIN deliveries succeeded on the first attempt")

# ---------------------------------------------------------------------------------------------
# 4b: the same drain next to failing endpoints

say "outgoing drain next to $BENCH_FAILING failing endpoints"
free_port DEAD_PORT # nothing listens there: every attempt is refused at once
for ((i = 1; i <= BENCH_FAILING; i++)); do
    ctl create "down$i" --url "http://127.0.0.1:$DEAD_PORT/" --event test >/dev/null
done
stop_hookd
for ((i = 1; i <= BENCH_FAILING; i++)); do
    queue_deliveries 100 "down$i" "$(date +%s%3N)"
done
queue_deliveries "$BENCH_DRAIN" out "$(date +%s%3N)"
# An outage in progress: the failing hooks' attempts have been failing for a minute.
sqlite3 "$DB" "UPDATE hooks SET failing_since = $(($(date +%s%3N) - 60000)) WHERE name LIKE 'down%'"
start_hookd
out_drained() { [[ $(metric 'hookd_delivery_backlog{hook="out"}') == 0 ]]; }
wait_until 600 "the drain next to failing endpoints" out_drained
MIXED_NS=$(($(now_ns) - HOOKD_STARTED_NS))
MIXED_RATE=$(awk -v n="$BENCH_DRAIN" -v ns="$MIXED_NS" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
FAILING_TRIED=0
for ((i = 1; i <= BENCH_FAILING; i++)); do
    FAILING_TRIED=$((FAILING_TRIED + $(metric "hookd_delivery_attempts_total{hook=\"down$i\",outcome=\"retried\"}")))
done
for ((i = 1; i <= BENCH_FAILING; i++)); do ctl delete "down$i" --yes >/dev/null; done
wait_until 600 "the failing endpoints' deliveries to end" pending_is_zero

# ---------------------------------------------------------------------------------------------
# 4c: hookctl emit

say "hookctl emit: $BENCH_EMITS events, one process each, in a row and 8 at a time"
ctl edit out --event message.received --event 'bench.*' >/dev/null
t0=$(now_ns)
for ((i = 0; i < BENCH_EMITS; i++)); do ctl emit bench.tick --data "{\"i\": $i}" >/dev/null; done
EMIT_RATE=$(awk -v n="$BENCH_EMITS" -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
t0=$(now_ns)
seq "$BENCH_EMITS" | xargs -P 8 -I{} env HOOKD_SOCKET="$SOCK" "$HOOKCTL" emit bench.tick --data '{"i": {}}' >/dev/null
EMIT_PAR_RATE=$(awk -v n="$BENCH_EMITS" -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
wait_until 600 "the emitted events' deliveries" pending_is_zero
EMIT_SENT=$(metric 'hookd_delivery_attempts_total{hook="out",outcome="succeeded"}')
ctl edit out --event message.received >/dev/null

# ---------------------------------------------------------------------------------------------
# 5: hookctl --json list with many hooks

say "creating $BENCH_HOOKS hooks with hookctl apply"
seq -f 'bulk%06g' 1 "$BENCH_HOOKS" |
    awk '{ printf "[[hook]]\nname = \"%s\"\nkind = \"message\"\n\n", $1 }' >"$TMP/hooks.toml"
t0=$(now_ns)
ctl apply -f "$TMP/hooks.toml" --tokens-out "$TMP/tokens.txt" >/dev/null
APPLY_MS=$((($(now_ns) - t0) / 1000000))
HOOK_COUNT=$(ctl --json list | grep -c '"name"' || true)
((HOOK_COUNT >= BENCH_HOOKS)) || die "hookctl list shows $HOOK_COUNT hooks, expected at least $BENCH_HOOKS"
start_rss_sampler
for i in 1 2 3 4 5 6; do
    t0=$(now_ns)
    ctl --json list >/dev/null
    if ((i > 1)); then add list "$((($(now_ns) - t0) / 1000))"; fi # µs; the first run warms up
done
note_rss "list, $BENCH_HOOKS hooks" "$(stop_rss_sampler)"
LIST_BEST=$(tr ' ' '\n' <<<"${R[list]}" | sort -g | head -1)

# ---------------------------------------------------------------------------------------------
# 6: memory with a large pending backlog

if ((BENCH_PENDING > 0)); then
    say "memory with $BENCH_PENDING pending deliveries (receiver never answers)"
    start_helper HANG_PID "$HELLO" "$HANG_PORT" --hang
    wait_until 30 "the hanging receiver" bash -c "exec 3<>/dev/tcp/127.0.0.1/$HANG_PORT"
    ctl edit out --url "http://127.0.0.1:$HANG_PORT/" >/dev/null
    # Baseline: the same daemon and database, restarted without the backlog.
    stop_hookd
    start_hookd
    start_rss_sampler
    sleep "$BENCH_SETTLE"
    note_rss "restarted, no backlog" "$(stop_rss_sampler)"
    BASE_RSS=${RSS_AFTER["restarted, no backlog"]}
    BASE_HWM=$(hwm_kib "$HOOKD_PID")
    stop_hookd
    t0=$(now_ns)
    queue_deliveries "$BENCH_PENDING" out "$(date +%s%3N)"
    INSERT_S=$(awk -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.0f", ns / 1e9 }')
    start_hookd
    START_MS=$((($(now_ns) - HOOKD_STARTED_NS) / 1000000))
    start_rss_sampler
    sleep "$BENCH_SETTLE"
    note_rss "$BENCH_PENDING pending" "$(stop_rss_sampler)"
    PENDING_RSS=${RSS_AFTER["$BENCH_PENDING pending"]}
    PENDING_MAX=${RSS_MAX["$BENCH_PENDING pending"]}
    PENDING_SEEN=$(metric hookd_pending_deliveries)
    HWM=$(hwm_kib "$HOOKD_PID")
fi

# ---------------------------------------------------------------------------------------------
# 7: memory while 10 MB of output streams through a sync hook

say "streaming 10 MB of output through a sync --stream hook"
stop_hookd
STATE="$TMP/stream-state"
start_hookd
# 100 writes of 100,000 bytes, 20 ms apart, so the sampler sees the run in progress.
STREAM_URL=$(ctl --json create stream10 --stream --run \
    'for i in $(seq 100); do head -c 100000 /dev/zero | tr "\0" x; sleep 0.02; done' | url_of)
[[ $STREAM_URL == http://* ]] || die "hookctl create printed no URL for the stream hook"
stream_once() { # stream_once: one streamed call to its end; sets STREAM_BYTES, STREAM_RUN
    STREAM_BYTES=$(curl -fsS -N -D "$TMP/stream.headers" -o /dev/null -w '%{size_download}' "$STREAM_URL")
    STREAM_RUN=$(awk 'tolower($1) == "hookd-run-id:" {print $2}' "$TMP/stream.headers" | tr -d '\r')
    [[ -n $STREAM_RUN ]] || die "the streamed answer named no run"
    ctl runs wait "$STREAM_RUN" >/dev/null || die "the streamed run $STREAM_RUN did not succeed"
}
stream_once # warm-up: the first run's one-time allocations
sleep 1
STREAM_BASE=$(rss_kib "$HOOKD_PID")
start_rss_sampler
stream_once
note_rss "stream 10 MB" "$(stop_rss_sampler)"
STREAM_MAX=${RSS_MAX["stream 10 MB"]}
STREAM_MAX_OUT=$(sed -n 's/^max_output_bytes *= *//p' "$CONF")
STREAM_MAX_OUT=${STREAM_MAX_OUT:-1048576}

# ---------------------------------------------------------------------------------------------
# Report

LOAD_MAX=0
LOAD_MAX_PHASE=""
for p in "${RSS_PHASES[@]}"; do
    [[ $p == "$BENCH_PENDING pending" || $p == "restarted, no backlog" || $p == "stream 10 MB" ]] && continue
    v=${RSS_MAX[$p]}
    if ((v > LOAD_MAX)); then LOAD_MAX=$v LOAD_MAX_PHASE=$p; fi
done

sync_h=$(median "${R[sync.hookd]}")
sync_w=$(median "${R[sync.webhook]}")
sync_s=$(median "${R[sync.spawn]}")
msg_h=$(median "${R[msg.hookd]}")
msg_w=$(median "${R[msg.webhook]}")
msg_p99=$(median "${R[msg.hookd.p99]}")
nf_h=$(median "${R[nf.hookd]}")
cond_t=$(median "${R[cond.true]}")
cond_f=$(median "${R[cond.false]}")
nf_l=$(median "${R[nf.hello]}")
list_med=$(median "${R[list]}")
tls_nf=$(median "${R[tls.nf.tls]}")
tls_nf_plain=$(median "${R[tls.nf.plain]}")
tls_sync=$(median "${R[tls.sync.tls]}")
tls_sync_plain=$(median "${R[tls.sync.plain]}")
r_tls_nf=$(ratio "$tls_nf" "$tls_nf_plain")
r_tls_sync=$(ratio "$tls_sync" "$tls_sync_plain")

r_sync_w=$(ratio "$sync_h" "$sync_w")
r_sync_s=$(ratio "$sync_h" "$sync_s")
r_msg=$(ratio "$msg_h" "$msg_w")
r_nf=$(ratio "$nf_h" "$nf_l")
pct() { awk -v r="$1" 'BEGIN { if (r == "n/a") print r; else printf "%.0f %%", r * 100 }'; }

CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION=$("$HOOKCTL" --version 2>/dev/null | awk '{print $2}' || true)
WH_VERSION=$("$WEBHOOK" -version 2>/dev/null | awk '{print $3}' || true)

{
    echo "# hookd benchmark run"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $(nproc) CPUs, ${CPU:-unknown CPU}, kernel $(uname -r), $(awk '/^MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo)"
    echo "- hookd $VERSION (release build of the working tree at commit $COMMIT), adnanh/webhook $WH_VERSION, $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
    echo "- Loads: wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS, ${BENCH_SECONDS}s each, $BENCH_ROUNDS rounds alternating A/B (order flipped each round); medians of the rounds"
    echo "- hookd: HOOKD_LOG=warn, \`[scripts] max_concurrent = 64\`, sync hook \`--run 'echo hi' --raw-output --concurrency 64 --queue-limit 100000\`"
    echo
    echo "| Measurement | hookd | Reference | Ratio | Target | |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    echo "| Sync script \`echo hi\`, req/s | $(fmt "$sync_h") | webhook $(fmt "$sync_w") | ${r_sync_w}× | ≥ 1.2× webhook | $(met "$(check "$r_sync_w" '>=' 1.2)") |"
    echo "| Sync script vs. spawn limit | $(fmt "$sync_h") | spawns/s $(fmt "$sync_s") | $(pct "$r_sync_s") | ≥ 90 % | $(met "$(check "$r_sync_s" '>=' 0.9)") |"
    echo "| Message ack, req/s | $(fmt "$msg_h") | webhook fire-and-forget $(fmt "$msg_w") | ${r_msg}× | ≥ 2.0× | $(met "$(check "$r_msg" '>=' 2.0)") |"
    echo "| Message ack p99 at $BENCH_CONNECTIONS connections | $(fmt "$msg_p99" 2) ms | webhook $(fmt "$(median "${R[msg.webhook.p99]}")" 2) ms | | < 20 ms | $(met "$(check "$msg_p99" '<' 20)") |"
    echo "| Command hook \`--exec /bin/echo\` with \`--if\` true, req/s | $(fmt "$cond_t") | sync script $(fmt "$sync_h") | $(pct "$(ratio "$cond_t" "$sync_h")") | | |"
    echo "| Command hook with \`--if\` false (no run), req/s | $(fmt "$cond_f") | unknown token $(fmt "$nf_h") | $(pct "$(ratio "$cond_f" "$nf_h")") | ≥ 50 % | $(met "$(check "$(ratio "$cond_f" "$nf_h")" '>=' 0.5)") |"
    echo "| Unknown token (404), req/s | $(fmt "$nf_h") | hello-world $(fmt "$nf_l") | $(pct "$r_nf") | ≥ 50 % | $(met "$(check "$r_nf" '>=' 0.5)") |"
    echo "| Unknown token (404) over HTTPS, req/s | $(fmt "$tls_nf") | plain HTTP $(fmt "$tls_nf_plain") | $(pct "$r_tls_nf") | ≥ 70 % | $(met "$(check "$r_tls_nf" '>=' 0.7)") |"
    echo "| Sync script over HTTPS, req/s | $(fmt "$tls_sync") | plain HTTP $(fmt "$tls_sync_plain") | $(pct "$r_tls_sync") | ≥ 70 % | $(met "$(check "$r_tls_sync" '>=' 0.7)") |"
    echo "| Outgoing drain, deliveries/s | $(fmt "$DRAIN_RATE") | | | ≥ 5,000/s | $(met "$(check "$DRAIN_RATE" '>=' 5000)") |"
    echo "| Drain beside $BENCH_FAILING failing endpoints, deliveries/s | $(fmt "$MIXED_RATE") | alone $(fmt "$DRAIN_RATE") | $(pct "$(ratio "$MIXED_RATE" "$DRAIN_RATE")") | ≥ 80 % | $(met "$(check "$(ratio "$MIXED_RATE" "$DRAIN_RATE")" '>=' 0.8)") |"
    echo "| \`hookctl emit\`, events/s (one process each) | $(fmt "$EMIT_RATE") in a row, $(fmt "$EMIT_PAR_RATE") 8 at a time | | | | |"
    echo "| \`hookctl --json list\`, $BENCH_HOOKS hooks | $(fmt "$(awk -v u="$LIST_BEST" 'BEGIN {print u / 1000}')" 1) ms (median $(fmt "$(awk -v u="$list_med" 'BEGIN {print u / 1000}')" 1)) | | | < 150 ms | $(met "$(check "$LIST_BEST" '<' 150000)") |"
    echo "| RSS idle | $(mib "$IDLE_RSS") MiB | | | < 15 MiB | $(met "$(check "$IDLE_RSS" '<' 15360)") |"
    echo "| RSS max under load | $(mib "$LOAD_MAX") MiB ($LOAD_MAX_PHASE) | | | < 60 MiB | $(met "$(check "$LOAD_MAX" '<' 61440)") |"
    if ((BENCH_PENDING > 0)); then
        echo "| RSS with $BENCH_PENDING pending: peak (settled) | $(mib "$HWM") ($(mib "$PENDING_RSS")) MiB | without them $(mib "$BASE_HWM") ($(mib "$BASE_RSS")) MiB | +$(mib "$((HWM - BASE_HWM))") MiB | flat (peak ≤ +5 MiB) | $(met "$(check "$((HWM - BASE_HWM))" '<=' 5120)") |"
    fi
    echo "| Streaming 10 MB through a sync hook: RSS max (before) | $(mib "$STREAM_MAX") ($(mib "$STREAM_BASE")) MiB | | +$(mib "$((STREAM_MAX - STREAM_BASE))") MiB | ≤ +10 MiB | $(met "$(check "$((STREAM_MAX - STREAM_BASE))" '<=' 10240)") |"
    echo
    echo "hookd memory by phase (VmRSS from /proc/PID/status, sampled every 0.2 s):"
    echo
    echo "| Phase | max during | after |"
    echo "| --- | ---: | ---: |"
    for p in "${RSS_PHASES[@]}"; do
        echo "| $p | $(mib "${RSS_MAX[$p]}") MiB | $(mib "${RSS_AFTER[$p]}") MiB |"
    done
    echo
    echo "Per round (req/s unless noted):"
    echo
    echo "- sync: hookd ${R[sync.hookd]}; webhook ${R[sync.webhook]}; spawn limit ${R[sync.spawn]}"
    echo "- sync p99 ms: hookd ${R[sync.hookd.p99]}; webhook ${R[sync.webhook.p99]}"
    echo "- message: hookd ${R[msg.hookd]}; webhook fire-and-forget ${R[msg.webhook]}"
    echo "- message p99 ms: hookd ${R[msg.hookd.p99]}; webhook ${R[msg.webhook.p99]}"
    echo "- webhook fire-and-forget: seconds its accepted scripts kept running after the load: ${R[msg.webhook.backlog]}"
    echo "- hookd message: seconds its queued deliveries took to send after the load: ${R[msg.hookd.backlog]}"
    echo "- 404: hookd ${R[nf.hookd]}; hello-world ${R[nf.hello]}"
    echo "- HTTPS 404: ${R[tls.nf.tls]}; plain ${R[tls.nf.plain]}"
    echo "- HTTPS sync: ${R[tls.sync.tls]}; plain ${R[tls.sync.plain]}"
    echo "- list µs (runs 2-6): ${R[list]}"
    echo
    echo "Method notes:"
    echo
    echo "- Throughput counts 2xx answers only (404s for the unknown-token test); a 429 from a full queue would not count."
    echo "- Spawn limit: bench/spawnrate runs \`/bin/sh -c 'echo hi'\` with stdout captured from $(($(nproc) * 8)) threads for ${BENCH_SECONDS}s."
    echo "- webhook's fire-and-forget hook answers before its script runs; after each such load the next measurement waits until webhook has no child processes left."
    echo "- Message hook: an outgoing hook (\`out\`, to the hello server) subscribes to \`message.received\`, so each message is answered 200 only once its call record, event and delivery are committed in one transaction and flushed to disk (fsync, group commit); the deliveries are sent meanwhile, and after each hookd message load the next measurement waits until none is pending."
    echo "- HTTPS: a second hookd with the same settings and \`tls_cert\`/\`tls_key\` naming a self-signed P-256 certificate (rustls; TLS 1.3 with wrk's OpenSSL). wrk keeps its $BENCH_CONNECTIONS connections alive, so handshakes are few and the cost measured is mostly that of TLS records. Compared with the first hookd over plain HTTP, alternating, same rounds."
    echo "- Drain: with hookd stopped, $BENCH_DRAIN copies of a real \`message.received\` event and a due delivery each were inserted into its database (sqlite3); time from starting hookd until \`hookd_pending_deliveries\` reads 0 (polled every 0.1 s; includes start-up). $DRAIN_OK succeeded on the first attempt. Receiver: the hello server."
    echo "- Drain beside failing endpoints: the same insert of $BENCH_DRAIN deliveries to \`out\`, plus 100 each to $BENCH_FAILING outgoing hooks whose URL is a loopback port nobody listens on and whose attempts have been failing for a minute (\`failing_since\` set: an outage in progress); time from starting hookd until \`hookd_delivery_backlog{hook=\"out\"}\` reads 0. The failing hooks got $FAILING_TRIED attempts meanwhile (one probe at a time each)."
    echo "- Emit: \`hookctl emit bench.tick --data '{\"i\": N}'\` $BENCH_EMITS times in a row, then $BENCH_EMITS times 8 at a time (xargs -P 8); each exits once its event and its delivery (to \`out\`, subscribed to \`bench.*\`) are on disk. All $EMIT_SENT deliveries to \`out\` so far succeeded."
    echo "- List: \`hookctl apply\` created $BENCH_HOOKS message hooks in $APPLY_MS ms; \`hookctl --json list > /dev/null\` timed 6 times, the first discarded; best shown."
    if ((BENCH_PENDING > 0)); then
        echo "- Pending: $BENCH_PENDING events and due deliveries inserted the same way (${INSERT_S}s), to an outgoing hook whose receiver accepts connections and never answers (so at most \`max_in_flight\` are in flight and the rest stay pending). hookd answered \`hookctl status\` ${START_MS} ms after starting; after ${BENCH_SETTLE}s the peak since start (VmHWM) and the current VmRSS are read (largest VmRSS sampled after start-up: $(mib "$PENDING_MAX") MiB); \`hookd_pending_deliveries\` read $PENDING_SEEN. Baseline: the same daemon and database restarted just before the insert, read the same way."
    fi
    echo "- Stream: a fresh daemon and state directory; a sync \`--stream\` hook writes 10,000,000 bytes in 100 writes 20 ms apart; \`curl -N\` reads the answer to its end ($STREAM_BYTES bytes: the stream carries at most \`max_output_bytes\` = $STREAM_MAX_OUT and ends with the truncation marker, while hookd reads all 10 MB from the script), then \`hookctl runs wait\` until the run is recorded. VmRSS sampled every 0.2 s during the second such call, against its value before it (after a warm-up call)."
    if ((${#WARNINGS[@]})); then
        echo
        echo "Warnings:"
        echo
        for w in "${WARNINGS[@]}"; do echo "- $w"; done
    fi
} | tee "$REPORT.tmp"
mv "$REPORT.tmp" "$REPORT"
# The temporary hooks' tokens are dead with their daemon, but keep them out of files anyway.
sed -E 's/(hkd_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{4,}/\1…/g' "$WRK_LOG" >"$RAW_LOG"
say "report written to $REPORT, raw wrk output to $RAW_LOG"
