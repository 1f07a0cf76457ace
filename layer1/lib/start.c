/*
 * The C side of the entry: argv from the info page's command line, main,
 * exit.  Layer 0 has zeroed .bss and set up the stack, so nothing else needs
 * preparing.
 */
#include "runtime.h"

/* Room for the name plus every word of the longest command line. */
#define ARGV_MAX (STRATA_CMDLINE_MAX / 2 + 2)

static const struct strata_info *info_page;
static char arg_text[sizeof(strata_payload_note.hdr.name) + STRATA_CMDLINE_MAX];
static char *argv_table[ARGV_MAX];

const struct strata_info *strata_info(void)
{
	return info_page;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Splits info->cmdline at blanks into argv[1..] (no quoting: GRUB passed the
 * words already).  argv[0] is the header's name.  Returns argc; argv ends
 * with NULL.  The text is copied because the info page is read-only and
 * payloads may edit their arguments.
 */
static int split_args(const struct strata_info *info, char **argv)
{
	const char *name = strata_payload_note.hdr.name;
	size_t nlen = strnlen(name, sizeof(strata_payload_note.hdr.name) - 1);
	char *p = arg_text + nlen + 1;
	int argc = 1;

	memcpy(arg_text, name, nlen);
	argv[0] = arg_text;
	memcpy(p, info->cmdline, strnlen(info->cmdline, STRATA_CMDLINE_MAX - 1));
	while (*p != '\0') {
		while (is_blank(*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv[argc++] = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
	}
	argv[argc] = NULL;
	return argc;
}

_Noreturn void strata_start(const struct strata_info *info)
{
	int argc;

	info_page = info;
	console_init(info);
	argc = split_args(info, argv_table);
	strata_exit(main(argc, argv_table));
}
