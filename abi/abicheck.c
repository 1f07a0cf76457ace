/*
 * abicheck FILE...: is each file a payload this kernel's layer 0 would load?
 *
 * Runs the very checks layer 0 runs (validate.c) against the ABI version of
 * the headers it was built with, so a payload can be checked without booting
 * it.  Prints "FILE: ok", or one line per problem:
 *
 *	FILE: REASON: detail
 *
 * Exit status: 0 if every file is loadable, 1 if any is not, 2 if a file
 * could not be read or the usage was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static void usage(void)
{
	fprintf(stderr, "usage: abicheck FILE...\n");
	exit(2);
}

/* Reads a whole file into a fresh buffer; NULL (errno set) on failure. */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL, *nbuf;
	size_t cap = 0, n = 0, got;
	FILE *f;
	int saved;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	saved = errno;
	free(buf);
	fclose(f);
	errno = saved;
	return NULL;
}

static void print_problem(void *ctx, enum strata_reason r, const char *detail)
{
	printf("%s: %s: %s\n", (const char *)ctx, strata_reason_name(r), detail);
}

/* 0: loadable, 1: not, 2: unreadable. */
static int check(const char *path)
{
	unsigned char *buf;
	size_t len;
	int n;

	if ((buf = slurp(path, &len)) == NULL) {
		fprintf(stderr, "abicheck: %s: %s\n", path, strerror(errno));
		return 2;
	}
	n = strata_validate(buf, len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, NULL,
	    print_problem, (void *)path);
	free(buf);
	if (n == 0)
		printf("%s: ok\n", path);
	return n == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int worst = 0, r;

	if (argc < 2)
		usage();
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		usage();
	for (int i = 1; i < argc; i++) {
		r = check(argv[i]);
		if (r > worst)
			worst = r;
	}
	fflush(stdout);
	return worst;
}
