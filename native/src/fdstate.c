/* fdstate.c - per-fd memory: what kind of socket each fd is, what the program asked for (SO_SNDBUF/SO_RCVBUF) and which
 * fds are lanes. */
#include "laneshim.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/*
 * A three-level table that covers every int fd: 2048 pointers to 1024 pointers to chunks of
 * 1024 entries. Only the top level is static (16 KB of bss); the rest is mmapped on first use
 * and installed with a compare-and-swap, and never freed, so a pointer once read stays valid.
 */
#define CHUNK_BITS    10
#define CHUNK_ENTRIES (1u << CHUNK_BITS)
#define MID_BITS      10
#define MID_ENTRIES   (1u << MID_BITS)
#define TOP_ENTRIES   (1u << (31 - CHUNK_BITS - MID_BITS))
#define FD_LIMIT      (1u << 31)
#define READ_TRIES    4
#define LOCK_SPINS    100000

/*
 * An entry names the socket it belongs to (st_dev, st_ino) and is ignored when the fd number
 * now refers to something else (fds closed by raw system calls, before we hooked close).
 * seq is a sequence lock over the first six fields: odd while a writer is inside; a writer
 * that finds it odd gives up instead of waiting (never block).
 * lane, lane_dev and lane_ino are written only under lane_lock; lane is read without it.
 */
struct fd_entry {
	uint32_t seq;
	uint32_t flags;
	int32_t sndbuf;
	int32_t rcvbuf;
	uint64_t dev;
	uint64_t ino;
	uint32_t lane; /* 1: the agent prepared the socket behind this fd */
	uint32_t kind; /* enum laneshim_kind, from socket()/accept()/dup*(); read and written on its own */
	uint64_t lane_dev;
	uint64_t lane_ino;
};

struct fd_chunk {
	uint32_t lanes; /* entries with lane set: lets scans skip the chunk */
	struct fd_entry entries[CHUNK_ENTRIES];
};

struct fd_mid {
	void *chunks[MID_ENTRIES];
};

static void *top[TOP_ENTRIES];

/* The table at *slot, made on first use when create is set. */
static void *level(void **slot, size_t size, bool create)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *expected = NULL, *mem;

	if (p != NULL || !create)
		return p;
	/* mmap, not malloc: hooks may run inside a malloc that makes sockets (or before it works). */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (__atomic_compare_exchange_n(slot, &expected, mem, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return mem;
	munmap(mem, size);
	return expected;
}

static struct fd_chunk *chunk_of(unsigned fd, bool create)
{
	struct fd_mid *mid;

	if (fd >= FD_LIMIT)
		return NULL;
	mid = level(&top[fd >> (CHUNK_BITS + MID_BITS)], sizeof(struct fd_mid), create);
	if (mid == NULL)
		return NULL;
	return level(&mid->chunks[(fd >> CHUNK_BITS) & (MID_ENTRIES - 1)], sizeof(struct fd_chunk), create);
}

static struct fd_entry *entry(int fd, bool create)
{
	struct fd_chunk *chunk = fd < 0 ? NULL : chunk_of((unsigned)fd, create);

	return chunk == NULL ? NULL : &chunk->entries[(unsigned)fd & (CHUNK_ENTRIES - 1)];
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
	if ((seq & 1) != 0 ||
	    !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
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
		if (flags == 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino)
			return 0;
		*sndbuf = snd;
		*rcvbuf = rcv;
		return flags;
	}
	return 0;
}

/*
 * Kinds: what socket() made on each fd, so connect() can skip sockets that are not TCP without
 * a system call. One relaxed word per fd: written by the hooks that make or copy an fd, cleared
 * by the ones that close it; UNKNOWN (0) for fds made behind our back, which then ask the kernel.
 */
int laneshim_kind_get(int fd)
{
	struct fd_entry *e = entry(fd, false);

	return e == NULL ? LANESHIM_KIND_UNKNOWN : (int)__atomic_load_n(&e->kind, __ATOMIC_RELAXED);
}

void laneshim_kind_set(int fd, int kind)
{
	struct fd_entry *e = entry(fd, kind != LANESHIM_KIND_UNKNOWN);

	/* Read first: close() clears entries that are mostly clear already, and a store dirties the page. */
	if (e != NULL && __atomic_load_n(&e->kind, __ATOMIC_RELAXED) != (uint32_t)kind)
		__atomic_store_n(&e->kind, (uint32_t)kind, __ATOMIC_RELAXED);
}

void laneshim_kind_forget_range(unsigned first, unsigned last)
{
	unsigned fd = first;

	while (fd <= last && fd < FD_LIMIT) {
		struct fd_mid *mid = __atomic_load_n(&top[fd >> (CHUNK_BITS + MID_BITS)], __ATOMIC_ACQUIRE);
		struct fd_chunk *chunk;
		unsigned end;

		if (mid == NULL) {
			fd = (fd | ((1u << (CHUNK_BITS + MID_BITS)) - 1)) + 1;
			continue;
		}
		chunk = __atomic_load_n(&mid->chunks[(fd >> CHUNK_BITS) & (MID_ENTRIES - 1)], __ATOMIC_ACQUIRE);
		end = fd | (CHUNK_ENTRIES - 1);
		if (chunk != NULL) {
			for (unsigned i = fd; i <= end && i <= last; i++) {
				uint32_t *k = &chunk->entries[i & (CHUNK_ENTRIES - 1)].kind;

				/* Read first: most entries are already clear, and a store would dirty their pages. */
				if (__atomic_load_n(k, __ATOMIC_RELAXED) != LANESHIM_KIND_UNKNOWN)
					__atomic_store_n(k, LANESHIM_KIND_UNKNOWN, __ATOMIC_RELAXED);
			}
		}
		fd = end + 1;
	}
}

/*
 * Lanes: sockets the agent prepared. Every fd of this process known to refer to one carries
 * its (st_dev, st_ino), so a socket with several descriptors (dup) is released once, when the
 * last one closes. Deciding "last" reads and writes several entries, so it is done under one
 * lock; only lanes ever take it. A thread never waits on itself (a signal handler closing a
 * lane while its thread holds the lock goes on without it) and waits at most LOCK_SPINS.
 */
static int lane_lock;
static uint32_t lanes_total;
static __thread bool lane_lock_mine __attribute__((tls_model("initial-exec")));

static bool lock_lanes(void)
{
	if (lane_lock_mine)
		return false;
	for (int i = 0; __atomic_exchange_n(&lane_lock, 1, __ATOMIC_ACQUIRE) != 0; i++) {
		if (i >= LOCK_SPINS)
			return false;
		sched_yield();
	}
	lane_lock_mine = true;
	return true;
}

static void unlock_lanes(bool locked)
{
	if (!locked)
		return;
	lane_lock_mine = false;
	__atomic_store_n(&lane_lock, 0, __ATOMIC_RELEASE);
}

static void set_lane(int fd, const struct stat *st)
{
	struct fd_chunk *chunk = chunk_of((unsigned)fd, true);
	struct fd_entry *e;

	if (chunk == NULL)
		return;
	e = &chunk->entries[(unsigned)fd & (CHUNK_ENTRIES - 1)];
	e->lane_dev = (uint64_t)st->st_dev;
	e->lane_ino = (uint64_t)st->st_ino;
	if (__atomic_load_n(&e->lane, __ATOMIC_RELAXED) == 0) {
		__atomic_add_fetch(&chunk->lanes, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&lanes_total, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&e->lane, 1, __ATOMIC_RELEASE);
	}
}

static void clear_lane(int fd)
{
	struct fd_chunk *chunk = fd < 0 ? NULL : chunk_of((unsigned)fd, false);
	struct fd_entry *e;

	if (chunk == NULL)
		return;
	e = &chunk->entries[(unsigned)fd & (CHUNK_ENTRIES - 1)];
	if (__atomic_load_n(&e->lane, __ATOMIC_RELAXED) != 0) {
		__atomic_store_n(&e->lane, 0, __ATOMIC_RELEASE);
		__atomic_sub_fetch(&chunk->lanes, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&lanes_total, 1, __ATOMIC_RELAXED);
	}
}

/* Whether the entry says fd is the socket st describes. */
static bool lane_is(const struct fd_entry *e, const struct stat *st)
{
	return __atomic_load_n(&e->lane, __ATOMIC_ACQUIRE) != 0 && e->lane_dev == (uint64_t)st->st_dev &&
	       e->lane_ino == (uint64_t)st->st_ino;
}

/* The first fd in [from, last] marked as a lane, or -1; skips tables that hold none. */
static int next_lane(unsigned from, unsigned last)
{
	unsigned fd = from;

	while (fd <= last && fd < FD_LIMIT) {
		struct fd_mid *mid = __atomic_load_n(&top[fd >> (CHUNK_BITS + MID_BITS)], __ATOMIC_ACQUIRE);
		struct fd_chunk *chunk;

		if (mid == NULL) {
			fd = (fd | ((1u << (CHUNK_BITS + MID_BITS)) - 1)) + 1;
			continue;
		}
		chunk = __atomic_load_n(&mid->chunks[(fd >> CHUNK_BITS) & (MID_ENTRIES - 1)], __ATOMIC_ACQUIRE);
		if (chunk == NULL || __atomic_load_n(&chunk->lanes, __ATOMIC_RELAXED) == 0) {
			fd = (fd | (CHUNK_ENTRIES - 1)) + 1;
			continue;
		}
		if (__atomic_load_n(&chunk->entries[fd & (CHUNK_ENTRIES - 1)].lane, __ATOMIC_ACQUIRE) != 0)
			return (int)fd;
		fd++;
	}
	return -1;
}

/* Another fd of ours still refers to the socket st describes; stale marks met on the way are dropped. */
static bool other_descriptor(int fd, const struct stat *st)
{
	struct stat other;

	if (__atomic_load_n(&lanes_total, __ATOMIC_RELAXED) == 0)
		return false;
	for (int o = next_lane(0, FD_LIMIT - 1); o >= 0; o = next_lane((unsigned)o + 1, FD_LIMIT - 1)) {
		struct fd_entry *e = entry(o, false);

		if (o == fd || e == NULL || !lane_is(e, st))
			continue;
		if (fstat(o, &other) == 0 && other.st_dev == st->st_dev && other.st_ino == st->st_ino)
			return true;
		clear_lane(o);
	}
	return false;
}

bool laneshim_lane_marked(int fd)
{
	struct fd_entry *e = entry(fd, false);

	return e != NULL && __atomic_load_n(&e->lane, __ATOMIC_RELAXED) != 0;
}

bool laneshim_lanes_any(void)
{
	return __atomic_load_n(&lanes_total, __ATOMIC_RELAXED) != 0;
}

int laneshim_lane_next(unsigned from, unsigned last)
{
	return next_lane(from, last);
}

/* In a forked child: the lanes marked are the parent's (its agent releases them); the child starts with none. */
void laneshim_lanes_forget(void)
{
	lane_lock = 0;
	for (int fd = next_lane(0, FD_LIMIT - 1); fd >= 0; fd = next_lane((unsigned)fd + 1, FD_LIMIT - 1))
		clear_lane(fd);
}

void laneshim_lane_add(int fd)
{
	int saved = errno;
	struct stat st;
	bool locked;

	if (fstat(fd, &st) == 0) {
		locked = lock_lanes();
		set_lane(fd, &st);
		unlock_lanes(locked);
	}
	errno = saved;
}

bool laneshim_lane_release(int fd)
{
	int saved = errno;
	struct fd_entry *e = entry(fd, false);
	struct stat st;
	bool open, last = false, locked;

	/* A forked (or vforked) child leaves the table alone: the parent still holds these sockets. */
	if (e == NULL || !laneshim_agent_live())
		return false;
	open = fstat(fd, &st) == 0;
	locked = lock_lanes();
	if (open && lane_is(e, &st))
		last = !other_descriptor(fd, &st);
	clear_lane(fd);
	unlock_lanes(locked);
	errno = saved;
	return last;
}

void laneshim_lane_dup(int fd, int fd2)
{
	int saved = errno;
	struct fd_entry *e = entry(fd, false);
	struct stat st;
	bool locked;

	if (!laneshim_lane_marked(fd) && !laneshim_lane_marked(fd2))
		return;
	if (!laneshim_agent_live())
		return;
	locked = lock_lanes();
	/* fd2 now refers to fd's file: it shares fd's lane, or it is no lane at all. */
	if (fstat(fd2, &st) == 0 && e != NULL && lane_is(e, &st))
		set_lane(fd2, &st);
	else
		clear_lane(fd2);
	unlock_lanes(locked);
	errno = saved;
}
