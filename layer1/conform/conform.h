/*
 * The ABI conformance payload: one check per command-line word, each a legal
 * use of doc/abi.md that must work (tests/integration/conform.sh runs them).
 * A check returns its exit code: 0 after printing "conform: NAME ok", 1 after
 * "conform: NAME FAILED: why".
 */
#ifndef CONFORM_H
#define CONFORM_H

#include <strata.h>

#define MS	1000000ULL	/* nanoseconds */

/* ---- main.c -------------------------------------------------------------- */

/* The check being run, for the lines below. */
extern const char *check_name;

/* Prints "conform: NAME ok"; returns 0. */
int passed(void);
/* Prints "conform: NAME FAILED: " and the message; returns 1. */
__attribute__((format(printf, 1, 2)))
int failed(const char *fmt, ...);

/* ---- machine.c: the machine as layer 1 finds it ----------------------- */

int check_entry(int argc, char **argv);
int check_info(int argc, char **argv);
int check_stack(int argc, char **argv);
int check_readonly_read(int argc, char **argv);
int check_stack_untouched(int argc, char **argv);
int check_exit_max(int argc, char **argv);

/* ---- prefetch.c: the prefetch trap, with a disk ------------------------ */

int check_prefetch(int argc, char **argv);
int check_prefetch_error(int argc, char **argv);

/* ---- ring.c: the console ring driven by hand, no runtime output ------- */

int check_batch(int argc, char **argv);
int check_wrap(int argc, char **argv);
int check_unrung_at_exit(int argc, char **argv);
int check_ring_twice(int argc, char **argv);
int check_empty_slot(int argc, char **argv);
int check_full_batch(int argc, char **argv);
int check_doorbell_loads(int argc, char **argv);

#endif
