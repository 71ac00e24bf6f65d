/* packet_ring.h - a preallocated FIFO of variable-size packets, each stored inline with its departure time. */
#ifndef LANESHIM_LINKEMU_PACKET_RING_H
#define LANESHIM_LINKEMU_PACKET_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * Packets are stored back to back in one byte arena, so a 52-byte ACK costs 64 bytes rather than a
 * 9000-byte slot. One thread both produces and consumes, so there is no locking.
 */
struct laneshim_packet {
	uint32_t len; /* bytes of data; LANESHIM_PACKET_WRAP marks "continue at offset 0" */
	uint32_t unused;
	uint64_t due_ns; /* CLOCK_MONOTONIC time at which the packet leaves the far end of the link */
	unsigned char data[];
};

#define LANESHIM_PACKET_WRAP UINT32_MAX

struct laneshim_packet_ring {
	unsigned char *arena;
	size_t cap;       /* arena bytes, a multiple of 16 */
	size_t max_len;   /* largest packet a reservation must fit */
	size_t head;      /* oldest record */
	size_t tail;      /* where the next record goes */
	size_t used;      /* bytes between head and tail, wrap padding included */
	size_t reserved;  /* offset handed out by the last reserve() */
	uint64_t packets; /* records (not counting wrap markers) */
};

/* Allocates (and touches) cap bytes so the forwarding path never faults a page in. */
int laneshim_packet_ring_init(struct laneshim_packet_ring *r, size_t cap, size_t max_len);
void laneshim_packet_ring_free(struct laneshim_packet_ring *r);

/* Room for a max_len packet, or NULL when the arena is full. Nothing changes until commit. */
unsigned char *laneshim_packet_ring_reserve(struct laneshim_packet_ring *r);

/* Appends the packet written into the last reservation; len <= max_len. */
void laneshim_packet_ring_commit(struct laneshim_packet_ring *r, uint32_t len, uint64_t due_ns);

/* Oldest packet, or NULL when empty. */
const struct laneshim_packet *laneshim_packet_ring_peek(struct laneshim_packet_ring *r);

/* Removes the packet peek() returned. */
void laneshim_packet_ring_pop(struct laneshim_packet_ring *r);

/* Arena bytes a packet of len occupies. */
static inline size_t laneshim_packet_record_size(size_t len)
{
	return (sizeof(struct laneshim_packet) + len + 15) & ~(size_t)15;
}

#endif
