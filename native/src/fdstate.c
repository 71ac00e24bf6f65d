/* fdstate.c - per-fd memory of what the program asked for (SO_SNDBUF/SO_RCVBUF), lock-free. */
#include "laneshim.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/*
 * A two-level table: 1024 chunks of 1024 entries cover fds below 2^20 (Linux's default
 * fs.nr_open); chunks are mmapped on first use and installed with a compare-and-swap.
 * Higher fds are not remembered, which only means the agent is not told the program's value.
 */
#define CHUNK_BITS 10
#define CHUNK_ENTRIES (1u << CHUNK_BITS)
#define TOP_ENTRIES 1024u
#define READ_TRIES 4

/*
 * close() is not hooked, so an entry names the socket it belongs to (st_dev, st_ino) and is
 * ignored when the fd number now refers to something else. seq is a sequence lock: odd while
 * a writer is inside; a writer that finds it odd gives up instead of waiting (never block).
 */
struct fd_entry {
	uint32_t seq;
	uint32_t flags;
	int32_t sndbuf;
	int32_t rcvbuf;
	uint64_t dev;
	uint64_t ino;
};

static struct fd_entry *top[TOP_ENTRIES];

static struct fd_entry *entry(int fd, bool create)
{
	struct fd_entry **slot, *chunk, *expected = NULL;
	size_t size = CHUNK_ENTRIES * sizeof(struct fd_entry);
	void *mem;

	if (fd < 0 || (unsigned)fd >= TOP_ENTRIES * CHUNK_ENTRIES)
		return NULL;
	slot = &top[(unsigned)fd >> CHUNK_BITS];
	chunk = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (chunk == NULL && create) {
		/* mmap, not malloc: hooks may run inside a malloc that makes sockets (or before it works). */
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			return NULL;
		if (__atomic_compare_exchange_n(slot, &expected, (struct fd_entry *)mem, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			chunk = mem;
		} else {
			munmap(mem, size);
			chunk = expected;
		}
	}
	return chunk == NULL ? NULL : &chunk[(unsigned)fd & (CHUNK_ENTRIES - 1)];
}

void laneshim_fdstate_remember(int fd, int optname, int value)
{
	bool snd = optname == SO_SNDBUF || optname == SO_SNDBUFFORCE;
	struct fd_entry *e;
	struct stat st;
	uint32_t seq, flags;

	if (fstat(fd, &st) != 0 || (e = entry(fd, true)) == NULL)
		return;
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if ((seq & 1) != 0 || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
							    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	flags = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
	if (__atomic_load_n(&e->dev, __ATOMIC_RELAXED) != (uint64_t)st.st_dev ||
	    __atomic_load_n(&e->ino, __ATOMIC_RELAXED) != (uint64_t)st.st_ino) {
		flags = 0;
		__atomic_store_n(&e->dev, (uint64_t)st.st_dev, __ATOMIC_RELAXED);
		__atomic_store_n(&e->ino, (uint64_t)st.st_ino, __ATOMIC_RELAXED);
	}
	__atomic_store_n(snd ? &e->sndbuf : &e->rcvbuf, value, __ATOMIC_RELAXED);
	flags |= snd ? LANESHIM_FLOW_APP_SNDBUF : LANESHIM_FLOW_APP_RCVBUF;
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

uint32_t laneshim_fdstate_get(int fd, int32_t *sndbuf, int32_t *rcvbuf)
{
	struct fd_entry *e = entry(fd, false);
	uint32_t seq, flags;
	int32_t snd, rcv;
	uint64_t dev, ino;
	struct stat st;

	if (e == NULL)
		return 0;
	for (int i = 0; i < READ_TRIES; i++) {
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		flags = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
		snd = __atomic_load_n(&e->sndbuf, __ATOMIC_RELAXED);
		rcv = __atomic_load_n(&e->rcvbuf, __ATOMIC_RELAXED);
		dev = __atomic_load_n(&e->dev, __ATOMIC_RELAXED);
		ino = __atomic_load_n(&e->ino, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((seq & 1) != 0 || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
			continue;
		/* Only sockets with something remembered pay for the fstat. */
		if (flags == 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_dev != dev ||
		    (uint64_t)st.st_ino != ino)
			return 0;
		*sndbuf = snd;
		*rcvbuf = rcv;
		return flags;
	}
	return 0;
}
