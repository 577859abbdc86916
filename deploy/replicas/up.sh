#!/usr/bin/env bash
# Start N Streamlit replicas of CNN Playground on loopback ports and one HAProxy in front of them,
# for a trial on one machine. Stop everything with down.sh (same REPLICAS_STATE_DIR).
#
#   deploy/replicas/up.sh [N] [--ray]      N replicas (default 2); --ray: a local Ray head too
#
# Settings (environment variables, defaults in brackets):
#   REPLICAS_PROXY_PORT   the proxy's port, the one students open [8500]
#   REPLICAS_FIRST_PORT   the first replica's port; the others follow [8601]
#   REPLICAS_BIND         the proxy's address [127.0.0.1]; the replicas always listen on 127.0.0.1
#   REPLICAS_STATE_DIR    pid files, logs, the generated haproxy.cfg [/tmp/cnn-playground-replicas]
#   REPLICAS_RAY_PORT     the Ray head's port with --ray [6380]
#   STREAMLIT, HAPROXY, RAY   the commands [streamlit, haproxy, ray: from PATH]
#   PLAYGROUND_*          passed to every replica as they are; all replicas share one
#                         PLAYGROUND_RUNS_DIR (the settings' default unless set)
set -Eeuo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
replicas=2
ray=0
for arg in "$@"; do
    case "$arg" in
        --ray) ray=1 ;;
        ''|*[!0-9]*) echo "usage: $0 [N] [--ray]" >&2; exit 2 ;;
        *) replicas="$arg" ;;
    esac
done
if (( replicas < 1 || replicas > 32 )); then
    echo "N must be from 1 to 32, got $replicas" >&2
    exit 2
fi

proxy_port="${REPLICAS_PROXY_PORT:-8500}"
first_port="${REPLICAS_FIRST_PORT:-8601}"
bind="${REPLICAS_BIND:-127.0.0.1}"
state="${REPLICAS_STATE_DIR:-/tmp/cnn-playground-replicas}"
ray_port="${REPLICAS_RAY_PORT:-6380}"
streamlit="${STREAMLIT:-streamlit}"
haproxy="${HAPROXY:-haproxy}"
ray_cmd="${RAY:-ray}"

needed=("$streamlit" "$haproxy" curl)
if (( ray )); then
    needed+=("$ray_cmd")
fi
for tool in "${needed[@]}"; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found: apt-get install haproxy curl; pip install -r requirements.txt (streamlit, ray)" >&2
        exit 1
    fi
done
mkdir -p "$state"
export REPLICAS_STATE_DIR="$state"  # for down.sh, if something fails below
if compgen -G "$state/*.pid" >/dev/null; then
    echo "$state already holds pid files: run down.sh first (or choose another REPLICAS_STATE_DIR)" >&2
    exit 1
fi
# Whatever fails from here on, or Ctrl+C: stop what was started.
give_up() {
    trap - ERR INT TERM
    echo "up.sh failed or was interrupted: stopping what it started" >&2
    "$here/down.sh" >&2
    exit 1
}
trap give_up ERR INT TERM

wait_healthy() {  # URL SECONDS: until URL answers "ok"
    local deadline=$((SECONDS + $2))
    until [[ "$(curl -fsS --max-time 2 "$1" 2>/dev/null)" == ok ]]; do
        if (( SECONDS >= deadline )); then
            echo "no answer from $1 after $2 s" >&2
            return 1
        fi
        sleep 0.5
    done
}

if (( ray )); then
    # A short folder: Ray's sockets live under it, and a socket's path may not exceed ~100 bytes.
    ray_tmp="$(mktemp -d /tmp/rayXXXXXX)"
    echo "$ray_tmp" >"$state/ray.tmpdir"
    # setsid: `ray start` leads a new process group, which the head's daemons keep after it returns;
    # down.sh stops that group (never `ray stop`, which stops every Ray cluster of the machine).
    RAY_TMPDIR="$ray_tmp" setsid "$ray_cmd" start --head --port="$ray_port" --node-ip-address=127.0.0.1 \
        --num-cpus=2 --include-dashboard=false --disable-usage-stats </dev/null >"$state/ray.log" 2>&1 &
    echo $! >"$state/ray.pgid"
    if ! wait "$(cat "$state/ray.pgid")"; then
        echo "ray start failed; its output: $state/ray.log" >&2
        false
    fi
    export PLAYGROUND_RAY_ADDRESS="127.0.0.1:$ray_port"
fi

# One secret for every replica: Streamlit signs cookies with it (its session middleware's, st.login's
# user cookie), and a student moved to another replica must not lose them.
if [[ -z "${STREAMLIT_SERVER_COOKIE_SECRET:-}" ]]; then
    STREAMLIT_SERVER_COOKIE_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
fi
export STREAMLIT_SERVER_COOKIE_SECRET

servers=""
for ((i = 1; i <= replicas; i++)); do
    port=$((first_port + i - 1))
    # setsid: each replica leads its own process group (its training processes join it), so down.sh
    # stops the whole group. The command is the one the README and the browser tests use.
    (cd "$root" && exec setsid "$streamlit" run serve.py --server.headless=true --server.port="$port" \
        --server.address=127.0.0.1 --browser.gatherUsageStats=false --server.fileWatcherType=none \
        </dev/null >"$state/replica-r$i.log" 2>&1) &
    echo $! >"$state/replica-r$i.pid"
    servers+="    server r$i 127.0.0.1:$port cookie r$i"$'\n'
done
for ((i = 1; i <= replicas; i++)); do
    wait_healthy "http://127.0.0.1:$((first_port + i - 1))/_stcore/health" 120
done

sed -e "s/@BIND@/$bind/" -e "s/@PROXY_PORT@/$proxy_port/" "$here/haproxy.cfg.in" \
    | awk -v servers="$servers" '/^@SERVERS@$/ { printf "%s", servers; next } { print }' >"$state/haproxy.cfg"
"$haproxy" -c -q -f "$state/haproxy.cfg"
setsid "$haproxy" -db -f "$state/haproxy.cfg" </dev/null >"$state/haproxy.log" 2>&1 &
echo $! >"$state/haproxy.pid"
wait_healthy "http://$bind:$proxy_port/_stcore/health" 30

echo "CNN Playground: $replicas replica(s) behind HAProxy at http://$bind:$proxy_port"
echo "  runs folder: ${PLAYGROUND_RUNS_DIR:-the default of the README Settings table}"
if (( ray )); then
    echo "  Ray head:    $PLAYGROUND_RAY_ADDRESS (PLAYGROUND_RAY_ADDRESS of every replica)"
fi
echo "  state:       $state (logs, pid files); stop with: REPLICAS_STATE_DIR=$state $here/down.sh"
