/*
 * Not a test of Strata: tests/run.sh checks itself with it.  Built as every
 * unit test is, its one Check test passes; then main() overflows a signed
 * int, which UBSan must turn into a failing exit the harness counts.
 */
#include <limits.h>

#include "fake.h"

static volatile int big = INT_MAX;

START_TEST(passes)
{
	ck_assert_int_eq(big, INT_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("canary_ub");
	TCase *tc = tcase_create("canary_ub");
	int rc;

	tcase_add_test(tc, passes);
	suite_add_tcase(s, tc);
	rc = run_suite(s, false);
	big = big + 1;		/* after the tests: no Check child sees it */
	return rc;
}
