#!/bin/bash
# linux-initramfs.sh BUILD: the Linux guest of tests/bench/linux.sh, made
# only of Debian's packages and our own tools, in BUILD/linux/:
#   vmlinuz            a link to the newest /boot/vmlinuz-*-amd64 (Debian's
#                      linux-image-amd64)
#   initramfs.cpio.gz  busybox-static, tests/linux/init as /init, the
#                      kernel's virtio_net and virtio_blk modules and what
#                      they depend on, Debian's memcached with its shared
#                      libraries copied from the host, and tests/linux/*.c
#                      built static (liburing's static library for randread)
# Exits 3 with the reason on stderr when a package it needs is missing
# (images/deps.sh installs them), so a caller can skip rather than fail.
set -u
build=$1
here=$(cd "$(dirname "$0")/.." && pwd)
out=$build/linux
root=$out/root
missing() { echo "linux-initramfs: $1 (images/deps.sh installs it)" >&2; exit 3; }

kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] || missing "no Debian kernel in /boot: linux-image-amd64"
kver=${kernel#/boot/vmlinuz-}
mods=/lib/modules/$kver
[ -f "$mods/modules.dep" ] || missing "no $mods/modules.dep: linux-image-$kver"
[ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	missing "no static /bin/busybox: busybox-static"
command -v memcached >/dev/null || missing "no memcached"
[ -f /usr/include/liburing.h ] || missing "no liburing.h: liburing-dev"

rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,etc,tmp,lib/modules} || exit 1

# Our tools, static: the initramfs has no C library of its own.
cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static \
	"$here/tests/linux/udpechod.c" -o "$root/bin/udpechod" || exit 1
cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static \
	"$here/tests/linux/randread.c" -luring -o "$root/bin/randread" || exit 1
install -m 755 "$here/tests/linux/init" "$root/init"

cp /bin/busybox "$root/bin/busybox"
for applet in sh mount insmod ip sleep cat seq grep netstat uname poweroff; do
	ln -s busybox "$root/bin/$applet"
done

# memcached and every shared library it loads, at the host's paths.
cp "$(command -v memcached)" "$root/bin/memcached"
for lib in $(ldd "$(command -v memcached)" | grep -oE '/[^ ]+'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# memcached -u root looks its user up.
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

# The modules, each after the ones it needs: modules.dep lists a module's
# dependencies, so a depth-first walk emits them first.
declare -A seen=()
order=()
walk() {
	local path=$1 dep
	[ -n "${seen[$path]:-}" ] && return
	seen[$path]=1
	for dep in $(sed -n "s|^$path: *||p" "$mods/modules.dep"); do
		walk "$dep"
	done
	order+=("$path")
}
for m in virtio_pci virtio_net virtio_blk; do
	path=$(grep -oE "^[^:]*/$m\.ko" "$mods/modules.dep")
	[ -n "$path" ] || missing "no $m.ko in $mods"
	walk "$path"
done
for path in "${order[@]}"; do
	cp "$mods/$path" "$root/lib/modules/"
	basename "$path" >>"$root/lib/modules/order"
done

ln -sf "$kernel" "$out/vmlinuz"
(cd "$root" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) |
	gzip -1 >"$out/initramfs.cpio.gz.new" &&
	mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
