/*
 * Shows the command line as argv and exits with the code an `exit=N`
 * argument names (0 without one).  N is passed on unchecked so that a code
 * above 63 reaches layer 0, which must refuse it (V-TRAP).
 */
#include <strata.h>

STRATA_PAYLOAD("args", 0, 0);

int main(int argc, char **argv)
{
	uint64_t code = 0;

	strata_printf("argc = %d\n", argc);
	for (int i = 0; i < argc; i++) {
		strata_printf("argv[%d] = %s\n", i, argv[i]);
		if (strncmp(argv[i], "exit=", 5) == 0 &&
		    !strata_parse_u64(argv[i] + 5, 10, &code)) {
			strata_printf("args: %s: not a number\n", argv[i]);
			return 1;
		}
	}
	/* Clamped only so a huge N cannot wrap into a valid code. */
	return code > 0x7fffffff ? 0x7fffffff : (int)code;
}
