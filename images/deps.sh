#!/bin/sh
# Makes sure every Debian package Strata builds, boots and tests with is
# installed.  As root it installs what is missing; otherwise it prints the one
# apt-get line to run and fails.
set -e

PACKAGES="make gcc binutils libc6-dev nasm grub-pc-bin grub-efi-amd64-bin grub-common
xorriso mtools qemu-system-x86 ovmf check pkg-config clang gdb dpkg-dev e2fsprogs"

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
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
