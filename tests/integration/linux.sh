#!/bin/bash
# tests/integration/linux.sh BUILD: the Linux guest of tests/bench/linux.sh
# boots in the benchmarks' QEMU configuration and echoes one UDP datagram
# through a forwarded port, so that `make bench` finds its yardstick working.
# Prints one "ok   NAME", "FAIL NAME: why" or "skip NAME: why" line.  About
# 25 s here (25 to 27 s measured): the kernel's boot under TCG.
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
out=$build/tests/out/linux
rm -rf "$out"
mkdir -p "$out"

# shellcheck source=../linux/guest.sh
. "$here/linux/guest.sh"
trap netecho_stop EXIT
linux_build 2>"$out/build.err"
case $? in
0) ;;
3) echo "skip linux-guest-echo: $(cat "$out/build.err")"; exit 0 ;;
*) fail linux-guest-echo "the guest did not build" "$out/build.err"; exit 0 ;;
esac

# A port of this script's own range (32500..32999), from our pid.
port=$((32500 + ($$ % 500)))
linux_start "$out" guest "user,hostfwd=udp:127.0.0.1:$port-:7"
if ! linux_up "$out" guest 120; then
	fail linux-guest-echo "the guest never said 'linux: up'" "$out/guest.log"
elif "$build/bin/udpecho" -p "$port" -n 1 -w 1 >"$out/echo.out" 2>&1; then
	ok "linux-guest-echo ($(sed -n 's/^linux: up //p' "$out/guest.log"), $(cat "$out/echo.out"))"
else
	fail linux-guest-echo "no echo of one datagram" "$out/echo.out"
fi
