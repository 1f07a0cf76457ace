/*
 * Host stand-ins for the parts of layer 0 a unit test does not link: every
 * test binary gets this file, whichever layer-0 sources its .deps names, so
 * it defines nothing those sources define.
 *
 * panic() prints and aborts, unless a test armed fake_panic_jmp: then it
 * keeps the message in fake_panic_msg, disarms itself and longjmps there, so
 * a test can assert that something panics:
 *
 *	jmp_buf jb;
 *	fake_panic_jmp = &jb;
 *	if (setjmp(jb) == 0) { call_that_must_panic(); ck_abort(); }
 *
 * kprintf() prints to stdout and keeps the last FAKE_CONSOLE_BYTES - 1
 * bytes printed in fake_console, so a test can check what layer 0 said.
 *
 * clock_ns() runs a millisecond per reading, so a wait that never ends
 * reaches layer 0's time bounds in a few thousand polls, not in real time;
 * report_device() is a panic() naming the device, what it waited for and why.
 *
 * The linker-script symbols are weak one-byte arrays so code that names them
 * links; no test may map or read through them.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"
#include "fake.h"

jmp_buf *fake_panic_jmp;
char fake_panic_msg[512];
char fake_console[FAKE_CONSOLE_BYTES];

__attribute__((weak)) char kernel_start[1], kernel_end[1];
__attribute__((weak)) char text_start[1], text_end[1];
__attribute__((weak)) char rodata_start[1], rodata_end[1];
__attribute__((weak)) char data_start[1], data_end[1];

void panic(const char *fmt, ...)
{
	jmp_buf *jb = fake_panic_jmp;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_panic_msg, sizeof(fake_panic_msg), fmt, ap);
	va_end(ap);
	if (jb != NULL) {
		fake_panic_jmp = NULL;
		longjmp(*jb, 1);
	}
	fprintf(stderr, "panic: %s\n", fake_panic_msg);
	abort();
}

void kprintf(const char *fmt, ...)
{
	char line[1024];
	size_t have = strlen(fake_console), n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fputs(line, stdout);
	n = strlen(line);
	if (have + n >= FAKE_CONSOLE_BYTES) {	/* the oldest bytes go */
		size_t drop = have + n - (FAKE_CONSOLE_BYTES - 1);

		drop = drop < have ? drop : have;
		memmove(fake_console, fake_console + drop, have - drop + 1);
		have -= drop;
	}
	memcpy(fake_console + have, line, n + 1);
}

int snprintf_(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static uint64_t fake_now;

uint64_t clock_ns(void)
{
	return fake_now += 1000000;
}

void fake_clock_jump(uint64_t ns)
{
	fake_now += ns;
}

/* One TSC tick a nanosecond (32.32): only profile.c's report converts ticks. */
uint64_t timer_tsc_ns_mult(void)
{
	return 1ULL << 32;
}

void report_device(const char *device, const char *waiting_for, uint64_t waited_ns,
    const char *why)
{
	panic("DEVICE %s: waiting for %s for %lu ns: %s", device, waiting_for,
	    (unsigned long)waited_ns, why);
}

int run_suite(Suite *s, bool must_fork)
{
	SRunner *sr = srunner_create(s);
	int failed;

	if (must_fork)
		srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
