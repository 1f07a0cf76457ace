/* What tests/unit/fake.c offers every unit test besides layer 0's own names. */
#ifndef FAKE_H
#define FAKE_H

#include <check.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

/* Armed by a test, panic() longjmps here with its message in fake_panic_msg (fake.c says how). */
extern jmp_buf *fake_panic_jmp;
extern char fake_panic_msg[];

/* The end of what kprintf() printed (fake.c says more); a test may clear it. */
#define FAKE_CONSOLE_BYTES	8192
extern char fake_console[FAKE_CONSOLE_BYTES];

/* Moves clock_ns() on by ns at once, as a host that stopped the machine would. */
void fake_clock_jump(uint64_t ns);

/* Runs every test of s, each in a process of its own if must_fork; the exit status for main. */
int run_suite(Suite *s, bool must_fork);

#endif
