/* options.h - the command line of laneshim-linkemu, parsed and resolved into per-direction link parameters. */
#ifndef LANESHIM_LINKEMU_OPTIONS_H
#define LANESHIM_LINKEMU_OPTIONS_H

#include <net/if.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#define LANESHIM_MAX_ADDRS 8

struct laneshim_ifaddr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
	char text[64]; /* as given, for messages */
};

/* One end of the link: a TUN device created in a network namespace. */
struct laneshim_endpoint {
	char netns[256]; /* name under /var/run/netns, a path, or "" for the namespace we run in */
	char dev[IFNAMSIZ];
	struct laneshim_ifaddr addrs[LANESHIM_MAX_ADDRS];
	int naddrs;
};

/* What one direction of the link does to the packets that cross it. */
struct laneshim_link_params {
	uint64_t delay_ns;
	uint64_t rate_bps;     /* on-the-wire IP bytes (+ overhead) per second x 8; 0 = unlimited */
	uint64_t queue_bytes;  /* tail-drop limit on bytes waiting for serialization; 0 = unlimited */
	double loss;           /* independent drop probability */
	uint64_t buffer_bytes; /* packet arena: queue + delay line + slack */
};

struct laneshim_options {
	struct laneshim_endpoint a, b;
	struct laneshim_link_params ab, ba;
	uint64_t seed;
	unsigned mtu;
	unsigned txqueuelen;
	unsigned overhead; /* bytes added to each packet for rate accounting (e.g. 38 for Ethernet framing) */
	const char *stats_path;
	uint64_t stats_interval_ns;
	const char *pidfile;
	int ready_fd;    /* -1: print "ready" on stdout */
	int rt_priority; /* 0: normal scheduling */
	int quiet;
};

enum laneshim_parse_result {
	LANESHIM_PARSE_OK,
	LANESHIM_PARSE_HELP,
	LANESHIM_PARSE_ERROR,
};

/* On error, why holds "--flag 'value': what is wrong". */
enum laneshim_parse_result laneshim_options_parse(int argc, char **argv, struct laneshim_options *o, char *why,
						  size_t whylen);

void laneshim_options_usage(FILE *out);

#endif
