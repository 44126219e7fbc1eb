#!/usr/bin/env bash
# Builds the Debian bookworm container image Troupe's LXD provider launches
# (debootstrap minbase plus systemd, udev and what charms need: bash,
# python3, python3-yaml, iproute2, netbase) and imports it into the local
# LXD under ALIAS. Idempotent: if ALIAS already exists and FORCE is not 1,
# it does nothing. Run as root with LXD up (scripts/lxd/setup.sh).
#
# Env: ALIAS (default troupe/debian-bookworm), FORCE=1 to rebuild, MIRROR
# (default: the Debian mirror apt uses on this host).
set -euo pipefail
ALIAS=${ALIAS:-troupe/debian-bookworm}
FORCE=${FORCE:-0}

if [ "$FORCE" != 1 ] && lxc image show "$ALIAS" >/dev/null 2>&1; then
	echo "image $ALIAS already imported (FORCE=1 rebuilds it)"
	exit 0
fi
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
		awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}')
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}

WORK=$(mktemp -d /var/tmp/troupe-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs
PKGS=systemd-sysv,udev,iproute2,netbase,bash,python3,python3-yaml,ca-certificates
echo "debootstrap bookworm ($PKGS) from $MIRROR"
if ! debootstrap --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
	tail -30 "$WORK/debootstrap.log" >&2
	exit 1
fi

# eth0 on DHCP through systemd-networkd (udev is in the image: without it
# networkd never configures eth0 in an unprivileged container).
mkdir -p "$ROOT/etc/systemd/network" "$ROOT/etc/systemd/system/multi-user.target.wants"
printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' >"$ROOT/etc/systemd/network/eth0.network"
ln -sf /lib/systemd/system/systemd-networkd.service \
	"$ROOT/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
# Nothing in a container needs these, and they slow boot or fail.
for unit in systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer; do
	ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
echo placeholder >"$ROOT/etc/hostname"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*

mkdir -p "$WORK/templates"
echo '{{ container.name }}' >"$WORK/templates/hostname.tpl"
printf '127.0.0.1 localhost\n127.0.1.1 {{ container.name }}\n' >"$WORK/templates/hosts.tpl"
cat >"$WORK/metadata.yaml" <<META
architecture: x86_64
creation_date: $(date +%s)
properties:
  architecture: x86_64
  description: Debian bookworm for Troupe machines (minbase, systemd, python3)
  os: debian
  release: bookworm
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
  /etc/hosts:
    when: [create, copy]
    template: hosts.tpl
META
echo "packing"
tar -C "$WORK" --numeric-owner -czf "$WORK/image.tar.gz" metadata.yaml templates rootfs
if lxc image show "$ALIAS" >/dev/null 2>&1; then
	lxc image delete "$ALIAS"
fi
lxc image import "$WORK/image.tar.gz" --alias "$ALIAS" >/dev/null
echo "imported $ALIAS ($(du -h "$WORK/image.tar.gz" | cut -f1))"
