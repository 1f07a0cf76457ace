/*
 * Checkpoints of layer 1 (checkpoint.c): when they are taken, and the boot
 * that resumes the newest.  The on-disk format is journal.h's.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "defs.h"

struct disklabel;

/* The layer-1 frame of the current entry into layer 0, set by trap(): what a checkpoint saves. */
extern struct trapframe *l1_frame;

/*
 * The commit and sync traps: a checkpoint with tf as the trap returns it,
 * and a wait for that one to be durable (the ones before it going on).  0, or -1.
 */
int checkpoint_commit(struct trapframe *tf);
/* In a wait: the periodic checkpoint, when it is due. */
void checkpoint_tick(struct trapframe *tf);
/*
 * An interrupt that stopped layer 1: moves the records in flight along, and
 * arms a checkpoint that is due for layer 1's next instruction.  Never waits.
 */
void checkpoint_interrupt(struct trapframe *tf);
/* The debug trap after that instruction: takes the armed checkpoint.  False if none was armed. */
bool checkpoint_step(struct trapframe *tf);
/* Before layer 1 dirties one more page: a checkpoint first if one record could not hold it. */
void checkpoint_room(struct trapframe *tf);
/*
 * External synchrony (the TX ring of a payload with STRATA_PAYLOAD_EXTSYNC):
 * the number of a checkpoint that, once durable, holds everything layer 1
 * did up to now; one is taken, or armed to be taken soon.  0 when
 * checkpoints are off: then nothing is ever durable, and nothing waits.
 */
uint64_t checkpoint_cover(void);
/* The newest durable checkpoint's number: it and every one before it are durable. */
uint64_t checkpoint_covered(void);
/* Layer 1 exits: a last checkpoint that says so, and everything home. */
void checkpoint_exit(struct trapframe *tf);

/*
 * At boot, before anything reads the window: replays the journal of the
 * label's install home, keeping its newest checkpoint; stops the machine if
 * the journal fails its checks, unless forced (install=force with a module:
 * the new install leaves it behind unread).  A blank disk or another install's journal
 * holds none.
 */
void checkpoint_recover(const struct disklabel *lb, bool forced);
/* Whether to resume that checkpoint (true) or start fresh (saying why). */
bool checkpoint_boot(const struct boot_info *bi, const struct disklabel *lb, bool from_module);
/* A fresh start's pages are in the window: home with them, an empty journal, checkpoints on. */
void checkpoint_fresh(const struct disklabel *lb);
/* Re-enters layer 1 where the newest checkpoint left it. */
NORETURN void checkpoint_resume(const struct disklabel *lb);

#endif
