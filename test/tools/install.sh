#!/usr/bin/env bash
# Installs everything the tests and the sandbox need on a Debian 12 machine (run as root):
# Debian packages for the test hosts and the real mail clients, then the npm dependencies
# (which bring their own Node 22 from the npm `node` package).
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) == 0 ]] || { echo "install.sh: run as root (apt-get, and the test hosts need namespaces and mounts)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# systemd-container without recommends: they would edit this machine's nsswitch.conf.
apt-get install -y -qq --no-install-recommends \
  debootstrap systemd-container socat iproute2 util-linux openssh-client ca-certificates \
  swaks libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl libauthen-sasl-perl \
  curl openssl jq shellcheck dnsmasq-base pebble testssl.sh bind9 bind9-dnsutils python3-dkim >/dev/null
# The tests start their own named on the test bridge; a system one (where systemd starts it at
# install) would only compete for port 53.
systemctl disable --now named >/dev/null 2>&1 || true
npm ci --no-audit --no-fund
