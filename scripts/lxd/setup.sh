#!/usr/bin/env bash
# Installs LXD (Debian's lxd package), starts its daemon by hand (these
# machines have no systemd) and initialises it with a dir storage pool and a
# NATed lxdbr0 bridge on a fixed subnet. Idempotent: a second run only starts
# the daemon if it is down. Run as root.
#
# Env: LXD_SUBNET (default 10.123.45.1/24). LXD's own subnet auto-detection
# cannot work on networks that accept every TCP connect, so the subnet is
# always given explicitly.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
LXD_SUBNET=${LXD_SUBNET:-10.123.45.1/24}

if [ "$(id -u)" != 0 ]; then
	echo "scripts/lxd/setup.sh must run as root (it installs packages and starts lxd)" >&2
	exit 1
fi

need=""
for cmd in lxd:lxd nft:nftables debootstrap:debootstrap; do
	command -v "${cmd%%:*}" >/dev/null 2>&1 || need="$need ${cmd##*:}"
done
if [ -n "$need" ]; then
	echo "installing:$need"
	apt-get update -qq
	# nftables first (same transaction is fine: lxd is not started by apt
	# here), so that the daemon finds a firewall driver when it starts.
	apt-get install -y -qq $need >/dev/null
fi

if ! lxd waitready --timeout=1 >/dev/null 2>&1; then
	echo "starting lxd"
	mkdir -p /var/log/lxd
	setsid /usr/bin/lxd --group lxd --logfile=/var/log/lxd/lxd.log </dev/null >>/var/log/lxd/lxd.stdout 2>&1 &
	echo $! >/run/lxd-troupe.pid
fi
lxd waitready --timeout=60

if ! lxc network show lxdbr0 >/dev/null 2>&1; then
	echo "initialising lxd (dir pool, lxdbr0 on $LXD_SUBNET)"
	lxd init --preseed <<PRESEED
config: {}
networks:
- name: lxdbr0
  type: bridge
  config:
    ipv4.address: ${LXD_SUBNET}
    ipv4.nat: "true"
    ipv6.address: none
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
    eth0: {name: eth0, network: lxdbr0, type: nic}
PRESEED
fi
echo "lxd ready: $(lxc network get lxdbr0 ipv4.address) on lxdbr0"
