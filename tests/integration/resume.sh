#!/bin/bash
# tests/integration/resume.sh BUILD: what a resume gives back and when a boot
# starts fresh instead (doc/abi.md, "Checkpoints and resume").  The resume
# payload spins with every register, SSE and MXCSR in use while periodic
# checkpoints land in its loop; QEMU is killed mid-spin, twice, and the
# third boot must finish the spin with all of them as they were and the
# clock past where it was.  Then: `fresh` on layer 0's command line, a new
# build of the payload, another build of layer 0, and a journal whose superblocks are damaged (refused
# with exit 79, the disk unchanged).  Prints one "ok   NAME" or
# "FAIL NAME: why" line per check.
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
out=$build/tests/out/resume
rm -rf "$out"
mkdir -p "$out"

fail() { echo "FAIL $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -12 "$2" | sed 's/^/    | /'; }

# Boots ISO $1 on the test disk, serial log in $2; with $3 = kill, kills QEMU
# (SIGKILL) a second after the payload says it spins (or, resumed, after
# layer 0 says it resumes it).  Returns QEMU's result.
boot() {
	local iso=$1 log=$2 how=${3:-} pid waited=0
	rm -f "$out/qemu.pid"
	"$images/qemu.sh" --iso "$iso" --disk "$out/disk.img" --disk-cache unsafe --timeout 120 \
		--log "$log" --quiet -- -pidfile "$out/qemu.pid" </dev/null 2>"$log.err" &
	pid=$!
	if [ "$how" != kill ]; then
		wait "$pid"
		return
	fi
	until grep -qaE '^resume: spinning|resuming checkpoint' "$log" 2>/dev/null; do
		sleep 0.1
		waited=$((waited + 1))
		[ $waited -lt 600 ] || break
	done
	sleep 1
	[ -s "$out/qemu.pid" ] && kill -KILL "$(cat "$out/qemu.pid")" 2>/dev/null	# this QEMU alone
	wait "$pid" 2>/dev/null
	return 0
}

mkiso() {
	"$images/mkiso.sh" "$1" "$build/layer0.elf" "$2" "rounds=300000000" "$3" >/dev/null 2>&1
}

has() { grep -qaE -- "$2" "$1"; }

truncate -s 64M "$out/disk.img"
mkiso "$out/resume.iso" "$build/layer1/resume.elf" "checkpoint=20" ||
	{ fail "resume-boot: no ISO"; exit 0; }
boot "$out/resume.iso" "$out/run-1.serial" kill
boot "$out/resume.iso" "$out/run-2.serial" kill
boot "$out/resume.iso" "$out/run-3.serial"
rc=$?
if ! has "$out/run-2.serial" '^strata: checkpoint: resuming checkpoint [0-9]+ of "resume" \(resume 1\)'; then
	fail "resume-after-kill: the second boot did not resume" "$out/run-2.serial"
elif [ "$rc" != 0 ] || ! has "$out/run-3.serial" '^resume: ok: .* resumes 2\b'; then
	fail "resume-after-kill: exit $rc, expected 0 and 'resume: ok ... resumes 2'" "$out/run-3.serial"
else
	echo "ok   resume-after-kill ($(grep -ao 'clock.*' "$out/run-3.serial" | tr -d '\r'))"
fi

# A cut, then `fresh`: the run starts over, though a checkpoint was there.
boot "$out/resume.iso" "$out/run-4.serial" kill
mkiso "$out/fresh.iso" "$build/layer1/resume.elf" "checkpoint=20 fresh"
boot "$out/fresh.iso" "$out/fresh.serial" kill
if has "$out/fresh.serial" 'checkpoint: fresh start \(fresh on layer 0.s command line\)' &&
	! has "$out/fresh.serial" 'resuming checkpoint'; then
	echo "ok   resume-fresh-option"
else
	fail "resume-fresh-option: no fresh start with fresh on the command line" "$out/fresh.serial"
fi

# A new build (one byte more in its ELF file) is installed and starts fresh.
cp "$build/layer1/resume.elf" "$out/resume-new.elf"
printf '\0' >>"$out/resume-new.elf"
mkiso "$out/new.iso" "$out/resume-new.elf" "checkpoint=20"
boot "$out/new.iso" "$out/new.serial" kill
if has "$out/new.serial" 'checkpoint: fresh start \(a new build of the payload\)' &&
	has "$out/new.serial" 'replacing the installed "resume" with a new build'; then
	echo "ok   resume-new-build"
else
	fail "resume-new-build: a new build was not started fresh" "$out/new.serial"
fi

# Another build of layer 0 (its linker build ID, in the GNU note kept in
# .rodata, one bit changed): the checkpoint the first one took is replayed
# home but not resumed, since its state is another build's; then that build
# resumes its own.
perl -0777 -pe 's/(\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0)(.)/$1 . chr(ord($2) ^ 1)/se' \
	"$build/layer0.elf" >"$out/layer0-other.elf"
"$images/mkiso.sh" "$out/other.iso" "$out/layer0-other.elf" "$out/resume-new.elf" "rounds=300000000" \
	"checkpoint=20" >/dev/null 2>&1
boot "$out/other.iso" "$out/other-1.serial" kill
boot "$out/other.iso" "$out/other-2.serial" kill
build_of() { sed -n 's/.*layer 0 starting (ABI [0-9.]*, build \([0-9a-f]*\)).*/\1/p' "$1" | head -1; }
if [ "$(build_of "$out/other-1.serial")" = "$(build_of "$out/new.serial")" ]; then
	fail "resume-other-layer0: the changed build ID did not change the build layer 0 reports" \
		"$out/other-1.serial"
elif ! has "$out/other-1.serial" 'checkpoint: fresh start \(the checkpoint is of another layer 0 build\)' ||
	! has "$out/other-1.serial" '^strata: journal: replayed [1-9]'; then
	fail "resume-other-layer0: another layer 0's checkpoint was not replayed home and started fresh" \
		"$out/other-1.serial"
elif ! has "$out/other-2.serial" '^strata: checkpoint: resuming checkpoint'; then
	fail "resume-other-layer0: the build did not resume its own checkpoint" "$out/other-2.serial"
else
	echo "ok   resume-other-layer0 (builds $(build_of "$out/new.serial") and $(build_of "$out/other-1.serial"))"
fi

# Both journal superblocks damaged: refused, and the disk left as it was.
for slot in 4096 8192; do
	printf 'damage' | dd of="$out/disk.img" bs=1 seek=$((slot + 16)) conv=notrunc status=none
done
cp --sparse=always "$out/disk.img" "$out/damaged.img"
boot "$out/new.iso" "$out/damaged.serial"
rc=$?
if [ "$rc" = 79 ] && has "$out/damaged.serial" 'the checkpoint journal fails its checks: no whole superblock' &&
	cmp -s "$out/disk.img" "$out/damaged.img"; then
	echo "ok   resume-journal-damaged"
else
	fail "resume-journal-damaged: exit $rc, expected 79, the report and the disk unchanged" \
		"$out/damaged.serial"
fi
# With install=force and a module, the damaged journal is left behind unread: the
# payload is installed afresh and runs (the resume payload spins, then exits 0).
mkiso "$out/force.iso" "$out/resume-new.elf" "checkpoint=20 install=force"
boot "$out/force.iso" "$out/force.serial"
rc=$?
if [ "$rc" = 0 ] && has "$out/force.serial" 'fails its checks .*not replayed, install=force' &&
	has "$out/force.serial" '^strata: checkpoint: fresh start'; then
	echo "ok   resume-journal-damaged-force"
else
	fail "resume-journal-damaged-force: exit $rc, expected 0, a fresh install over the damaged journal" \
		"$out/force.serial"
fi
rm -f "$out"/*.img
exit 0
