/*
 * Which build of layer 0 this is: the linker's build ID (--build-id=sha1, a
 * hash of the linked image), which kernel.ld keeps in .rodata.  A checkpoint
 * holds it, so that a boot resumes only a checkpoint its own build took
 * (checkpoint.c): another build may lay out or read layer 0's state
 * otherwise.
 */
#include "defs.h"

#define NOTE_GNU_BUILD_ID	3

/* An ELF note's header; its name ("GNU\0") and then its value follow, each padded to 4 bytes. */
struct note {
	uint32_t namesz, descsz, type;
};

extern const struct note build_id_note[];

/* The first 8 bytes of the build ID, or 0 if the image has none. */
uint64_t layer0_build(void)
{
	const struct note *n = build_id_note;
	const uint8_t *desc = (const uint8_t *)(n + 1) + ((n->namesz + 3) & ~3U);
	uint64_t id = 0;

	if (n->type != NOTE_GNU_BUILD_ID || n->descsz < sizeof(id))
		return 0;
	memcpy(&id, desc, sizeof(id));
	return id;
}
