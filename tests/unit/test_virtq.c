/*
 * Split virtqueues (drivers/virtio.c) against a device played by the test:
 * what a batch of chains looks like in the rings, when the device is
 * notified, what reaping a run gives back, and the interrupt flag a waiter
 * turns on.  The device side reads and writes the rings at the offsets of
 * the virtio spec, as QEMU does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

#include "virtio.h"

/* The transport: virtio.c names these, the queue paths never call them. */
uint32_t pci_read32(const struct pci_dev *d, uint16_t off) { (void)d; (void)off; ck_abort(); return 0; }
uint16_t pci_read16(const struct pci_dev *d, uint16_t off) { (void)d; (void)off; ck_abort(); return 0; }
uint8_t pci_read8(const struct pci_dev *d, uint16_t off) { (void)d; (void)off; ck_abort(); return 0; }
int pci_bar(const struct pci_dev *d, int bar, struct pci_bar *out) { (void)d; (void)bar; (void)out; ck_abort(); return -1; }
void pci_enable(const struct pci_dev *d) { (void)d; ck_abort(); }
uint8_t pci_cap_next(const struct pci_dev *d, uint8_t cap, uint8_t id) { (void)d; (void)cap; (void)id; ck_abort(); return 0; }
int msix_enable(struct msix *m, const struct pci_dev *d) { (void)m; (void)d; ck_abort(); return -1; }
int msix_route(struct msix *m, uint16_t entry, uint8_t vector) { (void)m; (void)entry; (void)vector; ck_abort(); return -1; }
uint64_t pmm_alloc(void) { ck_abort(); return 0; }
void *p2v(uint64_t pa) { (void)pa; ck_abort(); return 0; }
void *vm_map_mmio(uint64_t pa, uint64_t len) { (void)pa; (void)len; ck_abort(); return 0; }

#define SIZE		8
#define NOBODY		0xffff		/* the doorbell before anyone rang it */
#define USED_F_NO_NOTIFY	1
#define AVAIL_F_NO_INTERRUPT	1

/* The spec's layouts, as the device sees them. */
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[SIZE]; };
struct used { uint16_t flags, idx; struct { uint32_t id, len; } ring[SIZE]; };

static struct virtq vq;
static struct desc descs[SIZE];
static struct avail avail;
static struct used used;
static uint16_t doorbell;
static uint16_t seen;			/* avail entries the device has taken */
static int cookie[SIZE * 4];		/* distinct addresses to hand in */

static void setup(void)
{
	memset(&vq, 0, sizeof(vq));
	memset(descs, 0, sizeof(descs));
	memset(&avail, 0, sizeof(avail));
	memset(&used, 0, sizeof(used));
	vq.index = 1;
	vq.size = SIZE;
	vq.desc = (void *)descs;
	vq.avail = (void *)&avail;
	vq.used = (void *)&used;
	vq.notify = &doorbell;
	for (uint16_t i = 0; i < SIZE; i++)
		descs[i].next = i + 1;
	vq.nfree = SIZE;
	doorbell = NOBODY;
	seen = 0;
}

/* n one-buffer chains, buffer k at 0x1000 * (first + k + 1), cookie &cookie[first + k]. */
static int submit(int first, int n)
{
	struct vq_buf b[SIZE * 4];
	void *c[SIZE * 4];

	for (int k = 0; k < n; k++) {
		b[k] = (struct vq_buf){ 0x1000 * (uint64_t)(first + k + 1), 60 + k, false };
		c[k] = &cookie[first + k];
	}
	return virtq_submit_singles(&vq, b, c, n);
}

/* The device completes every chain published so far, in order. */
static void device_sends_all(void)
{
	while (seen != avail.idx) {
		uint16_t head = avail.ring[seen % SIZE];

		used.ring[used.idx % SIZE].id = head;
		used.ring[used.idx % SIZE].len = 0;
		used.idx++;
		seen++;
	}
}

START_TEST(singles_are_one_descriptor_each_and_unseen_until_the_kick)
{
	ck_assert_int_eq(submit(0, 3), 3);
	ck_assert_uint_eq(avail.idx, 0);
	for (int k = 0; k < 3; k++) {
		struct desc *d = &descs[avail.ring[k]];

		ck_assert_uint_eq(d->addr, 0x1000 * (uint64_t)(k + 1));
		ck_assert_uint_eq(d->len, 60 + k);
		ck_assert_uint_eq(d->flags, 0);		/* device-readable, no chain */
	}
	ck_assert_uint_eq(vq.nfree, SIZE - 3);
	virtq_kick(&vq);
	ck_assert_uint_eq(avail.idx, 3);
}
END_TEST

START_TEST(singles_stop_when_the_queue_is_full)
{
	ck_assert_int_eq(submit(0, SIZE + 3), SIZE);
	ck_assert_uint_eq(vq.nfree, 0);
	ck_assert_int_eq(submit(SIZE, 1), 0);
}
END_TEST

START_TEST(kick_notifies_an_idle_device)
{
	submit(0, 2);
	ck_assert(virtq_kick(&vq));
	ck_assert_uint_eq(doorbell, 1);		/* the queue's index */
}
END_TEST

START_TEST(kick_skips_the_notify_only_when_the_device_says_so)
{
	submit(0, 2);
	used.flags = USED_F_NO_NOTIFY;		/* the device is working on the queue */
	ck_assert(!virtq_kick(&vq));
	ck_assert_uint_eq(doorbell, NOBODY);
	ck_assert_uint_eq(avail.idx, 2);	/* published all the same */
	used.flags = 0;				/* it went idle */
	submit(2, 1);
	ck_assert(virtq_kick(&vq));
	ck_assert_uint_eq(doorbell, 1);
}
END_TEST

START_TEST(reap_many_gives_cookies_back_in_completion_order_up_to_max)
{
	void *c[SIZE];
	uint32_t len[SIZE];

	submit(0, 5);
	virtq_kick(&vq);
	ck_assert_int_eq(virtq_reap_many(&vq, c, len, SIZE), 0);
	device_sends_all();
	ck_assert_int_eq(virtq_reap_many(&vq, c, len, 3), 3);
	for (int k = 0; k < 3; k++) {
		ck_assert_ptr_eq(c[k], &cookie[k]);
		ck_assert_uint_eq(len[k], 0);
	}
	ck_assert_int_eq(virtq_reap_many(&vq, c, len, SIZE), 2);
	ck_assert_ptr_eq(c[0], &cookie[3]);
	ck_assert_ptr_eq(c[1], &cookie[4]);
	ck_assert_uint_eq(vq.nfree, SIZE);
}
END_TEST

START_TEST(reaped_descriptors_are_posted_again_around_the_ring)
{
	void *c[SIZE];
	uint32_t len[SIZE];

	for (int lap = 0; lap < 3; lap++) {
		ck_assert_int_eq(submit(lap * SIZE, SIZE), SIZE);
		virtq_kick(&vq);
		device_sends_all();
		ck_assert_int_eq(virtq_reap_many(&vq, c, len, SIZE), SIZE);
		for (int k = 0; k < SIZE; k++)
			ck_assert_ptr_eq(c[k], &cookie[lap * SIZE + k]);
	}
}
END_TEST

START_TEST(reap_of_a_chain_never_given_panics)
{
	jmp_buf jb;
	void *c[SIZE];
	uint32_t len[SIZE];

	submit(0, 1);
	virtq_kick(&vq);
	used.ring[0].id = 5;			/* a descriptor still free */
	used.idx = 1;
	fake_panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		virtq_reap_many(&vq, c, len, SIZE);
		ck_abort();
	}
	ck_assert(strstr(fake_panic_msg, "does not hold") != 0);
}
END_TEST

START_TEST(interrupts_on_use_are_asked_for_and_taken_back)
{
	vq.interrupts = true;
	avail.flags = AVAIL_F_NO_INTERRUPT;
	ck_assert(virtq_interrupt_on_use(&vq, true));
	ck_assert_uint_eq(avail.flags, 0);
	ck_assert(virtq_interrupt_on_use(&vq, false));
	ck_assert_uint_eq(avail.flags, AVAIL_F_NO_INTERRUPT);
}
END_TEST

START_TEST(a_queue_without_a_vector_never_asks_for_interrupts)
{
	avail.flags = AVAIL_F_NO_INTERRUPT;
	ck_assert(!virtq_interrupt_on_use(&vq, true));
	ck_assert_uint_eq(avail.flags, AVAIL_F_NO_INTERRUPT);
}
END_TEST

static Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *t = tcase_create("core");

	tcase_add_checked_fixture(t, setup, 0);
	tcase_add_test(t, singles_are_one_descriptor_each_and_unseen_until_the_kick);
	tcase_add_test(t, singles_stop_when_the_queue_is_full);
	tcase_add_test(t, kick_notifies_an_idle_device);
	tcase_add_test(t, kick_skips_the_notify_only_when_the_device_says_so);
	tcase_add_test(t, reap_many_gives_cookies_back_in_completion_order_up_to_max);
	tcase_add_test(t, reaped_descriptors_are_posted_again_around_the_ring);
	tcase_add_test(t, reap_of_a_chain_never_given_panics);
	tcase_add_test(t, interrupts_on_use_are_asked_for_and_taken_back);
	tcase_add_test(t, a_queue_without_a_vector_never_asks_for_interrupts);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(virtq_suite(), false);
}
