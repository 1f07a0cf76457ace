/*
 * resume: a resume gives a run back exactly (doc/abi.md, "Checkpoints and
 * resume"): every general register, RFLAGS, the SSE registers and MXCSR, the
 * stack, and a clock that never runs backwards.
 *
 *   resume [rounds=N]
 *
 * resume_spin() puts a value of its own into every general register but
 * rsp, into xmm0-xmm14 and MXCSR, pushes a canary, and runs N rounds of a
 * loop that adds one to each (xmm15 holds the ones) and ends on a compare
 * and a conditional jump, so the flags matter too.  Periodic checkpoints
 * (checkpoint=MS) land anywhere in it; a test kills QEMU and boots again,
 * and the resumed run must end with every register at its start value plus
 * N, the canary on the stack, MXCSR as set, and the clock past where it
 * was.  Prints "resume: ok ..." and exits 0, or "resume: FAILED ..." and
 * exits 1; exit 2 for a bad option.
 */
#include <strata.h>

STRATA_PAYLOAD("resume", 0, 0);

#define NGPR		14		/* rax..r14 but rsp and rdi: the counted registers */
#define NXMM		15		/* xmm0..xmm14 */
#define CANARY		UINT64_C(0x5354524154414341)	/* "STRATACA" */
#define MXCSR_SET	UINT32_C(0x7f80)	/* masks all, round toward zero (default 0x1f80) */
#define GPR_BASE(r)	(UINT64_C(0x1000000000) * ((r) + 1) + (r))
#define XMM_BASE(x)	(UINT64_C(0x7700000000) * ((x) + 1))

/* What resume_spin leaves: the registers at the end of the last round. */
struct spun {
	uint64_t gpr[NGPR];	/* rax rbx rcx rdx rsi rbp r8 r9 r10 r11 r12 r13 r14, rdi last */
	uint64_t counter;	/* r15 */
	uint64_t canary;
	uint64_t xmm[NXMM][2];
	uint32_t mxcsr, pad;
};

static const char *const gpr_name[NGPR] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "rdi",
};

/* resume_spin(rounds, out): System V arguments, callee-saved registers kept. */
void resume_spin(uint64_t rounds, struct spun *out);

#define LOADX(x)	"movabsq $" #x " * 0x7700000000 + 0x7700000000, %rax\n\t" \
			"movq %rax, %xmm" #x "\n\tpunpcklqdq %xmm" #x ", %xmm" #x "\n\t"
#define ADDX(x)		"paddq %xmm15, %xmm" #x "\n\t"
#define SAVEX(x)	"movdqu %xmm" #x ", 128 + 16 * " #x "(%rax)\n\t"

__asm__(
    ".text\n\t"
    ".globl resume_spin\n"
    "resume_spin:\n\t"
    "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
    "push %rsi\n\t"				/* out, at 8(%rsp) once the canary is on */
    "movabsq $0x5354524154414341, %rax\n\tpush %rax\n\t"
    "sub $8, %rsp\n\t"
    "movl $0x7f80, (%rsp)\n\tldmxcsr (%rsp)\n\t"
    "mov $1, %eax\n\tmovq %rax, %xmm15\n\tpunpcklqdq %xmm15, %xmm15\n\t"
    LOADX(0) LOADX(1) LOADX(2) LOADX(3) LOADX(4) LOADX(5) LOADX(6) LOADX(7)
    LOADX(8) LOADX(9) LOADX(10) LOADX(11) LOADX(12) LOADX(13) LOADX(14)
    "movabsq $0x1000000000, %rax\n\t"
    "movabsq $0x2000000001, %rbx\n\t"
    "movabsq $0x3000000002, %rcx\n\t"
    "movabsq $0x4000000003, %rdx\n\t"
    "movabsq $0x5000000004, %rsi\n\t"
    "movabsq $0x6000000005, %rbp\n\t"
    "movabsq $0x7000000006, %r8\n\t"
    "movabsq $0x8000000007, %r9\n\t"
    "movabsq $0x9000000008, %r10\n\t"
    "movabsq $0xa000000009, %r11\n\t"
    "movabsq $0xb00000000a, %r12\n\t"
    "movabsq $0xc00000000b, %r13\n\t"
    "movabsq $0xd00000000c, %r14\n\t"
    "xor %r15d, %r15d\n"
    "1:\n\t"
    "inc %rax\n\tinc %rbx\n\tinc %rcx\n\tinc %rdx\n\tinc %rsi\n\tinc %rbp\n\t"
    "inc %r8\n\tinc %r9\n\tinc %r10\n\tinc %r11\n\tinc %r12\n\tinc %r13\n\tinc %r14\n\t"
    ADDX(0) ADDX(1) ADDX(2) ADDX(3) ADDX(4) ADDX(5) ADDX(6) ADDX(7)
    ADDX(8) ADDX(9) ADDX(10) ADDX(11) ADDX(12) ADDX(13) ADDX(14)
    "inc %r15\n\t"
    "cmp %rdi, %r15\n\t"
    "jb 1b\n\t"
    "stmxcsr 4(%rsp)\n\t"
    "push %rax\n\t"
    "mov 24(%rsp), %rax\n\t"			/* out */
    "pop 0(%rax)\n\t"
    "mov %rbx, 8(%rax)\n\tmov %rcx, 16(%rax)\n\tmov %rdx, 24(%rax)\n\tmov %rsi, 32(%rax)\n\t"
    "mov %rbp, 40(%rax)\n\tmov %r8, 48(%rax)\n\tmov %r9, 56(%rax)\n\tmov %r10, 64(%rax)\n\t"
    "mov %r11, 72(%rax)\n\tmov %r12, 80(%rax)\n\tmov %r13, 88(%rax)\n\tmov %r14, 96(%rax)\n\t"
    "mov %rdi, 104(%rax)\n\tmov %r15, 112(%rax)\n\t"
    "mov 8(%rsp), %rbx\n\tmov %rbx, 120(%rax)\n\t"	/* the canary */
    SAVEX(0) SAVEX(1) SAVEX(2) SAVEX(3) SAVEX(4) SAVEX(5) SAVEX(6) SAVEX(7)
    SAVEX(8) SAVEX(9) SAVEX(10) SAVEX(11) SAVEX(12) SAVEX(13) SAVEX(14)
    "mov 4(%rsp), %ebx\n\tmov %ebx, 368(%rax)\n\t"
    "movl $0x1f80, (%rsp)\n\tldmxcsr (%rsp)\n\t"	/* the ABI's default again */
    "add $24, %rsp\n\t"
    "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
    "ret\n");

_Static_assert(__builtin_offsetof(struct spun, canary) == 120, "resume_spin's layout");
_Static_assert(__builtin_offsetof(struct spun, xmm) == 128, "resume_spin's layout");
_Static_assert(__builtin_offsetof(struct spun, mxcsr) == 368, "resume_spin's layout");

static int failed(const char *what, uint64_t got, uint64_t want)
{
	strata_printf("resume: FAILED: %s is 0x%llx, not 0x%llx\n", what,
	    (unsigned long long)got, (unsigned long long)want);
	return 1;
}

static int check(const struct spun *s, uint64_t rounds)
{
	int bad = 0;

	for (int r = 0; r < NGPR - 1; r++)
		if (s->gpr[r] != GPR_BASE(r) + rounds)
			bad |= failed(gpr_name[r], s->gpr[r], GPR_BASE(r) + rounds);
	if (s->gpr[NGPR - 1] != rounds)
		bad |= failed("rdi", s->gpr[NGPR - 1], rounds);
	if (s->counter != rounds)
		bad |= failed("r15 (the round)", s->counter, rounds);
	if (s->canary != CANARY)
		bad |= failed("the canary on the stack", s->canary, CANARY);
	for (int x = 0; x < NXMM; x++)
		for (int lane = 0; lane < 2; lane++)
			if (s->xmm[x][lane] != XMM_BASE(x) + rounds)
				bad |= failed("an xmm register", s->xmm[x][lane], XMM_BASE(x) + rounds);
	if (s->mxcsr != MXCSR_SET)
		bad |= failed("mxcsr", s->mxcsr, MXCSR_SET);
	return bad;
}

int main(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	uint64_t rounds = 20000000, t0, t1;
	struct spun s;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "rounds=", 7) == 0 && strata_parse_u64(argv[i] + 7, 10, &rounds) &&
		    rounds > 0)
			continue;
		strata_printf("usage: resume [rounds=N]\n");
		return 2;
	}
	t0 = strata_now_ns();
	strata_printf("resume: spinning %llu rounds\n", (unsigned long long)rounds);
	resume_spin(rounds, &s);
	t1 = strata_now_ns();
	if (check(&s, rounds) != 0)
		return 1;
	if (t1 < t0 || (in->resumes > 0 && (in->resume_clock_ns < t0 || t1 < in->resume_clock_ns))) {
		strata_printf("resume: FAILED: the clock ran backwards: %llu ns before the spin, "
		    "%llu after, %llu at the checkpoint resumed\n", (unsigned long long)t0,
		    (unsigned long long)t1, (unsigned long long)in->resume_clock_ns);
		return 1;
	}
	strata_printf("resume: ok: %llu rounds, every register, the flags, SSE and MXCSR and the "
	    "stack as they were; clock %llu -> %llu ms; resumes %llu\n", (unsigned long long)rounds,
	    (unsigned long long)(t0 / 1000000), (unsigned long long)(t1 / 1000000),
	    (unsigned long long)in->resumes);
	return 0;
}
