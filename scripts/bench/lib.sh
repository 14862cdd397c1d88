# lib.sh: shared helpers of the benchmark scripts (sourced, not run). Everything binds to
# 127.0.0.1, every server started here is stopped by the EXIT trap, every wait is bounded.
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/../.." && pwd)
BUILD=${BENCH_BUILD:-$REPO/build-benchrel}
BIN=$BUILD/bench
HK=$BUILD/hallkeeper
BENCH_TMP=$(mktemp -d /tmp/hk-bench.XXXXXX)
BENCH_PIDS=()

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do bench_stop "$p"; done
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Displays and kiosks need many descriptors, on both sides.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

bench_build() {
    if [ -z "${BENCH_NO_BUILD:-}" ]; then
        # the tree is shared with people mid-edit: if it does not build right now, measure the
        # last good binary and say so rather than measure nothing
        if ! { cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
               cmake --build "$BUILD" -j2 --target hallkeeper; } >"$BENCH_TMP/build.log" 2>&1; then
            [ -x "$HK" ] || { tail -20 "$BENCH_TMP/build.log" >&2; return 1; }
            echo "bench: WARNING: the tree does not build now; using the existing $HK ($(date -r "$HK" '+%F %T'))" >&2
        fi
        make -s -C "$BENCH_SRC" OUT="$BIN" >/dev/null
    fi
    [ -x "$HK" ] && [ -x "$BIN/fanout" ] && [ -x "$BIN/tickets" ] && [ -x "$BIN/lws_floor" ]
}

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_wait_ready LOG PID: waits up to 20 s for "ready on port" in LOG.
bench_wait_ready() {
    local i
    for i in $(seq 200); do
        grep -q "ready on port" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "bench: server exited:" >&2; tail -5 "$1" >&2; return 1; }
        sleep 0.1
    done
    echo "bench: server not ready after 20 s" >&2
    return 1
}

# bench_start_daemon PORT [CONFIG]: a fresh hall (the built-in demo hall, or CONFIG) with its own
# data dir; sets HK_PID, HK_LOG, HK_DATA (the embedded Redis listens on $HK_DATA/redis.sock).
bench_start_daemon() {
    local data; data=$(mktemp -d "$BENCH_TMP/hk.XXXXXX")
    local cfg=(); if [ -n "${2:-}" ]; then cfg=(--config "$2"); fi
    cp "$BENCH_SRC/../../tests/demo-tokens" "$data/demo-tokens"   # the tokens the load programs use
    "$HK" --data "$data" "${cfg[@]}" --listen "127.0.0.1:$1" >"$data.out" 2>"$data.log" &
    HK_PID=$!
    BENCH_PIDS+=("$HK_PID")
    HK_LOG=$data.log
    HK_DATA=$data
    bench_wait_ready "$HK_LOG" "$HK_PID"
}

# bench_start_floor PORT [ARGS...]: sets FLOOR_PID.
bench_start_floor() {
    local port=$1; shift
    "$BIN/lws_floor" --listen "127.0.0.1:$port" --seconds 900 "$@" 2>"$BENCH_TMP/floor.$port.log" &
    FLOOR_PID=$!
    BENCH_PIDS+=("$FLOOR_PID")
    bench_wait_ready "$BENCH_TMP/floor.$port.log" "$FLOOR_PID"
}

# bench_stop PID: SIGTERM, up to 10 s, then SIGKILL. Only for PIDs this script started.
bench_stop() {
    local i
    kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

bench_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# bench_result KEY VALUE: a RESULT line on stdout, and in $BENCH_RESULTS when run collects them.
bench_result() {
    echo "RESULT $1 $2"
    if [ -n "${BENCH_RESULTS:-}" ]; then echo "$1 $2" >>"$BENCH_RESULTS"; fi
}

# bench_collect: copies RESULT lines of a program's output (stdin) into $BENCH_RESULTS, echoes all.
bench_collect() {
    local line
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
            "RESULT "*) if [ -n "${BENCH_RESULTS:-}" ]; then echo "${line#RESULT }" >>"$BENCH_RESULTS"; fi ;;
        esac
    done
}

# bench_perf PID SECONDS NAME: records a call-graph profile of PID and writes the top of the
# report to $BIN/NAME.perf.txt (skipped when perf is missing or BENCH_PERF is unset).
bench_perf() {
    [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null || return 0
    perf record -q -g -p "$1" -o "$BIN/$3.perf.data" -- sleep "$2" >/dev/null 2>&1 || return 0
    perf report -i "$BIN/$3.perf.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null \
        | grep -v '^$' | head -150 >"$BIN/$3.perf.txt" || true
    echo "bench: profile of $3 in $BIN/$3.perf.txt" >&2
}
