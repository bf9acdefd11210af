#!/usr/bin/env bash
# Build (once) and cache the "tools tree": a copy of the base test-host tree in which Postfix and
# Dovecot are really installed (nothing started), so unit tests can run Debian's own validators
# on rendered configs without booting a host. Copy the config into the tree first, e.g.
#   d=$(mktemp -d "$TREE/tmp/cfg.XXXXXX"); cp main.cf master.cf "$d"/
#   chroot "$TREE" postconf -c "/tmp/${d##*/}" -n        (warnings on stderr)
#   chroot "$TREE" doveconf -n -c /tmp/.../dovecot.conf   (errors on stderr, exit 89)
#   chroot "$TREE" postfix -c "/tmp/${d##*/}" check       (exit 1 on errors; postfix(1) prints its
#       own fatal errors only to a terminal: run it under `script -qec "..." /dev/null` to see them)
# Runs as root (chroot). Tests share the tree: give each its own directory under TREE/tmp.
# Usage: make-tools-tree.sh [--force]
# Prints the tree path. Keyed on the base tree and this recipe: a second run only prints it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mf_need_root

PACKAGES="postfix dovecot-core dovecot-imapd dovecot-lmtpd"
base=$("$here/make-host.sh" | tail -n1)
[[ -e $base/.complete ]] || mf_die "no base tree"

key=$( { echo "${base##*/} $PACKAGES"; sed -n '/^# --- customise/,/^# --- end customise/p' "$0"; } | sha256sum | cut -c1-12)
dest=$MF_CACHE/tools-$key
hit() { mf_log "cached tools tree $dest"; echo "$dest"; exit 0; }
[[ ${1:-} != --force && -e $dest/.complete ]] && hit

exec 9>"$MF_CACHE/.build.lock"; flock 9
[[ ${1:-} != --force && -e $dest/.complete ]] && hit   # built by another process meanwhile
tmp=$MF_CACHE/.tools-$key.$$
rm -rf "$tmp"
# Unmount whatever the install mounted, on success, failure or signal, before removing anything.
cleanup() {
  mountpoint -q "$tmp/etc/hosts" 2>/dev/null && umount "$tmp/etc/hosts"
  for m in proc sys dev; do mountpoint -q "$tmp/$m" 2>/dev/null && umount -R "$tmp/$m"; done
  if grep -q " $tmp/" /proc/mounts; then mf_log "mounts remain under $tmp; not removing it"; else rm -rf --one-file-system "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM HUP   # so the EXIT trap runs on signals too

t0=$SECONDS
cp -a "$base" "$tmp"
rm -f "$tmp/.complete" "$tmp/.mailfleet-apt-relay"

# --- customise (everything below is part of the cache key) ---
# policy-rc.d 101: maintainer scripts must not start postfix/dovecot in the chroot.
printf '#!/bin/sh\n# mailfleet tools tree: start nothing while installing\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
mount -t proc proc "$tmp/proc"; mount -t sysfs sysfs "$tmp/sys"
mount --rbind /dev "$tmp/dev"; mount --make-rslave "$tmp/dev"   # rslave: umount -R must not reach the real /dev
# The preloaded .debs normally suffice; the machine's resolver is there in case one is missing.
cp /etc/resolv.conf "$tmp/etc/resolv.conf"; cp /etc/hosts "$tmp/etc/hosts.build"
mount --bind "$tmp/etc/hosts.build" "$tmp/etc/hosts"
# No main.cf from debconf: the tests bring their own config directories.
echo 'postfix postfix/main_mailer_type select No configuration' | chroot "$tmp" debconf-set-selections
# shellcheck disable=SC2086
chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES \
  >"$MF_CACHE/make-tools-tree.log" 2>&1 || { tail -20 "$MF_CACHE/make-tools-tree.log" >&2; mf_die "apt-get install failed"; }
chroot "$tmp" apt-get clean
# `postfix check` creates missing queue directories: let it do so now, so that the tests' checks
# find nothing to create and leave the shared tree as it is.
chk=$(mktemp -d "$tmp/tmp/postfix-check.XXXXXX")
printf 'myhostname = tools.invalid\ncompatibility_level = 3.6\n' >"$chk/main.cf"
cp "$tmp/etc/postfix/master.cf" "$chk/"
chroot "$tmp" postfix -c "/tmp/${chk##*/}" check
rm -rf "$chk"
umount "$tmp/etc/hosts"; rm -f "$tmp/etc/hosts.build"
echo 'nameserver 127.0.0.1' >"$tmp/etc/resolv.conf"
umount -R "$tmp/dev" "$tmp/proc" "$tmp/sys"
rm -f "$tmp/usr/sbin/policy-rc.d"
# --- end customise ---

touch "$tmp/.complete"
rm -rf --one-file-system "$dest"; mv "$tmp" "$dest"; trap - EXIT INT TERM HUP
# drop older tools trees (nothing mounts them; a unit test only chroots into the current one)
for old in "$MF_CACHE"/tools-*; do
  [[ $old == "$dest" || ! -d $old ]] || rm -rf --one-file-system "$old"
done
mf_log "tools tree ready in $((SECONDS - t0))s: $dest ($(du -sh "$dest" | cut -f1))"
echo "$dest"
