/* link_direction.h - one direction of the emulated link: reads packets at one end, delivers them at the other. */
#ifndef LANESHIM_LINKEMU_LINK_DIRECTION_H
#define LANESHIM_LINKEMU_LINK_DIRECTION_H

#include "options.h"
#include "packet_ring.h"
#include "rng.h"
#include "tun_device.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Written only by the direction's thread (relaxed stores), read by the stats writer at any time. */
struct laneshim_link_counters {
	_Atomic uint64_t received_packets, received_bytes;           /* read from the input device */
	_Atomic uint64_t forwarded_packets, forwarded_bytes;         /* written to the output device */
	_Atomic uint64_t dropped_loss_packets, dropped_loss_bytes;   /* random loss */
	_Atomic uint64_t dropped_queue_packets, dropped_queue_bytes; /* tail drop */
	_Atomic uint64_t dropped_buffer_packets;                     /* packet memory full (raise --buffer) */
	_Atomic uint64_t write_errors;                               /* the output device refused a packet */
	_Atomic uint64_t max_queue_bytes;                            /* largest backlog after an enqueue */
	_Atomic uint64_t tx_end_ns;                                  /* when the serializer goes idle */
	_Atomic uint64_t buffered_packets;                           /* held in the delay line now */
	_Atomic uint64_t max_late_ns, total_late_ns;                 /* delivery after due time: worst, sum */
};

struct laneshim_link_direction {
	const char *name; /* "ab" or "ba" */
	struct laneshim_link_params params;
	unsigned overhead;
	const struct laneshim_tun *in, *out;
	int in_fd, out_fd;
	int stop_fd;             /* readable once the process is stopping */
	const _Atomic int *stop; /* set before stop_fd is signalled */

	struct laneshim_packet_ring ring;
	struct laneshim_rng rng;
	uint64_t loss_threshold; /* drop when rng < threshold */
	bool loss_always;
	uint64_t tx_end_ns;   /* end of serialization of the last accepted packet */
	uint64_t tx_rem;      /* sub-nanosecond remainder of serialization times, in rate units */
	unsigned char *spill; /* where a packet goes when the ring is full, to be read and dropped */
	_Atomic int error;    /* negative errno if the thread stopped on a failure */

	/* Own cache lines: the two directions run on different CPUs. */
	_Alignas(64) struct laneshim_link_counters counters;
};

int laneshim_link_direction_init(struct laneshim_link_direction *d, const char *name,
				 const struct laneshim_link_params *params, const struct laneshim_options *o,
				 uint64_t stream, const struct laneshim_tun *in, const struct laneshim_tun *out,
				 int stop_fd, const _Atomic int *stop);
void laneshim_link_direction_free(struct laneshim_link_direction *d);

/* Thread body; returns when *stop is set or on an unrecoverable device error (d->error). */
void *laneshim_link_direction_run(void *arg);

/* Bytes waiting for serialization at time now, from the counters (any thread). */
uint64_t laneshim_link_direction_backlog(const struct laneshim_link_direction *d, uint64_t now_ns);

#endif
