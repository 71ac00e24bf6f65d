/* options.c - command-line parsing: every parameter a flag, per-direction overrides win over the shared ones. */
#include "options.h"

#include "packet_ring.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_A = 256,
	OPT_B,
	OPT_DELAY,
	OPT_DELAY_AB,
	OPT_DELAY_BA,
	OPT_RATE,
	OPT_RATE_AB,
	OPT_RATE_BA,
	OPT_QUEUE,
	OPT_QUEUE_AB,
	OPT_QUEUE_BA,
	OPT_LOSS,
	OPT_LOSS_AB,
	OPT_LOSS_BA,
	OPT_SEED,
	OPT_MTU,
	OPT_TXQUEUELEN,
	OPT_OVERHEAD,
	OPT_BUFFER,
	OPT_STATS,
	OPT_STATS_INTERVAL,
	OPT_PIDFILE,
	OPT_READY_FD,
	OPT_RT_PRIORITY,
	OPT_QUIET,
	OPT_HELP,
};

static const struct option long_options[] = {
	{"a", required_argument, NULL, OPT_A},
	{"b", required_argument, NULL, OPT_B},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"delay-ab", required_argument, NULL, OPT_DELAY_AB},
	{"delay-ba", required_argument, NULL, OPT_DELAY_BA},
	{"rate", required_argument, NULL, OPT_RATE},
	{"rate-ab", required_argument, NULL, OPT_RATE_AB},
	{"rate-ba", required_argument, NULL, OPT_RATE_BA},
	{"queue", required_argument, NULL, OPT_QUEUE},
	{"queue-ab", required_argument, NULL, OPT_QUEUE_AB},
	{"queue-ba", required_argument, NULL, OPT_QUEUE_BA},
	{"loss", required_argument, NULL, OPT_LOSS},
	{"loss-ab", required_argument, NULL, OPT_LOSS_AB},
	{"loss-ba", required_argument, NULL, OPT_LOSS_BA},
	{"seed", required_argument, NULL, OPT_SEED},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"txqueuelen", required_argument, NULL, OPT_TXQUEUELEN},
	{"overhead", required_argument, NULL, OPT_OVERHEAD},
	{"buffer", required_argument, NULL, OPT_BUFFER},
	{"stats", required_argument, NULL, OPT_STATS},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"pidfile", required_argument, NULL, OPT_PIDFILE},
	{"ready-fd", required_argument, NULL, OPT_READY_FD},
	{"rt-priority", required_argument, NULL, OPT_RT_PRIORITY},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* A value given for both directions and, optionally, for one; the one-direction value wins in any order. */
struct per_direction {
	bool both_set, ab_set, ba_set;
};

struct queue_value {
	uint64_t bytes;
	double bdp_multiple;
};

struct raw_options {
	uint64_t delay[3], rate[3];
	struct queue_value queue[3];
	double loss[3];
	struct per_direction delay_set, rate_set, queue_set, loss_set;
	bool a_set, b_set, seed_set;
	uint64_t buffer;
};

enum { BOTH, AB, BA };

void laneshim_options_usage(FILE *out)
{
	fputs("Usage: laneshim-linkemu --a NETNS:DEV:ADDR/PREFIX --b NETNS:DEV:ADDR/PREFIX [options]\n"
	      "Emulates one point-to-point WAN link between two network namespaces with a TUN device at each end.\n"
	      "Direction ab carries packets that enter at A and leave at B; ba the reverse.\n"
	      "\n"
	      "Endpoints:\n"
	      "  --a NETNS:DEV:ADDR/PREFIX[,ADDR/PREFIX...]  end A: namespace (name under /var/run/netns, a path,\n"
	      "                             or empty/'.' for the current one), TUN device name, IPv4/IPv6 addresses\n"
	      "  --b NETNS:DEV:ADDR/PREFIX  end B, same form\n"
	      "Link (--X sets both directions; --X-ab / --X-ba set one and win over --X in any order):\n"
	      "  --delay, --delay-ab, --delay-ba TIME\n"
	      "                             one-way delay (default 0); ns, us, ms, s; a bare number is ms\n"
	      "  --rate, --rate-ab, --rate-ba RATE\n"
	      "                             serialization rate of IP bytes (default 0 = unlimited); bit, kbit,\n"
	      "                             mbit, gbit, tbit (SI, x1000)\n"
	      "  --queue, --queue-ab, --queue-ba SIZE\n"
	      "                             tail-drop limit on bytes waiting for serialization (default 1bdp =\n"
	      "                             rate x (delay-ab + delay-ba) / 8, at least 4 MTU; 0 = unlimited);\n"
	      "                             b, k, m, g (x1024) or a multiple of the BDP such as 2bdp\n"
	      "  --loss, --loss-ab, --loss-ba P\n"
	      "                             independent random loss: 0.01% or 0.0001 (default 0)\n"
	      "Other:\n"
	      "  --seed N                   loss generator seed (default: random; written to --stats)\n"
	      "  --mtu BYTES                MTU of both devices (default 1500)\n"
	      "  --txqueuelen N             txqueuelen of both devices (default 10000)\n"
	      "  --overhead BYTES           bytes added to each packet when charging the rate (default 0;\n"
	      "                             38 models Ethernet framing)\n"
	      "  --buffer SIZE              packet memory per direction (default: sized from queue, rate and delay)\n"
	      "  --stats FILE               write JSON counters per direction to FILE (atomically replaced)\n"
	      "  --stats-interval TIME      how often to write --stats (default 1s)\n"
	      "  --pidfile FILE             write the process id to FILE; removed on exit\n"
	      "  --ready-fd N               write \"ready\\n\" to fd N and close it once forwarding (default: stdout)\n"
	      "  --rt-priority N            run the forwarding threads SCHED_FIFO at priority N (1-99)\n"
	      "  --quiet                    no startup summary on stderr\n"
	      "  --help                     this text\n"
	      "Exit status: 0 after SIGTERM/SIGINT, 1 on a setup or runtime failure, 2 on a bad command line.\n",
	      out);
}

static enum laneshim_parse_result fail(char *why, size_t whylen, const char *flag, const char *detail)
{
	snprintf(why, whylen, "--%s %s", flag, detail);
	return LANESHIM_PARSE_ERROR;
}

static int parse_ifaddr(const char *text, struct laneshim_ifaddr *ia, char *why, size_t whylen)
{
	char buf[80];
	char *slash;
	uint64_t prefix;

	if (strlen(text) >= sizeof(buf) || strlen(text) >= sizeof(ia->text)) {
		snprintf(why, whylen, "address '%s' is too long", text);
		return -EINVAL;
	}
	strcpy(buf, text);
	strcpy(ia->text, text);
	slash = strchr(buf, '/');
	if (slash == NULL) {
		snprintf(why, whylen, "address '%s' needs a /PREFIX", text);
		return -EINVAL;
	}
	*slash = '\0';
	ia->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(ia->family, buf, ia->addr) != 1) {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	if (laneshim_parse_uint(slash + 1, 0, ia->family == AF_INET ? 32 : 128, &prefix, why, whylen) != 0) {
		snprintf(why, whylen, "prefix '%s' of '%s' is out of range", slash + 1, text);
		return -EINVAL;
	}
	ia->prefix = (unsigned)prefix;
	return 0;
}

/* NETNS:DEV[:ADDR/PREFIX[,ADDR/PREFIX...]]; IPv6 addresses may hold colons, so only the first two split. */
static int parse_endpoint(const char *s, struct laneshim_endpoint *ep, char *why, size_t whylen)
{
	const char *c1, *c2, *dev, *addrs;
	size_t nslen, devlen;

	memset(ep, 0, sizeof(*ep));
	c1 = strchr(s, ':');
	if (c1 == NULL) {
		snprintf(why, whylen, "'%s' is not NETNS:DEV:ADDR/PREFIX", s);
		return -EINVAL;
	}
	nslen = (size_t)(c1 - s);
	dev = c1 + 1;
	c2 = strchr(dev, ':');
	devlen = c2 != NULL ? (size_t)(c2 - dev) : strlen(dev);
	addrs = c2 != NULL ? c2 + 1 : "";
	if (nslen >= sizeof(ep->netns)) {
		snprintf(why, whylen, "namespace name in '%s' is too long", s);
		return -EINVAL;
	}
	memcpy(ep->netns, s, nslen);
	/* Names go into messages and the JSON stats file unescaped. */
	for (const char *ch = ep->netns; *ch != '\0'; ch++) {
		if (*ch == '"' || *ch == '\\' || (unsigned char)*ch < 0x20) {
			snprintf(why, whylen, "namespace name in '%s' has a quote, backslash or control character", s);
			return -EINVAL;
		}
	}
	if (strcmp(ep->netns, ".") == 0)
		ep->netns[0] = '\0';
	if (devlen == 0 || devlen >= IFNAMSIZ) {
		snprintf(why, whylen, "device name in '%s' must be 1-%d characters", s, IFNAMSIZ - 1);
		return -EINVAL;
	}
	memcpy(ep->dev, dev, devlen);
	if (strpbrk(ep->dev, "/ \t\n%:\"\\") != NULL || strcmp(ep->dev, ".") == 0 || strcmp(ep->dev, "..") == 0) {
		snprintf(why, whylen, "'%s' is not a valid device name", ep->dev);
		return -EINVAL;
	}
	while (*addrs != '\0') {
		const char *comma = strchr(addrs, ',');
		size_t len = comma != NULL ? (size_t)(comma - addrs) : strlen(addrs);
		char one[80];
		int err;

		if (ep->naddrs == LANESHIM_MAX_ADDRS) {
			snprintf(why, whylen, "at most %d addresses per device", LANESHIM_MAX_ADDRS);
			return -EINVAL;
		}
		if (len == 0 || len >= sizeof(one)) {
			snprintf(why, whylen, "empty or overlong address in '%s'", s);
			return -EINVAL;
		}
		memcpy(one, addrs, len);
		one[len] = '\0';
		err = parse_ifaddr(one, &ep->addrs[ep->naddrs], why, whylen);
		if (err)
			return err;
		ep->naddrs++;
		addrs += len + (comma != NULL ? 1 : 0);
	}
	return 0;
}

static void mark(struct per_direction *set, int which)
{
	if (which == BOTH)
		set->both_set = true;
	else if (which == AB)
		set->ab_set = true;
	else
		set->ba_set = true;
}

/* The value for direction dir (AB or BA): its own flag, else the shared one, else the default at [BOTH]. */
static int pick(const struct per_direction *set, int dir)
{
	if (dir == AB && set->ab_set)
		return AB;
	if (dir == BA && set->ba_set)
		return BA;
	return BOTH;
}

static uint64_t bdp_bytes(uint64_t rate_bps, uint64_t rtt_ns)
{
	return (uint64_t)((double)rate_bps * (double)rtt_ns / 8e9);
}

static void resolve_direction(const struct raw_options *raw, const struct laneshim_options *o, int dir,
			      struct laneshim_link_params *p, uint64_t rtt_ns)
{
	const struct queue_value *q = &raw->queue[pick(&raw->queue_set, dir)];
	uint64_t floor = 4 * (uint64_t)(o->mtu + o->overhead);
	uint64_t headroom, delay_line, fill_rate;

	p->delay_ns = raw->delay[pick(&raw->delay_set, dir)];
	p->rate_bps = raw->rate[pick(&raw->rate_set, dir)];
	p->loss = raw->loss[pick(&raw->loss_set, dir)];
	if (p->rate_bps == 0)
		p->queue_bytes = 0; /* nothing waits for serialization on an unlimited link */
	else if (q->bdp_multiple > 0) {
		p->queue_bytes = (uint64_t)(q->bdp_multiple * (double)bdp_bytes(p->rate_bps, rtt_ns));
		if (p->queue_bytes < floor)
			p->queue_bytes = floor;
	} else
		p->queue_bytes = q->bytes;

	if (raw->buffer != 0) {
		p->buffer_bytes = raw->buffer;
		return;
	}
	/*
	 * Packets held = queue + what is in flight on the wire (rate x delay) + what arrives while the thread
	 * is off the CPU (10 ms at full rate). Twice the IP bytes covers the 16-byte record header and the
	 * alignment of the smallest packets. An unlimited link is sized for about what this program can
	 * forward, 10 Gbit/s.
	 */
	fill_rate = p->rate_bps != 0 ? p->rate_bps : 10000000000ull;
	delay_line = bdp_bytes(fill_rate, p->delay_ns);
	headroom = 512 * laneshim_packet_record_size(o->mtu) + bdp_bytes(fill_rate, 10000000);
	p->buffer_bytes = 2 * (p->queue_bytes + delay_line) + headroom;
	if (p->buffer_bytes > (8ull << 30))
		p->buffer_bytes = 8ull << 30;
}

enum laneshim_parse_result laneshim_options_parse(int argc, char **argv, struct laneshim_options *o, char *why,
						  size_t whylen)
{
	struct raw_options raw;
	char detail[256];
	uint64_t v, rtt_ns;
	int c, err = 0, dir;

	memset(o, 0, sizeof(*o));
	memset(&raw, 0, sizeof(raw));
	o->mtu = 1500;
	o->txqueuelen = 10000;
	o->stats_interval_ns = 1000000000;
	o->ready_fd = -1;
	raw.queue[BOTH].bdp_multiple = 1;
	why[0] = '\0';

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		const char *name = NULL;

		for (const struct option *lo = long_options; lo->name != NULL; lo++)
			if (lo->val == c)
				name = lo->name;
		detail[0] = '\0';
		switch (c) {
		case OPT_A:
		case OPT_B: {
			char epwhy[200];
			struct laneshim_endpoint *ep = c == OPT_A ? &o->a : &o->b;

			err = parse_endpoint(optarg, ep, epwhy, sizeof(epwhy));
			if (err) {
				snprintf(detail, sizeof(detail), "'%s': %s", optarg, epwhy);
				return fail(why, whylen, name, detail);
			}
			if (c == OPT_A)
				raw.a_set = true;
			else
				raw.b_set = true;
			break;
		}
		case OPT_DELAY:
		case OPT_DELAY_AB:
		case OPT_DELAY_BA:
			dir = c - OPT_DELAY;
			err = laneshim_parse_duration(optarg, &raw.delay[dir], detail, sizeof(detail));
			mark(&raw.delay_set, dir);
			break;
		case OPT_RATE:
		case OPT_RATE_AB:
		case OPT_RATE_BA:
			dir = c - OPT_RATE;
			err = laneshim_parse_rate(optarg, &raw.rate[dir], detail, sizeof(detail));
			mark(&raw.rate_set, dir);
			break;
		case OPT_QUEUE:
		case OPT_QUEUE_AB:
		case OPT_QUEUE_BA:
			dir = c - OPT_QUEUE;
			err = laneshim_parse_size(optarg, &raw.queue[dir].bytes, &raw.queue[dir].bdp_multiple, detail,
						  sizeof(detail));
			mark(&raw.queue_set, dir);
			break;
		case OPT_LOSS:
		case OPT_LOSS_AB:
		case OPT_LOSS_BA:
			dir = c - OPT_LOSS;
			err = laneshim_parse_probability(optarg, &raw.loss[dir], detail, sizeof(detail));
			mark(&raw.loss_set, dir);
			break;
		case OPT_SEED:
			err = laneshim_parse_uint(optarg, 0, UINT64_MAX, &o->seed, detail, sizeof(detail));
			raw.seed_set = true;
			break;
		case OPT_MTU:
			/* 68 is the IPv4 minimum; 65535 the TUN maximum. */
			err = laneshim_parse_uint(optarg, 68, 65535, &v, detail, sizeof(detail));
			o->mtu = (unsigned)v;
			break;
		case OPT_TXQUEUELEN:
			err = laneshim_parse_uint(optarg, 1, 1000000, &v, detail, sizeof(detail));
			o->txqueuelen = (unsigned)v;
			break;
		case OPT_OVERHEAD:
			err = laneshim_parse_uint(optarg, 0, 1000, &v, detail, sizeof(detail));
			o->overhead = (unsigned)v;
			break;
		case OPT_BUFFER: {
			double multiple;

			err = laneshim_parse_size(optarg, &raw.buffer, &multiple, detail, sizeof(detail));
			if (!err && multiple > 0) {
				snprintf(detail, sizeof(detail), "'%s': give the buffer in bytes", optarg);
				err = -EINVAL;
			}
			break;
		}
		case OPT_STATS:
			o->stats_path = optarg;
			break;
		case OPT_STATS_INTERVAL:
			err = laneshim_parse_duration(optarg, &o->stats_interval_ns, detail, sizeof(detail));
			if (!err && o->stats_interval_ns < 10000000) {
				snprintf(detail, sizeof(detail), "'%s' is below 10ms", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_READY_FD:
			err = laneshim_parse_uint(optarg, 0, 1 << 20, &v, detail, sizeof(detail));
			o->ready_fd = (int)v;
			break;
		case OPT_RT_PRIORITY:
			err = laneshim_parse_uint(optarg, 1, 99, &v, detail, sizeof(detail));
			o->rt_priority = (int)v;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case 'h':
		case OPT_HELP:
			return LANESHIM_PARSE_HELP;
		case ':':
			snprintf(why, whylen, "%s needs a value", argv[optind - 1]);
			return LANESHIM_PARSE_ERROR;
		default:
			snprintf(why, whylen, "unknown option '%s'", argv[optind - 1]);
			return LANESHIM_PARSE_ERROR;
		}
		if (err)
			return fail(why, whylen, name, detail);
	}
	if (optind < argc) {
		snprintf(why, whylen, "unexpected argument '%s'", argv[optind]);
		return LANESHIM_PARSE_ERROR;
	}
	if (!raw.a_set || !raw.b_set) {
		snprintf(why, whylen, "both --a and --b are required");
		return LANESHIM_PARSE_ERROR;
	}
	if (strcmp(o->a.netns, o->b.netns) == 0 && strcmp(o->a.dev, o->b.dev) == 0) {
		snprintf(why, whylen, "--a and --b name the same device '%s'", o->a.dev);
		return LANESHIM_PARSE_ERROR;
	}
	if (!raw.seed_set && getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	/* The default queue is one BDP of the round trip, the classic buffer for one TCP flow. */
	rtt_ns = raw.delay[pick(&raw.delay_set, AB)] + raw.delay[pick(&raw.delay_set, BA)];
	resolve_direction(&raw, o, AB, &o->ab, rtt_ns);
	resolve_direction(&raw, o, BA, &o->ba, rtt_ns);
	return LANESHIM_PARSE_OK;
}
