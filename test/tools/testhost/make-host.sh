#!/usr/bin/env bash
# Build (once) and cache the base Debian 12 tree that every mailfleet test host boots from.
# Usage: make-host.sh [--force]
# Env: MAILFLEET_TESTHOST_CACHE (default /var/cache/mailfleet)
#      MAILFLEET_TESTHOST_PRELOAD  packages whose .debs are downloaded (not installed) into the
#                                  tree's apt cache so installs inside a host need no download;
#                                  set it empty to skip
#      MAILFLEET_TESTHOST_MIRROR / MAILFLEET_TESTHOST_SECURITY_MIRROR  archive URLs; default: the
#                                  ones this machine's apt uses, else deb.debian.org
#      MAILFLEET_TESTHOST_SUITE    (default bookworm)
# Prints the tree path. A second run with the same inputs only prints it (cache hit).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mf_need_root

INCLUDE=systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates,procps
PRELOAD=${MAILFLEET_TESTHOST_PRELOAD-postfix dovecot-core dovecot-imapd dovecot-lmtpd libsasl2-modules ca-certificates jq bind9 bind9-dnsutils postsrsd}
RECIPE_VERSION=1   # bump when the customisation below changes in a way the hash cannot see

# Same archive as this machine (it may be a mirror or a snapshot proxy that is the only one
# reachable); the hosts reach it through the relay, which start-host.sh points at its host:port.
repos=
[[ -n ${MAILFLEET_TESTHOST_MIRROR:-} && -n ${MAILFLEET_TESTHOST_SECURITY_MIRROR:-} ]] || repos=$(mf_machine_repos)
MIRROR=${MAILFLEET_TESTHOST_MIRROR:-$(awk -v s="$MF_SUITE" '$1 == s { print $2 }' <<<"$repos")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${MAILFLEET_TESTHOST_SECURITY_MIRROR:-$(awk -v s="$MF_SUITE-security" '$1 == s { print $2 }' <<<"$repos")}
SECURITY=${SECURITY:-${MIRROR%/debian}/debian-security}
read -r relay_host relay_port < <(mf_url_hostport "$MIRROR")
# One relay per bridge address: a security archive on another host:port cannot be reached.
if [[ $(mf_url_hostport "$SECURITY" 2>/dev/null) != "$relay_host $relay_port" ]]; then
  mf_log "security archive $SECURITY is not on $relay_host:$relay_port; the hosts get no $MF_SUITE-security"
  SECURITY=
fi
# Mirrors that serve a frozen snapshot need this, as on the build machine itself.
SNAPSHOT=0
[[ $(apt-config dump 2>/dev/null) == *'Acquire::Check-Valid-Until "false"'* ]] && SNAPSHOT=1

key=$( { echo "$RECIPE_VERSION $MF_SUITE $MIRROR $SECURITY $SNAPSHOT $INCLUDE $PRELOAD"; sed -n '/^# --- customise/,/^# --- end customise/p' "$0"; } | sha256sum | cut -c1-12)
dest=$MF_CACHE/rootfs-$key
hit() { ln -sfn "rootfs-$key" "$MF_CACHE/current"; mf_log "cached rootfs $dest"; echo "$dest"; exit 0; }
[[ ${1:-} != --force && -e $dest/.complete ]] && hit

# shellcheck disable=SC2119  # no extra packages here
mf_host_tools
mkdir -p "$MF_CACHE/debs"
exec 9>"$MF_CACHE/.build.lock"; flock 9
# another process may have built it while we waited for the lock
[[ ${1:-} != --force && -e $dest/.complete ]] && hit
tmp=$MF_CACHE/.build-$key.$$
rm -rf "$tmp"
cleanup() {
  mountpoint -q "$tmp/etc/hosts" 2>/dev/null && umount "$tmp/etc/hosts"
  for m in proc sys dev; do mountpoint -q "$tmp/$m" 2>/dev/null && umount -R "$tmp/$m"; done
  if grep -q " $tmp/" /proc/mounts; then mf_log "mounts remain under $tmp; not removing it"; else rm -rf --one-file-system "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM HUP   # so the EXIT trap runs on signals too

t0=$SECONDS
mf_log "debootstrap $MF_SUITE from $MIRROR (minbase + $INCLUDE)"
debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$MF_CACHE/debs" \
  "$MF_SUITE" "$tmp" "$MIRROR" >"$MF_CACHE/debootstrap.log" 2>&1 \
  || { tail -20 "$MF_CACHE/debootstrap.log" >&2; mf_die "debootstrap failed"; }
mf_log "debootstrap done in $((SECONDS - t0))s"

# --- customise (everything below is part of the cache key) ---
{
  echo "deb $MIRROR $MF_SUITE main"
  echo "deb $MIRROR $MF_SUITE-updates main"
  [[ -z $SECURITY ]] || echo "deb $SECURITY $MF_SUITE-security main"
} >"$tmp/etc/apt/sources.list"
((SNAPSHOT)) && echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99mailfleet-snapshot"
# Which archive the hosts' relay must forward to (read by start-host.sh).
echo "$relay_host $relay_port" >"$tmp/.mailfleet-apt-relay"
# No background apt runs holding the dpkg lock while a test provisions the host; no gettys.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer console-getty.service \
         systemd-firstboot.service getty@tty1.service; do
  ln -sfn /dev/null "$tmp/etc/systemd/system/$u"
done
# Host keys, machine-id, hostname and network identity are written per host by start-host.sh.
rm -f "$tmp"/etc/ssh/ssh_host_*
: >"$tmp/etc/machine-id"
echo localhost >"$tmp/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
echo 'nameserver 127.0.0.1' >"$tmp/etc/resolv.conf"
mkdir -p "$tmp/etc/ssh/sshd_config.d"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$tmp/etc/ssh/sshd_config.d/10-mailfleet-testhost.conf"
# journald: keep it small and volatile
mkdir -p "$tmp/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$tmp/etc/systemd/journald.conf.d/10-mailfleet-testhost.conf"

# apt lists (and the preloaded .debs) so `apt-get install` works at once inside a host.
# The chroot uses this machine's resolver and /etc/hosts only while building.
mount -t proc proc "$tmp/proc"; mount -t sysfs sysfs "$tmp/sys"
mount --rbind /dev "$tmp/dev"; mount --make-rslave "$tmp/dev"   # rslave: umount -R must not reach the real /dev
cp /etc/resolv.conf "$tmp/etc/resolv.conf"; cp /etc/hosts "$tmp/etc/hosts.build"
mount --bind "$tmp/etc/hosts.build" "$tmp/etc/hosts"
t1=$SECONDS
chroot "$tmp" apt-get update -qq >/dev/null
chroot "$tmp" apt-get clean   # drop debootstrap's copies of the installed .debs
if [[ -n $PRELOAD ]]; then
  # shellcheck disable=SC2086
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only $PRELOAD >/dev/null
fi
umount "$tmp/etc/hosts"; rm -f "$tmp/etc/hosts.build"
echo 'nameserver 127.0.0.1' >"$tmp/etc/resolv.conf"
umount -R "$tmp/dev" "$tmp/proc" "$tmp/sys"
mf_log "apt lists + preload ($PRELOAD) in $((SECONDS - t1))s"
# --- end customise ---

touch "$tmp/.complete"
rm -rf --one-file-system "$dest"; mv "$tmp" "$dest"; trap - EXIT INT TERM HUP
ln -sfn "rootfs-$key" "$MF_CACHE/current"
# drop older cached trees that no running host uses
for old in "$MF_CACHE"/rootfs-*; do
  [[ $old == "$dest" ]] || grep -qE "lowerdir=([^,]*:)?${old}[,:]" /proc/mounts || rm -rf --one-file-system "$old"
done
mf_log "rootfs ready in $((SECONDS - t0))s: $dest ($(du -sh "$dest" | cut -f1))"
echo "$dest"
