/*
 * Not a test of Strata: tests/run.sh checks itself with it.  Built as every
 * unit test is, its one Check test passes; then main() leaks a block, which
 * LeakSanitizer must turn into a failing exit the harness counts.
 */
#include <stdlib.h>

#include "fake.h"

static void *volatile kept;

START_TEST(passes)
{
	ck_assert_ptr_null(kept);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("canary_leak");
	TCase *tc = tcase_create("canary_leak");
	int rc;

	tcase_add_test(tc, passes);
	suite_add_tcase(s, tc);
	rc = run_suite(s, false);
	kept = malloc(64);	/* after the tests: no Check child sees it */
	kept = NULL;
	return rc;
}
