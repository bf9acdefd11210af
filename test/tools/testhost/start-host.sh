#!/usr/bin/env bash
# Boot one mailfleet test host: a Debian 12 system container (systemd as PID 1) with its own
# IPv4/IPv6 address on a private bridge, sshd with freshly generated host keys, root login by a
# fresh key.
# Usage: start-host.sh NAME [--index N] [--fqdn FQDN] [--dns IP] [--layer DIR] [--timeout SEC]
#   NAME   short name, [a-z][a-z0-9-]{0,15}: machine, netns (mf-NAME) and state dir name
#   --index N   address suffix (2..254): IPv4 $MAILFLEET_TESTHOST_NET4.N, IPv6 $MAILFLEET_TESTHOST_NET6::N
#               (default: the lowest free one, from 10 up)
#   --fqdn  FQDN in /etc/hosts for the host's own addresses; its first label is the hostname
#               (default NAME.test)
#   --dns IP    nameserver for the host's /etc/resolv.conf (default 127.0.0.1 = none)
#   --layer DIR extra read-only layer over the base tree, e.g. the writable layer of an earlier
#               host kept with `stop-host.sh --keep NAME` (a host with Postfix already installed)
#   --timeout SEC  how long to wait for boot (default 60)
# Prints the path of host.json: name, fqdn, ipv4, ipv6, gateway4, gateway6, sshUser, sshPort,
# sshKey, knownHosts, hostKey, pid, systemState, bootSeconds.
# Runs make-host.sh first if the cache is empty.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mf_need_root

usage="usage: start-host.sh NAME [--index N] [--fqdn FQDN] [--dns IP] [--layer DIR] [--timeout SEC]"
name=${1:-}; shift || true
[[ $name =~ ^[a-z][a-z0-9-]{0,15}$ ]] || mf_die "$usage"
index='' fqdn=$name.test dns=127.0.0.1 timeout=60 layer=''
while (($#)); do
  (($# >= 2)) || mf_die "$usage"
  case $1 in
    --index) index=$2 ;;
    --fqdn) fqdn=$2 ;;
    --dns) dns=$2 ;;
    --timeout) timeout=$2 ;;
    --layer) layer=$(readlink -f "$2"); [[ -d $layer ]] || mf_die "no layer $2" ;;
    *) mf_die "unknown option $1; $usage" ;;
  esac
  shift 2
done
# these values go into files and JSON unquoted: keep them to plain names and addresses
[[ $fqdn =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$ ]] || mf_die "bad --fqdn $fqdn"
[[ $dns =~ ^[0-9a-fA-F.:]+$ ]] || mf_die "bad --dns $dns"
[[ $timeout =~ ^[0-9]+$ ]] || mf_die "bad --timeout $timeout"

rootfs=$(mf_rootfs)
[[ -n $rootfs && -e $rootfs/.complete ]] || rootfs=$("$here/make-host.sh" | tail -n1)
# shellcheck disable=SC2119  # no extra packages here
mf_host_tools
# the archive the tree's sources.list names; its host is mapped to the bridge address below
read -r apt_host apt_port 2>/dev/null <"$rootfs/.mailfleet-apt-relay" || { apt_host=deb.debian.org apt_port=80; }

t0=$(date +%s.%N)
mkdir -p "$MF_RUN" "$MF_VAR"
exec 9>"$MF_RUN/.lock"; flock 9
st=$MF_RUN/$name
if [[ -e $st ]]; then
  mf_log "host $name exists (stale?), stopping it first"
  flock -u 9; "$here/stop-host.sh" "$name" || true; flock 9
fi

# --- address ---
if [[ -z $index ]]; then
  used=" $(cat "$MF_RUN"/*/index 2>/dev/null | tr '\n' ' ' || true) "
  for ((i = 10; i < 255; i++)); do [[ $used == *" $i "* ]] || { index=$i; break; }; done
fi
[[ $index =~ ^[0-9]+$ && $index -ge 2 && $index -le 254 ]] || mf_die "bad or no free index"
grep -qx "$index" "$MF_RUN"/*/index 2>/dev/null && mf_die "index $index already in use"
ip4=$MF_NET4.$index ip6=$MF_NET6::$index
ns=$MF_NETNS_PREFIX$name veth=$MF_VETH_PREFIX$index

# --- bridge + apt relay (shared by all hosts; created by the first one) ---
if ! ip link show "$MF_BRIDGE" >/dev/null 2>&1; then
  # another network on this machine may already use the subnets: never shadow it
  r4=$(ip -4 route get "$MF_GW4" 2>/dev/null || true) r6=$(ip -6 route get "$MF_GW6" 2>/dev/null || true)
  if [[ $r4 == local* || ( -n $r4 && $r4 != *" via "* ) || $r6 == local* || ( -n $r6 && $r6 != *" via "* ) ]]; then
    mf_die "subnet already in use: $MF_NET4.0/24 or $MF_NET6::/64 ($r4 / $r6); set MAILFLEET_TESTHOST_NET4 / MAILFLEET_TESTHOST_NET6"
  fi
  ip link add "$MF_BRIDGE" type bridge stp_state 0 forward_delay 0
  ip addr add "$MF_GW4/24" dev "$MF_BRIDGE"
  ip -6 addr add "$MF_GW6/64" dev "$MF_BRIDGE" nodad
  ip link set "$MF_BRIDGE" up
fi
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 0 ]] || mf_log "warning: net.ipv4.ip_forward=1 here; the hosts still get no default route"
if ! { [[ -s $MF_RUN/relay.pid ]] && mf_is_relay "$(cat "$MF_RUN/relay.pid")"; }; then
  # the archive's name resolves here, in the root namespace; the hosts only see the bridge address
  # shellcheck disable=SC2016
  setsid bash -c 'exec -a "$0" socat "$@"' "$MF_RELAY_ARGV0" \
    "TCP-LISTEN:$apt_port,bind=$MF_GW4,fork,reuseaddr" "TCP:$apt_host:$apt_port" </dev/null >/dev/null 2>&1 9>&- &
  echo $! >"$MF_RUN/relay.pid"
fi

mkdir -p "$st"
echo "$index" >"$st/index"
up=0   # on any failure from here on, undo everything this host got
trap '((up)) || { exec 9>&-; "$here/stop-host.sh" "$name" >/dev/null 2>&1; }' EXIT

# --- root filesystem: overlay of the cached tree ---
inst=$MF_VAR/$name
rm -rf --one-file-system "$inst"
mkdir -p "$inst/upper" "$inst/work" "$inst/root"
mount -t overlay "mailfleet-$name" -o "lowerdir=${layer:+$layer:}$rootfs,upperdir=$inst/upper,workdir=$inst/work" "$inst/root"
root=$inst/root

# --- identity: hostname, /etc/hosts, machine-id, ssh keys ---
short=${fqdn%%.*}
echo "$short" >"$root/etc/hostname"
{
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  printf '%s\t%s %s\n' "$ip4" "$fqdn" "$short" "$ip6" "$fqdn" "$short"
  printf '%s\t%s\n' "$MF_GW4" "$apt_host"    # apt goes through the relay
} >"$root/etc/hosts"
echo "nameserver $dns" >"$root/etc/resolv.conf"
# a random machine-id (an empty one would trigger first-boot units)
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"; echo >>"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*                 # ssh-keygen -A keeps existing keys (a --layer may carry some)
ssh-keygen -q -A -f "$root" >/dev/null
ssh-keygen -q -t ed25519 -N '' -C "mailfleet-testhost-$name" -f "$st/id_ed25519"
install -d -m 700 "$root/root/.ssh"
install -m 600 "$st/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
for t in ed25519 ecdsa rsa; do
  echo "$ip4,$ip6 $(cut -d' ' -f1,2 "$root/etc/ssh/ssh_host_${t}_key.pub")"
done >"$st/known_hosts"

# --- network namespace: eth0 on the bridge, no default route ---
ip netns add "$ns"
ip link add "$veth" type veth peer name eth0 netns "$ns"
ip link set "$veth" master "$MF_BRIDGE" up
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$ip4/24" dev eth0
ip -n "$ns" -6 addr add "$ip6/64" dev eth0 nodad
ip -n "$ns" link set eth0 up
echo "$ip4" >"$st/ipv4"; echo "$ip6" >"$st/ipv6"

# --- boot: systemd-nspawn in a cgroup of its own ---
mapfile -t cgs < <(mf_cgroup_dirs "$name")
for d in "${cgs[@]}"; do mkdir -p "$d"; done
# shellcheck disable=SC2016
setsid bash -c 'n=$1 short=$2 root=$3 ns=$4; shift 4
  for d in "$@"; do echo $$ >"$d/cgroup.procs"; done
  exec systemd-nspawn --quiet --boot --register=no --keep-unit \
    --machine="$n" --hostname="$short" --directory="$root" \
    --network-namespace-path="/run/netns/$ns" \
    --resolv-conf=off --timezone=off --link-journal=no --console=read-only' \
  _ "$name" "$short" "$root" "$ns" "${cgs[@]}" </dev/null >"$st/console.log" 2>&1 9>&- &
echo $! >"$st/pid"
flock -u 9

# --- wait for sshd and for systemd to finish booting ---
deadline=$((SECONDS + timeout)) state=
while ((SECONDS < deadline)); do
  kill -0 "$(cat "$st/pid")" 2>/dev/null || { tail -20 "$st/console.log" >&2; mf_die "container $name exited during boot"; }
  state=$(mf_ssh "$name" 'systemctl is-system-running --wait' 2>/dev/null) && break
  [[ $state == degraded ]] && break
  sleep 0.2
done
[[ $state == running || $state == degraded ]] || mf_die "host $name not ready after ${timeout}s (state '$state')"
t1=$(date +%s.%N)
boot=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

cat >"$st/host.json" <<EOF
{"name": "$name", "fqdn": "$fqdn", "ipv4": "$ip4", "ipv6": "$ip6",
 "gateway4": "$MF_GW4", "gateway6": "$MF_GW6",
 "sshUser": "root", "sshPort": 22, "sshKey": "$st/id_ed25519", "knownHosts": "$st/known_hosts",
 "hostKey": "$(cut -d' ' -f1,2 "$root/etc/ssh/ssh_host_ed25519_key.pub")",
 "pid": $(cat "$st/pid"), "systemState": "$state", "bootSeconds": $boot}
EOF
# shellcheck disable=SC2034  # read by the EXIT trap
up=1
mf_log "host $name up: $ip4 $ip6 ($state) in ${boot}s"
echo "$st/host.json"
