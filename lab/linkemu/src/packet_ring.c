/* packet_ring.c - the emulator's delay line: one arena per direction, packets in arrival (= departure) order. */
#include "packet_ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define NO_RESERVATION ((size_t)-1)

int laneshim_packet_ring_init(struct laneshim_packet_ring *r, size_t cap, size_t max_len)
{
	void *arena;

	memset(r, 0, sizeof(*r));
	cap = (cap + 15) & ~(size_t)15;
	if (cap < laneshim_packet_record_size(max_len))
		return -EINVAL;
	/* MAP_POPULATE: the first pass through the ring must not page-fault on the forwarding path. */
	arena = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (arena == MAP_FAILED)
		return -errno;
	r->arena = arena;
	r->cap = cap;
	r->max_len = max_len;
	r->reserved = NO_RESERVATION;
	return 0;
}

void laneshim_packet_ring_free(struct laneshim_packet_ring *r)
{
	if (r->arena != NULL)
		munmap(r->arena, r->cap);
	memset(r, 0, sizeof(*r));
}

static struct laneshim_packet *record_at(const struct laneshim_packet_ring *r, size_t off)
{
	return (struct laneshim_packet *)(void *)(r->arena + off);
}

unsigned char *laneshim_packet_ring_reserve(struct laneshim_packet_ring *r)
{
	size_t need = laneshim_packet_record_size(r->max_len);

	r->reserved = NO_RESERVATION;
	if (r->used == 0) {
		/* Empty: start over at 0 so the whole arena is one free run. */
		r->head = r->tail = 0;
		r->reserved = 0;
	} else if (r->tail > r->head) {
		/* Free runs are [tail, cap) and [0, head). */
		if (r->cap - r->tail >= need)
			r->reserved = r->tail;
		else if (r->head >= need)
			r->reserved = 0;
	} else if (r->tail < r->head) {
		if (r->head - r->tail >= need)
			r->reserved = r->tail;
	}
	/* tail == head with used > 0: full. */
	if (r->reserved == NO_RESERVATION)
		return NULL;
	return record_at(r, r->reserved)->data;
}

void laneshim_packet_ring_commit(struct laneshim_packet_ring *r, uint32_t len, uint64_t due_ns)
{
	struct laneshim_packet *p;
	size_t size = laneshim_packet_record_size(len);

	if (r->reserved != r->tail) {
		/* The reservation wrapped: the rest of the arena is padding the reader must skip. */
		record_at(r, r->tail)->len = LANESHIM_PACKET_WRAP;
		r->used += r->cap - r->tail;
		r->tail = 0;
	}
	p = record_at(r, r->tail);
	p->len = len;
	p->due_ns = due_ns;
	r->tail += size;
	r->used += size;
	if (r->tail == r->cap)
		r->tail = 0;
	r->packets++;
	r->reserved = NO_RESERVATION;
}

const struct laneshim_packet *laneshim_packet_ring_peek(struct laneshim_packet_ring *r)
{
	struct laneshim_packet *p;

	if (r->used == 0)
		return NULL;
	p = record_at(r, r->head);
	if (p->len == LANESHIM_PACKET_WRAP) {
		r->used -= r->cap - r->head;
		r->head = 0;
		p = record_at(r, 0);
	}
	return p;
}

void laneshim_packet_ring_pop(struct laneshim_packet_ring *r)
{
	const struct laneshim_packet *p = laneshim_packet_ring_peek(r);
	size_t size;

	if (p == NULL)
		return;
	size = laneshim_packet_record_size(p->len);
	r->head += size;
	r->used -= size;
	if (r->head == r->cap)
		r->head = 0;
	r->packets--;
}
