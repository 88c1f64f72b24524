#!/usr/bin/env bash
# A/B of two hookd builds on the loads where they differ most, in one run, rounds interleaved:
#
#   bench/ab.sh BEFORE_BIN_DIR AFTER_BIN_DIR     # each holds a release hookd and hookctl
#   AB_ROUNDS=5 AB_SECONDS=4 bench/ab.sh …
#
# Loads (wrk -t2 -c32 against 127.0.0.1 only), each round running them on both builds, the
# order flipping every round, so that a host whose speed drifts (shared machines do) moves
# both sides alike:
#   - message ack: POST {"content":"hi"} to a message hook whose event has one delivery to an
#     outgoing hook (the hello server), as in bench/run.sh §2; webhook's fire-and-forget hook
#     in the same rounds as the reference. After every load the next waits until the
#     deliveries are sent (hookd) or the scripts have run (webhook) and the machine is idle.
#   - a command hook whose `--if` is false, against the unknown-token 404 of the same daemon.
#   - the sync script hook of bench/run.sh (`echo hi`, --concurrency 64), builds only.
# Prints the rounds and a table of medians with each build's ratio to its reference.
# Needs wrk, curl and webhook (bench/run.sh installs them) and bench/hello (built here).

set -euo pipefail

AB_ROUNDS=${AB_ROUNDS:-5}
AB_SECONDS=${AB_SECONDS:-4}
WEBHOOK=${WEBHOOK:-/usr/bin/webhook}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { printf 'ab: %s\n' "$*" >&2; exit 1; }
(($# == 2)) || die "usage: bench/ab.sh BEFORE_BIN_DIR AFTER_BIN_DIR"
for d in "$1" "$2"; do
    [[ -x $d/hookd && -x $d/hookctl ]] || die "$d holds no hookd and hookctl"
done
for t in wrk curl "$WEBHOOK"; do command -v "$t" >/dev/null || die "$t not found"; done
[[ $AB_ROUNDS =~ ^[1-9][0-9]*$ && $AB_SECONDS =~ ^[1-9][0-9]*$ ]] ||
    die "AB_ROUNDS and AB_SECONDS must be whole numbers of at least 1"

cargo build --release --quiet --manifest-path "$BENCH_DIR/hello/Cargo.toml" \
    --target-dir "$BENCH_DIR/hello/target"
HELLO="$BENCH_DIR/hello/target/release/hello"

TMP=$(mktemp -d /tmp/hookd-ab.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

port() { # a free loopback port
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# Waits until the machine has been idle (under 30 % of one CPU) for two half seconds in a row.
idle() {
    local a b n=0
    for _ in $(seq 600); do
        a=$(busy_ticks); sleep 0.5; b=$(busy_ticks)
        if ((b - a < 15)); then n=$((n + 1)); ((n >= 2)) && return; else n=0; fi
    done
}
load() { # load URL [wrk args]: prints "req/s p99-in-ms"
    local url=$1 out
    shift
    out=$(wrk -t2 -c32 -d"${AB_SECONDS}s" --latency "$@" "$url")
    awk '/^Requests\/sec:/ {r = $2}
        $1 == "99%" { p = $2
            if (p ~ /us$/) { sub(/us$/, "", p); p /= 1000 }
            else if (p ~ /ms$/) { sub(/ms$/, "", p) }
            else if (p ~ /s$/) { sub(/s$/, "", p); p *= 1000 } }
        END {printf "%.0f %.2f\n", r, p}' <<<"$out"
}

HELLO_PORT=$(port)
"$HELLO" "$HELLO_PORT" & PIDS+=($!)
printf '#!/bin/sh\necho hi\n' >"$TMP/hi.sh"
chmod 755 "$TMP/hi.sh"
printf '[{"id": "ff", "execute-command": "%s"}]\n' "$TMP/hi.sh" >"$TMP/hooks.json"
WH_PORT=$(port)
"$WEBHOOK" -hooks "$TMP/hooks.json" -ip 127.0.0.1 -port "$WH_PORT" >"$TMP/webhook.log" 2>&1 &
PIDS+=($!)
printf 'wrk.headers["X-Go"] = "no"\n' >"$TMP/false.lua"

declare -A MSG COND SYNC NOPE METRICS
for name in before after; do
    dir=$1
    [[ $name == after ]] && dir=$2
    mkdir -p "$TMP/$name"
    http=$(port) metrics=$(port)
    printf 'metrics_listen = "127.0.0.1:%s"\n[scripts]\nmax_concurrent = 64\n' "$metrics" >"$TMP/$name/config.toml"
    HOOKD_LOG=warn "$dir/hookd" --listen "127.0.0.1:$http" --socket "$TMP/$name/sock" \
        --state-dir "$TMP/$name/state" --config "$TMP/$name/config.toml" >"$TMP/$name/log" 2>&1 &
    PIDS+=($!)
    ctl() { HOOKD_SOCKET="$TMP/$name/sock" "$dir/hookctl" "$@"; }
    for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
    url_of() { sed -n 's/.*"url": *"\([^"]*\)".*/\1/p'; }
    MSG[$name]=$(ctl --json create m --message | url_of)
    ctl create out --url "http://127.0.0.1:$HELLO_PORT/" --event message.received >/dev/null
    COND[$name]=$(ctl --json create c --exec /bin/echo --arg string:hi --output stdout \
        --if "header('X-Go') == 'yes'" | url_of)
    SYNC[$name]=$(ctl --json create s --run 'echo hi' --raw-output --concurrency 64 \
        --queue-limit 100000 | url_of)
    NOPE[$name]="http://127.0.0.1:$http/webhook/hkd_nope"
    METRICS[$name]=$metrics
    [[ ${MSG[$name]} == http://* && ${COND[$name]} == http://* && ${SYNC[$name]} == http://* ]] ||
        die "$name: no hook URL"
done
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$WH_PORT/hooks/ff" && break; sleep 0.1; done
pending() { curl -s "http://127.0.0.1:${METRICS[$1]}/metrics" | awk '/^hookd_pending_deliveries/ {print $2}'; }

declare -A R=()
add() { R[$1]="${R[$1]:-}${R[$1]:+ }$2"; }
median() { tr ' ' '\n' <<<"$1" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

idle
for round in $(seq "$AB_ROUNDS"); do
    order=(before after webhook)
    ((round % 2)) || order=(webhook after before)
    for who in "${order[@]}"; do
        if [[ $who == webhook ]]; then
            read -r rps p99 < <(load "http://127.0.0.1:$WH_PORT/hooks/ff" -s "$BENCH_DIR/message.lua")
            add msg.webhook "$rps"
        else
            read -r rps p99 < <(load "${MSG[$who]}" -s "$BENCH_DIR/message.lua")
            add "msg.$who" "$rps"
            add "p99.$who" "$p99"
            for _ in $(seq 600); do [[ $(pending "$who") == 0 ]] && break; sleep 0.1; done
        fi
        idle
        echo "round $round: $who message ack $rps req/s, p99 $p99 ms" >&2
    done
    for who in before after; do
        read -r f _ < <(load "${COND[$who]}" -s "$TMP/false.lua")
        read -r n _ < <(load "${NOPE[$who]}")
        add "cond.$who" "$f"
        add "nope.$who" "$n"
        idle
        read -r y _ < <(load "${SYNC[$who]}")
        add "sync.$who" "$y"
        echo "round $round: $who --if false $f req/s, 404 $n req/s, sync script $y req/s" >&2
        idle
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
wh=$(median "${R[msg.webhook]}")
echo "| Measurement (medians of $AB_ROUNDS rounds) | before | after | after / before |"
echo "| --- | ---: | ---: | ---: |"
mb=$(median "${R[msg.before]}") ma=$(median "${R[msg.after]}")
echo "| Message ack, req/s (webhook fire-and-forget $wh) | $mb ($(ratio "$mb" "$wh")×) | $ma ($(ratio "$ma" "$wh")×) | $(ratio "$ma" "$mb") |"
echo "| Message ack p99 | $(median "${R[p99.before]}") ms | $(median "${R[p99.after]}") ms | |"
cb=$(median "${R[cond.before]}") ca=$(median "${R[cond.after]}")
nb=$(median "${R[nope.before]}") na=$(median "${R[nope.after]}")
echo "| \`--if\` false, req/s (share of the 404 rate) | $cb ($(ratio "$cb" "$nb")) | $ca ($(ratio "$ca" "$na")) | $(ratio "$ca" "$cb") |"
echo "| Unknown token (404), req/s | $nb | $na | $(ratio "$na" "$nb") |"
sb=$(median "${R[sync.before]}") sa=$(median "${R[sync.after]}")
echo "| Sync script \`echo hi\`, req/s | $sb | $sa | $(ratio "$sa" "$sb") |"
echo
echo "Rounds: message ack before ${R[msg.before]}; after ${R[msg.after]}; webhook ${R[msg.webhook]};"
echo "\`--if\` false before ${R[cond.before]}; after ${R[cond.after]}; 404 before ${R[nope.before]}; after ${R[nope.after]};"
echo "sync script before ${R[sync.before]}; after ${R[sync.after]}."
