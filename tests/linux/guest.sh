# Sourced by tests/bench/linux.sh and tests/integration/linux.sh: the Linux
# guest of images/linux-initramfs.sh, booted by images/qemu.sh in the machine
# Strata's own benchmarks use.  Needs $build and $images.  netecho.sh's
# netecho_stop and netecho_await serve this guest too: they need only
# netecho_pgid, QEMU's process group.
# shellcheck shell=bash

# shellcheck source=../net/netecho.sh
. "$(dirname "${BASH_SOURCE[0]}")/../net/netecho.sh"

# qemu.sh's options for the guest.  The kernel's console is the serial port,
# its warnings only; a panic ends QEMU (-no-reboot) at once; life= is the
# backstop of tests/linux/init should the caller die before killing QEMU.
linux_boot=(--kernel "$build/linux/vmlinuz" --initrd "$build/linux/initramfs.cpio.gz" --quiet)
linux_append="console=ttyS0 loglevel=4 panic=1 life=900"

# linux_build: BUILD/linux/ made anew.  Status 3, the reason on stderr, when
# a Debian package it needs is missing.
linux_build() {
	"$images/linux-initramfs.sh" "$build"
}

# linux_start DIR NAME NETSPEC: the guest in mode=net in the background, its
# serial log in DIR/NAME.log.
linux_start() {
	rm -f "$1/$2.log"
	setsid "$images/qemu.sh" "${linux_boot[@]}" --append "$linux_append mode=net" \
		--net "$3" --log "$1/$2.log" </dev/null 2>"$1/$2.err" &
	netecho_pgid=$!
}

# linux_up DIR NAME SECONDS: true once that guest serves memcached and echo.
linux_up() {
	netecho_await "$1/$2.log" '^linux: up' "$3"
}
