#!/usr/bin/env bash
# Stop everything up.sh started (from the pid files in its state folder): the proxy, each replica
# with its process group (its forkserver and training processes), and the Ray head of --ray.
# Leaves no process behind; safe to run twice.
#
#   REPLICAS_STATE_DIR=<the same as up.sh's> deploy/replicas/down.sh
set -euo pipefail

state="${REPLICAS_STATE_DIR:-/tmp/cnn-playground-replicas}"
[[ -d "$state" ]] || exit 0

group_alive() {  # PGID: whether any process of the group lives (a zombie has ended)
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_group() {  # PGID [SECONDS]: SIGTERM to the group, SIGKILL to what is left after SECONDS (15)
    local pgid="$1"
    if ! kill -TERM -- "-$pgid" 2>/dev/null; then
        kill -TERM "$pgid" 2>/dev/null || true  # not a group leader after all: the process alone
        return 0
    fi
    for _ in $(seq "$(( ${2:-15} * 10 ))"); do
        group_alive "$pgid" || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
}

# The proxy first (no new requests), then the replicas: each leads its own group (up.sh used setsid).
for pidfile in "$state/haproxy.pid" "$state"/replica-*.pid; do
    [[ -f "$pidfile" ]] || continue
    stop_group "$(cat "$pidfile")"
    rm -f "$pidfile"
done

# The Ray head: its process group (up.sh started `ray start` with setsid), then any process still
# naming its temporary folder. Never `ray stop --force`: it stops every Ray process of the machine,
# other people's clusters too.
if [[ -f "$state/ray.pgid" ]]; then
    stop_group "$(cat "$state/ray.pgid")" 5  # its daemons take their time; nothing of them is worth waiting for
    rm -f "$state/ray.pgid"
fi
if [[ -f "$state/ray.tmpdir" ]]; then
    ray_tmp="$(cat "$state/ray.tmpdir")"
    [[ "$ray_tmp" == /*/* && -d "$ray_tmp" ]] || ray_tmp=""  # an empty name would match every process
    for signal in ${ray_tmp:+TERM KILL}; do
        pids=()
        for cmdline in /proc/[0-9]*/cmdline; do
            if tr '\0' ' ' 2>/dev/null <"$cmdline" | grep -qF -- "$ray_tmp/"; then
                pid="${cmdline#/proc/}"
                pids+=("${pid%/cmdline}")
            fi
        done
        (( ${#pids[@]} )) || break
        kill "-$signal" "${pids[@]}" 2>/dev/null || true
        sleep 3
    done
    [[ -z "$ray_tmp" ]] || rm -rf -- "$ray_tmp"
    rm -f "$state/ray.tmpdir"
fi
echo "stopped: nothing of $state runs any more"
