/* link_direction.c - the emulation itself: loss, tail drop, serialization at the rate, then the delay line. */
#include "link_direction.h"

#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The largest packet a TUN device can hand us, whatever MTU someone sets on it later. */
#define MAX_PACKET 65535
/* Bounded batches keep one side from starving the other when the thread falls behind. */
#define READ_BATCH  64
#define WRITE_BATCH 256
/*
 * Wake-ups may be this late so the kernel can coalesce them: 20 us is 0.05% of a 40 ms RTT and about a
 * quarter of a 9000-byte packet time at 1 Gbit/s.
 */
#define TIMER_SLACK_NS 20000

static inline void count(_Atomic uint64_t *c, uint64_t v)
{
	/* Single writer: a relaxed load and store, no locked instruction. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

static inline void set_max(_Atomic uint64_t *c, uint64_t v)
{
	if (v > atomic_load_explicit(c, memory_order_relaxed))
		atomic_store_explicit(c, v, memory_order_relaxed);
}

int laneshim_link_direction_init(struct laneshim_link_direction *d, const char *name,
				 const struct laneshim_link_params *params, const struct laneshim_options *o,
				 uint64_t stream, const struct laneshim_tun *in, const struct laneshim_tun *out,
				 int stop_fd, const _Atomic int *stop)
{
	size_t cap = params->buffer_bytes;
	int err;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->params = *params;
	d->overhead = o->overhead;
	d->in = in;
	d->out = out;
	d->in_fd = in->fd;
	d->out_fd = out->fd;
	d->stop_fd = stop_fd;
	d->stop = stop;
	laneshim_rng_seed(&d->rng, o->seed, stream);
	/* Drop when a uniform 64-bit draw is below p x 2^64; p so close to 1 that this rounds to 2^64 is 1. */
	if (params->loss * 18446744073709551616.0 >= 18446744073709551616.0)
		d->loss_always = true;
	else
		d->loss_threshold = (uint64_t)(params->loss * 18446744073709551616.0);

	if (cap < 16 * laneshim_packet_record_size(MAX_PACKET))
		cap = 16 * laneshim_packet_record_size(MAX_PACKET);
	err = laneshim_packet_ring_init(&d->ring, cap, MAX_PACKET);
	if (err)
		return err;
	d->params.buffer_bytes = d->ring.cap;
	d->spill = malloc(MAX_PACKET);
	if (d->spill == NULL) {
		laneshim_packet_ring_free(&d->ring);
		return -ENOMEM;
	}
	return 0;
}

void laneshim_link_direction_free(struct laneshim_link_direction *d)
{
	laneshim_packet_ring_free(&d->ring);
	free(d->spill);
	d->spill = NULL;
}

static uint64_t backlog_bytes(uint64_t tx_end_ns, uint64_t now_ns, uint64_t rate_bps)
{
	if (rate_bps == 0 || tx_end_ns <= now_ns)
		return 0;
	return (uint64_t)((double)(tx_end_ns - now_ns) * (double)rate_bps / 8e9);
}

uint64_t laneshim_link_direction_backlog(const struct laneshim_link_direction *d, uint64_t now_ns)
{
	uint64_t tx_end = atomic_load_explicit(&d->counters.tx_end_ns, memory_order_relaxed);

	return backlog_bytes(tx_end, now_ns, d->params.rate_bps);
}

/* Time to clock wire_bytes out at the rate; the remainder carries over so long runs are exact. */
static uint64_t serialization_ns(struct laneshim_link_direction *d, uint64_t wire_bytes)
{
	uint64_t scaled = wire_bytes * 8 * 1000000000u + d->tx_rem;

	d->tx_rem = scaled % d->params.rate_bps;
	return scaled / d->params.rate_bps;
}

/*
 * Decides the fate of a packet that arrived at now: random loss, then tail drop against the bytes still
 * waiting for the serializer, else a departure time. Returns 0 (due_ns set) or 1 (dropped).
 */
static int admit(struct laneshim_link_direction *d, uint32_t len, uint64_t now, uint64_t *due_ns)
{
	struct laneshim_link_counters *c = &d->counters;
	uint64_t wire = (uint64_t)len + d->overhead;
	uint64_t start, backlog;

	if (d->loss_always || laneshim_rng_next(&d->rng) < d->loss_threshold) {
		count(&c->dropped_loss_packets, 1);
		count(&c->dropped_loss_bytes, len);
		return 1;
	}
	if (d->params.rate_bps == 0) {
		*due_ns = now + d->params.delay_ns;
		return 0;
	}
	backlog = backlog_bytes(d->tx_end_ns, now, d->params.rate_bps);
	if (d->params.queue_bytes != 0 && backlog + wire > d->params.queue_bytes) {
		count(&c->dropped_queue_packets, 1);
		count(&c->dropped_queue_bytes, len);
		return 1;
	}
	set_max(&c->max_queue_bytes, backlog + wire);
	start = d->tx_end_ns > now ? d->tx_end_ns : now;
	d->tx_end_ns = start + serialization_ns(d, wire);
	atomic_store_explicit(&c->tx_end_ns, d->tx_end_ns, memory_order_relaxed);
	*due_ns = d->tx_end_ns + d->params.delay_ns;
	return 0;
}

/* Reads up to READ_BATCH packets; *more is true when the batch filled (more may be waiting). */
static int drain_input(struct laneshim_link_direction *d, bool *more)
{
	struct laneshim_link_counters *c = &d->counters;

	for (int i = 0; i < READ_BATCH; i++) {
		unsigned char *slot = laneshim_packet_ring_reserve(&d->ring);
		uint64_t due;
		ssize_t n;

		n = read(d->in_fd, slot != NULL ? slot : d->spill, MAX_PACKET);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*more = false;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n == 0)
			continue;
		count(&c->received_packets, 1);
		count(&c->received_bytes, (uint64_t)n);
		if (slot == NULL) {
			count(&c->dropped_buffer_packets, 1);
			continue;
		}
		/* Stamp each packet as it is read: a batch may span tens of microseconds. */
		if (admit(d, (uint32_t)n, laneshim_now_ns(), &due) == 0)
			laneshim_packet_ring_commit(&d->ring, (uint32_t)n, due);
	}
	*more = true;
	return 0;
}

/* Writes every packet due by *now, at most WRITE_BATCH; *now is kept current as writes take time. */
static void deliver_due(struct laneshim_link_direction *d, uint64_t *now)
{
	struct laneshim_link_counters *c = &d->counters;

	for (int i = 0; i < WRITE_BATCH; i++) {
		const struct laneshim_packet *p = laneshim_packet_ring_peek(&d->ring);
		ssize_t n;

		if (p == NULL || p->due_ns > *now)
			return;
		set_max(&c->max_late_ns, *now - p->due_ns);
		count(&c->total_late_ns, *now - p->due_ns);
		do
			n = write(d->out_fd, p->data, p->len);
		while (n < 0 && errno == EINTR);
		/* The write ran the receiver's stack in this thread: time moved on. */
		*now = laneshim_now_ns();
		if (n < 0) {
			/* The far device is down or refused the packet: a link loses it, and keeps going. */
			count(&c->write_errors, 1);
		} else {
			count(&c->forwarded_packets, 1);
			count(&c->forwarded_bytes, p->len);
		}
		laneshim_packet_ring_pop(&d->ring);
	}
}

void *laneshim_link_direction_run(void *arg)
{
	struct laneshim_link_direction *d = arg;
	struct pollfd fds[2] = {
		{.fd = d->in_fd, .events = POLLIN},
		{.fd = d->stop_fd, .events = POLLIN},
	};
	bool readable = true;
	uint64_t now;
	int err;

	prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
	while (!atomic_load_explicit(d->stop, memory_order_relaxed)) {
		const struct laneshim_packet *p;
		struct timespec ts;

		if (readable) {
			err = drain_input(d, &readable);
			if (err) {
				d->error = err;
				kill(getpid(), SIGUSR1); /* the main thread turns this into a clean exit 1 */
				break;
			}
		}
		now = laneshim_now_ns();
		deliver_due(d, &now);
		atomic_store_explicit(&d->counters.buffered_packets, d->ring.packets, memory_order_relaxed);
		if (readable)
			continue;

		/* Sleep until the head packet is due or input arrives; due times are absolute, so no drift. */
		p = laneshim_packet_ring_peek(&d->ring);
		if (p != NULL)
			ts = laneshim_timespec(p->due_ns > now ? p->due_ns - now : 0);
		if (ppoll(fds, 2, p != NULL ? &ts : NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			d->error = -errno;
			kill(getpid(), SIGUSR1);
			break;
		}
		if (fds[1].revents != 0)
			break;
		readable = fds[0].revents != 0;
	}
	return NULL;
}
