# The modes tests/bench/checkpoint.sh measures with, run small, so that
# they cannot rot between benchmarks: each must run and print its figure in
# the form the benchmark reads, and bad input must get its named error.
# The boots that depend on each other (a cut, then a resume) are in
# benchcut.sh.
# Syntax as cases.sh:  t NAME PAYLOAD EXIT "PAYLOAD ARGS" "LAYER-0 ARGS" PATTERN...
# Sourced by tests/run.sh, which defines t.
# integration: cases
# shellcheck shell=bash

# Layer 0's own floor: a 4 KiB write and a flush, and sequential writes, on
# a disk of the 64 MiB the write takes (so all of it, head too).
DISK=64M t blkbench hello 0 "" "blkbench=all" \
	'^strata: blkbench: flush4k: 200 x \(4 KiB write \+ flush\) at sector 131064: median [0-9]+\.[0-9] us, mean [0-9]+\.[0-9] us' \
	'^strata: blkbench: write: 64 MiB at sector 0, 16 x 1 MiB in flight, then a flush, in [0-9]+ ms = [0-9]+\.[0-9] MB/s' \
	'Hello from layer 1' '^strata: exit 0 '
t blkbench-unknown hello 64 "" "blkbench=flush" 'blkbench: unknown benchmark \(flush4k, write, all\)' \
	'^strata: exit 64 '
t blkbench-no-disk hello 64 "" "blkbench=write" 'blkbench: no disk' '^strata: exit 64 '

# The commit's cost, and a checkpoint's rate: with checkpoint=0, one
# checkpoint per commit, and none while dirtying (2 MiB is under the
# quarter of the 16 MiB journal that one record may hold).
DISK=64M t disk-commit disktest 0 "commit n=20" "checkpoint=0" \
	'^disktest: commit 1 page x 20: median [0-9]+\.[0-9] us \(mean [0-9]+\.[0-9] us\), the trap alone [0-9]+\.[0-9] us \(mean [0-9]+\.[0-9] us\), 20 checkpoints' \
	'^strata: exit 0 '
DISK=64M t disk-checkpoint disktest 0 "checkpoint mib=2" "checkpoint=0" \
	'^disktest: checkpoint 2 MiB in [0-9]+ ms = [0-9]+\.[0-9] MB/s \(checkpoints: 0 while dirtying, 1 in the commit\)' \
	'^strata: exit 0 '
DISK=64M t disk-commit-bad-n disktest 2 "commit n=0" "" '^disktest: commit: n must be 1\.\.255' \
	'^strata: exit 2 '
DISK=64M t disk-checkpoint-bad-mib disktest 2 "checkpoint mib=4096" "" \
	'^disktest: checkpoint: mib must be 1\.\.[0-9]+' '^strata: exit 2 '
