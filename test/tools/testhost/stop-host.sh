#!/usr/bin/env bash
# Stop mailfleet test hosts and remove everything start-host.sh made: the container (orderly
# poweroff, then SIGKILL after a grace period), the overlay mount and writable layer, the network
# namespace and veth, the cgroups; with the last host also the bridge and the apt relay.
# Usage: stop-host.sh NAME...   |   stop-host.sh --all   (also sweeps leftovers of crashed runs:
#        netns mf-*, veths mfv*, mounts under the var dir, cgroups, relays, the bridge)
#        --keep  keep the host's writable layer ($MAILFLEET_TESTHOST_VAR/NAME/upper), e.g. as a
#                --layer for later hosts
# No `set -e`: teardown goes on past anything that is already gone.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mf_need_root

keep=0 all=0 names=()
for a in "$@"; do
  case $a in --keep) keep=1 ;; --all) all=1 ;; -*) mf_die "unknown option $a" ;; *) names+=("$a") ;; esac
done
((all)) && for d in "$MF_RUN"/*/; do [[ -d $d ]] && names+=("$(basename "$d")"); done

is_nspawn() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "systemd-nspawn.*--machine=$2 "; }
netns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
kill_netns() {   # everything still in a netns of ours belongs to a test host
  local left; left=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  [[ -n ${left// } ]] && { mf_log "$1: killing leftover pids $left"; kill -KILL $left 2>/dev/null; sleep 0.3; }
  ip netns del "$1"
}

signal_one() {   # ask for an orderly poweroff; the waiting is done by stop_one
  local name=$1 pid=''
  [[ -s $MF_RUN/$name/pid ]] && pid=$(cat "$MF_RUN/$name/pid")
  [[ -n $pid ]] && is_nspawn "$pid" "$name" && kill -TERM "$pid"   # nspawn sends SIGRTMIN+3 to PID 1
  return 0
}

stop_one() {
  local name=$1 st=$MF_RUN/$1 inst=$MF_VAR/$1 pid='' index='' i
  [[ -s $st/pid ]] && pid=$(cat "$st/pid")
  [[ -s $st/index ]] && index=$(cat "$st/index")
  if [[ -n $pid ]] && is_nspawn "$pid" "$name"; then
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      mf_log "$name: no clean poweroff in 20s, killing"
      pkill -KILL -P "$pid" 2>/dev/null    # the container's PID 1: takes its whole PID namespace
      kill -KILL "$pid" 2>/dev/null
      sleep 0.5
    fi
  fi
  # SIGKILL on nspawn alone would leave the container running: clear the netns by its pids
  netns_exists "$MF_NETNS_PREFIX$name" && kill_netns "$MF_NETNS_PREFIX$name"
  # nspawn exits once its container is gone; its cgroup can only be removed after that
  if [[ -n $pid ]] && is_nspawn "$pid" "$name"; then
    for ((i = 0; i < 25; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
  fi
  [[ -n $index ]] && ip link del "$MF_VETH_PREFIX$index" 2>/dev/null
  if mountpoint -q "$inst/root" 2>/dev/null; then
    umount "$inst/root" 2>/dev/null || { sleep 1; umount "$inst/root" 2>/dev/null; } || umount -l "$inst/root"
  fi
  mf_rm_cgroups "$name"
  if ((keep)); then rm -rf --one-file-system "$inst/work" "$inst/root"
  else rm -rf --one-file-system "$inst"; fi
  rm -rf "$st"
  mf_log "host $name stopped"
}

mkdir -p "$MF_RUN"
exec 9>"$MF_RUN/.lock"; flock 9
for n in "${names[@]}"; do signal_one "$n"; done   # all hosts power off in parallel
for n in "${names[@]}"; do stop_one "$n"; done

# last host gone (or --all): relay, bridge, strays from crashed runs
if ((all)) || ! compgen -G "$MF_RUN/*/index" >/dev/null; then
  if [[ -s $MF_RUN/relay.pid ]]; then
    rp=$(cat "$MF_RUN/relay.pid")
    mf_is_relay "$rp" && kill -- "-$rp" 2>/dev/null   # its process group: the relay and its forks
    rm -f "$MF_RUN/relay.pid"
  fi
  if ((all)); then
    for n in $(ip netns list | awk '{print $1}' | grep "^$MF_NETNS_PREFIX"); do
      mf_log "stray netns $n"; kill_netns "$n"
    done
    for v in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${MF_VETH_PREFIX}[0-9]+$"); do
      mf_log "stray veth $v"; ip link del "$v" 2>/dev/null
    done
    # a relay whose pid file is gone (or started for other subnets): found by its argv[0]
    for rp in $(mf_relay_pids); do mf_log "stray relay $rp"; kill "$rp" 2>/dev/null; done
    # whatever is left in our cgroups (an nspawn whose state was lost) is ours: let it exit, then kill it
    for ((i = 0; i < 25; i++)); do [[ -z $(mf_cgroup_pids) ]] && break; sleep 0.2; done
    left=$(mf_cgroup_pids | tr '\n' ' ')
    # shellcheck disable=SC2086
    [[ -n ${left// } ]] && { mf_log "killing leftover pids in our cgroups: $left"; kill -KILL $left 2>/dev/null; sleep 0.5; }
    while read -r m; do
      mf_log "stray mount $m"; umount "$m" 2>/dev/null || umount -l "$m"
    done < <(awk -v v="$MF_VAR/" 'index($2, v) == 1 {print $2}' /proc/mounts | sort -r)
    for d in $(mf_cgroup_roots); do
      [[ -d $d ]] && { find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; [[ -d $d ]] && mf_log "cgroup $d still in use"; }
    done
    # layers of crashed hosts still have work/; a layer kept with --keep has only upper/
    for d in "$MF_VAR"/*/; do [[ -d $d/work ]] && { mf_log "stray layer $d"; rm -rf --one-file-system "$d"; }; done
  fi
  ip link show "$MF_BRIDGE" >/dev/null 2>&1 && ip link del "$MF_BRIDGE"
  rmdir "$MF_VAR" 2>/dev/null
  [[ $MF_VAR == /var/lib/mailfleet/hosts ]] && rmdir /var/lib/mailfleet 2>/dev/null
fi
exit 0
