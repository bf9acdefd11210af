# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for the mailfleet test-host scripts. Sourced, not run.
# A test host is a Debian 12 system container: systemd-nspawn --boot (systemd is PID 1 inside)
# on an overlayfs copy of a cached debootstrap tree, in its own network namespace, reachable
# from the machine's root namespace over a private bridge. Nothing is routed off the machine:
# the hosts get no default route, and the root namespace does no forwarding or NAT.

MF_CACHE=${MAILFLEET_TESTHOST_CACHE:-/var/cache/mailfleet}    # cached trees (kept between runs)
MF_VAR=${MAILFLEET_TESTHOST_VAR:-/var/lib/mailfleet/hosts}    # per-host writable layers
MF_RUN=${MAILFLEET_TESTHOST_RUN:-/run/mailfleet}              # per-host state (pids, keys, host.json)
MF_SUITE=${MAILFLEET_TESTHOST_SUITE:-bookworm}
MF_BRIDGE=mfbr0
MF_NETNS_PREFIX=mf-
MF_VETH_PREFIX=mfv
MF_CGROUP=mailfleet
MF_NET4=${MAILFLEET_TESTHOST_NET4:-10.166.0}                  # a /24; .1 is the root-namespace side
MF_NET6=${MAILFLEET_TESTHOST_NET6:-fd42:6d61:696c:66}         # a /64 ULA; ::1 is the root-namespace side
MF_GW4=$MF_NET4.1
MF_GW6=$MF_NET6::1

mf_log() { printf '[mailfleet-testhost %(%T)T] %s\n' -1 "$*" >&2; }
mf_die() { mf_log "ERROR: $*"; exit 1; }
mf_need_root() { [[ $(id -u) == 0 ]] || mf_die "must run as root"; }

# Install host-side tools if missing (Debian packages only). Waits for a dpkg lock held by
# another apt run instead of failing.
mf_host_tools() {
  local missing=() p
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
  command -v socat >/dev/null || missing+=(socat)
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v flock >/dev/null || missing+=(util-linux)
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  if ((${#missing[@]})); then
    mf_log "installing host packages: ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
    # --no-install-recommends: systemd-container's recommends would edit nsswitch.conf
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The Debian archives this machine's own apt uses (deb822 or one-line sources alike), one
# "SUITE URI" line each, URI without the trailing slash. Only component "main" counts, so a
# third-party repository that names its suite "bookworm" is not mistaken for the archive.
mf_machine_repos() {
  # shellcheck disable=SC2016  # $(...) are apt's format fields
  apt-get indextargets --format '$(RELEASE) $(REPO_URI) $(COMPONENT)' 'Created-By: Packages' 2>/dev/null |
    awk '$3 == "main" && !seen[$1]++ { sub(/\/+$/, "", $2); print $1, $2 }'
}

# "HOST PORT" of an http(s) URL. The hosts reach the archive through a relay on the bridge
# address that their /etc/hosts gives the archive's name, so the archive must be a name.
mf_url_hostport() {
  local url=$1 scheme hp host port
  scheme=${url%%://*}
  hp=${url#*://}; hp=${hp%%/*}; hp=${hp##*@}
  [[ $hp != \[* ]] || mf_die "archive URL $url: an IPv6 literal cannot be relayed; use a host name"
  host=${hp%%:*} port=
  [[ $hp == *:* ]] && port=${hp##*:}
  if [[ -z $port ]]; then
    case $scheme in http) port=80 ;; https) port=443 ;; *) mf_die "archive URL $url: only http(s) works" ;; esac
  fi
  [[ $host =~ ^[0-9.]+$ ]] && mf_die "archive URL $url: an IP address cannot be mapped in /etc/hosts; use a host name"
  echo "$host $port"
}

# Empty (not a failure) when nothing is cached yet: callers then build the tree.
mf_rootfs() { readlink -f "$MF_CACHE/current" 2>/dev/null || true; }

# Cgroup directories nspawn will live in, one set per host, so that two containers never share
# the "payload" cgroup nspawn creates under its own cgroup (without host systemd, nspawn
# --keep-unit would otherwise put every container into the same /payload).
mf_cgroup_dirs() {
  local name=$1
  if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
    echo "/sys/fs/cgroup/$MF_CGROUP/$name"
  else
    [[ -d /sys/fs/cgroup/unified ]] && echo "/sys/fs/cgroup/unified/$MF_CGROUP/$name"
    [[ -d /sys/fs/cgroup/systemd ]] && echo "/sys/fs/cgroup/systemd/$MF_CGROUP/$name"
  fi
}
mf_cgroup_roots() { echo "/sys/fs/cgroup/$MF_CGROUP /sys/fs/cgroup/unified/$MF_CGROUP /sys/fs/cgroup/systemd/$MF_CGROUP"; }

# Remove NAME's cgroups (innermost first: the container's systemd made its own tree inside),
# then our top-level dir if it is empty.
mf_rm_cgroups() {
  local d
  for d in $(mf_cgroup_dirs "$1"); do
    [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  for d in $(mf_cgroup_roots); do
    [[ -d $d ]] && rmdir "$d" 2>/dev/null
  done
  return 0
}

# PIDs still in our cgroups (all hosts): nspawn and whatever its container left.
mf_cgroup_pids() {
  local d
  for d in $(mf_cgroup_roots); do
    [[ -d $d ]] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# The apt relay runs as socat with argv[0] set to this, so that it can be told from any other
# socat by its command line alone, whatever subnet it was started for.
MF_RELAY_ARGV0=mailfleet-apt-relay
mf_is_relay() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "^$MF_RELAY_ARGV0 TCP-LISTEN:"; }
mf_relay_pids() {
  local f pid
  for f in /proc/[0-9]*; do
    pid=${f#/proc/}
    mf_is_relay "$pid" && echo "$pid"
  done
  return 0
}

# ssh to a running host: mf_ssh NAME [ssh args...]
mf_ssh() {
  local name=$1; shift
  local st=$MF_RUN/$name
  ssh -i "$st/id_ed25519" -o UserKnownHostsFile="$st/known_hosts" -o StrictHostKeyChecking=yes \
      -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=3 "root@$(cat "$st/ipv4")" "$@"
}
