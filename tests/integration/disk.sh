# The disk-window cases of `make test`, mostly payload disktest
# (layer1/disktest), each booting a disk of its own: a fresh sparse raw disk
# (DISK=SIZE, see case.sh), an image made here, or QEMU's null-co.
# Syntax as cases.sh:  t NAME PAYLOAD EXIT "PAYLOAD ARGS" "LAYER-0 ARGS" PATTERN...
# The cases whose boots depend on each other (a disk written by one boot and
# read by the next) are in persist.sh; the 64 TiB disk is in huge.sh.
# Sourced by tests/run.sh, which defines t, $build and $out.
# integration: cases
# shellcheck shell=bash

# A disk that is not a Strata disk is never installed over without
# install=force (exit 75): an ext4 file system (its first KiB is zero, its
# superblock after it), a head of random bytes, and a head whose one byte
# that is not zero lies past its first page (as a btrfs superblock at 64 KiB).
foreign_ext4=$out/disk-foreign-ext4.img
rm -f "$foreign_ext4"
truncate -s 64M "$foreign_ext4"
mkfs.ext4 -q -F "$foreign_ext4" >"$out/disk-foreign-ext4.mkfs" 2>&1
DISK=$foreign_ext4 t disk-foreign-ext4 hello 75 "" "" \
	'disk0 is not a Strata disk: no Strata label' '^strata: exit 75 '
for n in random random-force; do
	head -c 1M /dev/urandom >"$out/disk-foreign-$n.img"
	truncate -s 64M "$out/disk-foreign-$n.img"
done
DISK=$out/disk-foreign-random.img t disk-foreign-random hello 75 "" "" \
	'disk0 is not a Strata disk: no Strata label' '^strata: exit 75 '
DISK=$out/disk-foreign-random-force.img t disk-foreign-random-force hello 0 "" "install=force" \
	'overwriting it: install=force' '^strata: installed "hello" on disk0 \(install 1\)' '^strata: exit 0 '
foreign_late=$out/disk-foreign-late.img
rm -f "$foreign_late"
truncate -s 64M "$foreign_late"
printf 'B' | dd of="$foreign_late" bs=1 seek=$((0x10040)) conv=notrunc status=none
DISK=$foreign_late t disk-foreign-late hello 75 "" "" 'its first MiB is not blank' '^strata: exit 75 '

# Edges of size: a disk smaller than layer 0's head, one too small for the
# payload and the journal (exit 74), and one larger than the 64 TiB window,
# whose free area ends where the window does (QEMU's null-co: 65 TiB of
# zeros, no host disk).
DISK=2K t disk-tiny hello 74 "" "" 'disk0 is too small: 2048 bytes' '^strata: exit 74 '
DISK=16M t disk-small hello 74 "" "" 'disk0 is too small: the payload needs' '^strata: exit 74 '
QEMUARGS="-blockdev driver=null-co,size=$((65 << 40)),read-zeroes=on,node-name=nul0 -device virtio-blk-pci,drive=nul0" \
	t disk-beyond-window disktest 0 "edge" "" 'disk0: 66560 GiB, larger than the 65536 GiB window' \
	'^disktest: edge ok first 0x10000[0-9a-f]{7} last 0x4ffefffff000' '^strata: exit 0 '

# Too little RAM for netecho's rings (256 TX + 256 RX pages) and a page
# cache: a named out-of-memory stop (exit 65), not a panic.  The rings are
# taken before the cache, which can then never hold the pages they need.
MEM=6M DISK=64M QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" \
	t disk-lowmem-rings netecho 65 "exit-after=1" "" 'rings of 256 TX and 256 RX slots' \
	'^strata: exit 65 \(out of memory\)'

# Without a disk there is no free area: bad usage, not a crash.
t disk-none disktest 2 "edge" "" '^disktest: no disk' '^strata: exit 2 '

# Layer 0's own driver test (blktest): the head of the disk, bad requests
# refused, a pattern written, flushed and read back through page lists and
# through one contiguous buffer, then the whole disk read; then the payload.
DISK=64M t disk-blktest disktest 0 "edge" "blktest" \
	'blktest: [0-9]+ sectors at [0-9]+ written, flushed, read back, restored' \
	'blktest: disk0 passed' 'blk raw read: 64 MiB' '^disktest: edge ok' '^strata: exit 0 '

# Code runs from the disk: a text page never touched before is fetched from it.
DISK=64M t disk-exec disktest 0 "exec" "" \
	'^disktest: exec ok: code at 0x10000[0-9a-f]{7} runs from disk offset 0x[0-9a-f]+ ' '^strata: exit 0 '
# The free area is data: executing it is V-EXEC.
DISK=64M t disk-exec-data disktest 84 "exec-data" "" 'rule: V-EXEC' '^strata: exit 84 '

# Both ends of the free area are layer 1's; the free area of a 64 MiB disk
# ends where the 16 MiB journal starts, at disk offset 48 MiB.
DISK=64M t disk-edge disktest 0 "edge" "" '^disktest: edge ok first 0x10000[0-9a-f]{7} last 0x100002fff000' \
	'^strata: exit 0 '
# The journal is layer 0's, and past the disk is no region at all.
DISK=64M t disk-beyond disktest 83 "beyond" "" 'rule: V-L0-REGION' 'CR2 0x0*100003000000' \
	'^strata: exit 83 '
DISK=64M t disk-beyond-disk disktest 80 "beyond-disk" "" 'rule: V-OUTSIDE' 'CR2 0x0*100004000000' \
	'^strata: exit 80 '

# A read the disk fails stops the machine with exit 72 and says so: QEMU's
# blkdebug fails the free area's first sector (run.sh's blkdebug_end), which
# verify's first touch of the free area reads.
blkdebug_end disk-ioerror disktest
ioerror_conf=$blkdebug_conf ioerror_qemu=$blkdebug_qemu
DISK=64M QEMUARGS=$ioerror_qemu t disk-ioerror disktest 72 "verify seed=1" "" \
	'pager: reading .* failed: I/O error' 'could not be read' '^strata: exit 72 '

# The same sector failing writes only (a rule once triggered fails every
# I/O type unless iotype says otherwise): cleaning the journal needs that
# home write, so the checkpoints that need room fail, and with them the
# syncs (a sync is a commit): STRATA_SYNC_IO_ERROR, and disktest says so.
# The pages stay dirty in RAM (doc/abi.md, "Sync"), so a second sync tries
# again and fails again; had they been dropped or marked clean, it would
# return OK.
wrerror_conf=$out/disk-wrerror.blkdebug
sed -e 's/read_aio/write_aio/' -e '$a iotype = "write"' "$ioerror_conf" >"$wrerror_conf"
wrerror_qemu=${ioerror_qemu//$ioerror_conf/$wrerror_conf}
DISK=64M QEMUARGS=$wrerror_qemu t disk-write-error disktest 1 "write seed=1 syncs=2" "" \
	'pager: writing .* failed: I/O error' '^disktest: sync 1 of 2 reported an I/O error' \
	'^disktest: sync 2 of 2 reported an I/O error' 'sync reported an I/O error' '^strata: exit 1 '

# The error gone after its first write (once = "on"): the pages of that
# home write stay journaled, the next cleaning of the journal writes them,
# and no checkpoint or sync fails.
retry_conf=$out/disk-wrerror-once.blkdebug
sed -e '$a once = "on"' "$wrerror_conf" >"$retry_conf"
DISK=64M QEMUARGS=${ioerror_qemu//$ioerror_conf/$retry_conf} t disk-write-error-retry disktest 0 \
	"write seed=1 syncs=2" "" 'pager: writing .* failed: I/O error' \
	'^disktest: wrote [0-9]+ MiB seed 1 ' 'checkpoint: [0-9]+ taken, 0 failed' '^strata: exit 0 '
