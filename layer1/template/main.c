/* Start a payload here: copy this directory to layer1/<name>/ (README.md). */
#include <strata.h>

STRATA_PAYLOAD("template", 0, 0);

int main(int argc, char **argv)
{
	strata_printf("%s: %d argument(s)\n", argv[0], argc - 1);
	return 0;
}
