/* The doorbell reads layer 0 completes itself (insn.c): which, their register and length. */
#include <check.h>

#include "fake.h"

#include "defs.h"

static unsigned reg, len;

static int decode(const uint8_t *code)
{
	reg = len = 99;
	return insn_plain_load(code, &reg, &len);
}

/* rawnet's doorbell: mov 0x1000(%rsi),%rax */
START_TEST(mov_disp32_into_rax)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x86, 0x00, 0x10, 0x00, 0x00 };

	ck_assert_int_eq(decode(code), 0);
	ck_assert_uint_eq(reg, 0);
	ck_assert_uint_eq(len, 7);
}
END_TEST

/* libstrata's: movq (%reg),%reg, here (%rdx) into %rdx and (%rax) into %r9 */
START_TEST(mov_register_indirect)
{
	static const uint8_t rdx[] = { 0x48, 0x8b, 0x12 };
	static const uint8_t r9[] = { 0x4c, 0x8b, 0x08 };

	ck_assert_int_eq(decode(rdx), 0);
	ck_assert_uint_eq(reg, 2);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(decode(r9), 0);
	ck_assert_uint_eq(reg, 9);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(mov_disp8_and_rip_relative_and_32_bit)
{
	static const uint8_t disp8[] = { 0x48, 0x8b, 0x4d, 0x08 };	/* 8(%rbp),%rcx */
	static const uint8_t rip[] = { 0x48, 0x8b, 0x3d, 1, 2, 3, 4 };	/* x(%rip),%rdi */
	static const uint8_t bits32[] = { 0x8b, 0x06 };			/* (%rsi),%eax */

	ck_assert_int_eq(decode(disp8), 0);
	ck_assert_uint_eq(reg, 1);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(decode(rip), 0);
	ck_assert_uint_eq(reg, 7);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(decode(bits32), 0);	/* a 32-bit load clears the upper half too */
	ck_assert_uint_eq(reg, 0);
	ck_assert_uint_eq(len, 2);
}
END_TEST

/* Each of these writes less than the whole register, or more than one, or memory: the single step's. */
START_TEST(anything_else_is_left_to_the_single_step)
{
	static const uint8_t word[] = { 0x66, 0x8b, 0x06 };		/* 16-bit: upper bits kept */
	static const uint8_t byte[] = { 0x8a, 0x06 };			/* 8-bit */
	static const uint8_t add[] = { 0x48, 0x83, 0x00, 0x01 };	/* addq $1,(%rax) */
	static const uint8_t cmps[] = { 0x48, 0xa7 };			/* cmpsq */
	static const uint8_t sib[] = { 0x48, 0x8b, 0x04, 0x24 };	/* (%rsp),%rax */
	static const uint8_t regreg[] = { 0x48, 0x8b, 0xc1 };		/* %rcx,%rax */
	static const uint8_t into_rsp[] = { 0x48, 0x8b, 0x26 };		/* (%rsi),%rsp */
	static const uint8_t fs[] = { 0x64, 0x48, 0x8b, 0x06 };		/* %fs:(%rsi),%rax */
	static const uint8_t movzx[] = { 0x48, 0x0f, 0xb6, 0x06 };	/* movzbq (%rsi),%rax */

	ck_assert_int_eq(decode(word), -1);
	ck_assert_int_eq(decode(byte), -1);
	ck_assert_int_eq(decode(add), -1);
	ck_assert_int_eq(decode(cmps), -1);
	ck_assert_int_eq(decode(sib), -1);
	ck_assert_int_eq(decode(regreg), -1);
	ck_assert_int_eq(decode(into_rsp), -1);
	ck_assert_int_eq(decode(fs), -1);
	ck_assert_int_eq(decode(movzx), -1);
}
END_TEST

static Suite *insn_suite(void)
{
	Suite *s = suite_create("insn");
	TCase *t = tcase_create("core");

	tcase_add_test(t, mov_disp32_into_rax);
	tcase_add_test(t, mov_register_indirect);
	tcase_add_test(t, mov_disp8_and_rip_relative_and_32_bit);
	tcase_add_test(t, anything_else_is_left_to_the_single_step);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(insn_suite(), false);
}
