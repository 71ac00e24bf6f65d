/* stats_file.c - renders the counters of both directions as one JSON document. */
#include "stats_file.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static unsigned long long get(const _Atomic uint64_t *c)
{
	return (unsigned long long)atomic_load_explicit(c, memory_order_relaxed);
}

/* Device and namespace names are restricted (no quotes or backslashes pass the parser), so no escaping. */
static void endpoint(FILE *f, const struct laneshim_endpoint *ep)
{
	fprintf(f, "{\"netns\": \"%s\", \"dev\": \"%s\"}", ep->netns, ep->dev);
}

static void direction(FILE *f, const struct laneshim_link_direction *d, const struct laneshim_endpoint *from,
		      const struct laneshim_endpoint *to, uint64_t now)
{
	const struct laneshim_link_counters *c = &d->counters;
	unsigned long long forwarded = get(&c->forwarded_packets) + get(&c->write_errors);
	uint64_t input_dropped = 0;

	/* Best effort: 0 if the namespace's /proc/net/dev cannot be read. */
	laneshim_tun_tx_dropped(d->in, &input_dropped);

	fprintf(f, "    \"%s\": {\n      \"from\": ", d->name);
	endpoint(f, from);
	fprintf(f, ",\n      \"to\": ");
	endpoint(f, to);
	fprintf(f,
		",\n      \"delay_ns\": %llu, \"rate_bps\": %llu, \"queue_limit_bytes\": %llu, \"loss\": %.10g,\n"
		"      \"received_packets\": %llu, \"received_bytes\": %llu,\n"
		"      \"forwarded_packets\": %llu, \"forwarded_bytes\": %llu,\n"
		"      \"dropped_loss_packets\": %llu, \"dropped_loss_bytes\": %llu,\n"
		"      \"dropped_queue_packets\": %llu, \"dropped_queue_bytes\": %llu,\n"
		"      \"dropped_buffer_packets\": %llu, \"dropped_input_packets\": %llu, \"write_errors\": %llu,\n"
		"      \"queue_bytes\": %llu, \"max_queue_bytes\": %llu,\n"
		"      \"buffered_packets\": %llu, \"mean_late_ns\": %llu, \"max_late_ns\": %llu\n    }",
		(unsigned long long)d->params.delay_ns, (unsigned long long)d->params.rate_bps,
		(unsigned long long)d->params.queue_bytes, d->params.loss, get(&c->received_packets),
		get(&c->received_bytes), get(&c->forwarded_packets), get(&c->forwarded_bytes),
		get(&c->dropped_loss_packets), get(&c->dropped_loss_bytes), get(&c->dropped_queue_packets),
		get(&c->dropped_queue_bytes), get(&c->dropped_buffer_packets), (unsigned long long)input_dropped,
		get(&c->write_errors), (unsigned long long)laneshim_link_direction_backlog(d, now),
		get(&c->max_queue_bytes), get(&c->buffered_packets),
		forwarded != 0 ? get(&c->total_late_ns) / forwarded : 0ull, get(&c->max_late_ns));
}

int laneshim_stats_write(const char *path, const struct laneshim_options *o, const struct laneshim_link_direction *ab,
			 const struct laneshim_link_direction *ba, uint64_t started_ns, int final)
{
	char tmp[4200];
	struct timeval tv;
	uint64_t now = laneshim_now_ns();
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -errno;
	gettimeofday(&tv, NULL);
	fprintf(f,
		"{\n  \"pid\": %d, \"time_unix\": %lld.%06ld, \"uptime_s\": %.3f, \"final\": %s,\n"
		"  \"seed\": %llu, \"mtu\": %u, \"overhead\": %u,\n  \"directions\": {\n",
		(int)getpid(), (long long)tv.tv_sec, (long)tv.tv_usec, (double)(now - started_ns) / 1e9,
		final ? "true" : "false", (unsigned long long)o->seed, o->mtu, o->overhead);
	direction(f, ab, &o->a, &o->b, now);
	fprintf(f, ",\n");
	direction(f, ba, &o->b, &o->a, now);
	fprintf(f, "\n  }\n}\n");
	if (ferror(f))
		err = -EIO;
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	if (err == 0 && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
