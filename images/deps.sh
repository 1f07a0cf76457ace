#!/bin/sh
# Makes sure every Debian package Strata builds, boots and tests with is
# installed.  As root it installs what is missing; otherwise it prints the one
# apt-get line to run and fails.
set -e

PACKAGES="make gcc binutils libc6-dev nasm grub-pc-bin grub-efi-amd64-bin grub-common
xorriso mtools qemu-system-x86 ovmf check pkg-config clang gdb dpkg-dev e2fsprogs"
# The kvstore tests' stock clients and references: memccapable, memccp and
# memccat; a host memcached to count memccapable's tests against; twemproxy.
SERVICES="memcached nutcracker"
PACKAGES="$PACKAGES libmemcached-tools $SERVICES"
# The Linux guest that benchmarks compare with (images/linux-initramfs.sh):
# Debian's kernel, busybox, and liburing for its random-read tool.
PACKAGES="$PACKAGES linux-image-amd64 busybox-static liburing-dev"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "strata: missing Debian packages. Run, as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "strata: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# QEMU boots Debian's kernel with an initramfs of our own: INITRD=No spares
# initramfs-tools' kernel hook the minutes of building one for this host.
export INITRD=No
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2

# Installing memcached or nutcracker starts it as a system service, and
# memcached's port 11211 is the one `make run` forwards to the guest: stop
# and disable the ones just installed.  The tests start their own on other
# ports and never rely on these.  A container may run no init system
# (systemctl works offline, but only `service` stops a SysV-started one),
# or have no systemctl at all, hence each way.
for s in $SERVICES; do
	case " $missing " in
	*" $s "*) ;;
	*) continue ;;
	esac
	if [ -d /run/systemd/system ]; then
		systemctl stop "$s" >&2 || true
	else
		service "$s" stop >&2 || true
	fi
	if command -v systemctl >/dev/null; then
		systemctl disable "$s" >&2 || true
	else
		update-rc.d "$s" disable >&2 || true
	fi
done
