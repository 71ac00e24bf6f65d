/* syn_bench.c - lane setup as the wire sees it: from the connect() call to its SYN on the client's interface (AF_PACKET
 * timestamps). */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Waits for the SYN from local port sport on the capture socket; returns its kernel timestamp (CLOCK_REALTIME ns) or
 * -1. */
static int64_t syn_time(int cap, uint16_t sport)
{
	unsigned char buf[2048];
	char control[256];
	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct sockaddr_ll from;
		struct msghdr msg = {.msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control,
				     .msg_controllen = sizeof(control)};
		ssize_t n = recvmsg(cap, &msg, 0);
		if (n < 0)
			return -1; /* timeout: no SYN seen */
		if (from.sll_protocol != htons(ETH_P_IP) || (size_t)n < sizeof(struct iphdr))
			continue;
		const struct iphdr *ip = (const struct iphdr *)buf;
		size_t ihl = (size_t)ip->ihl * 4;
		if (ip->version != 4 || ip->protocol != IPPROTO_TCP || (size_t)n < ihl + sizeof(struct tcphdr))
			continue;
		const struct tcphdr *tcp = (const struct tcphdr *)(buf + ihl);
		if (!tcp->syn || tcp->ack || ntohs(tcp->source) != sport)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			}
		}
		return -1;
	}
}

int laneshim_bench_syn(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: laneshim-bench syn IFINDEX LOCAL HOST PORT N [HOLD_MS]\n");
		return 2;
	}
	long ifindex = laneshim_bench_arg_long("IFINDEX", argv[0]);
	struct sockaddr_storage local, remote;
	socklen_t llen, rlen;
	if (laneshim_bench_parse_addr(argv[1], "1", &local, &llen) != 0 ||
	    laneshim_bench_parse_addr(argv[2], argv[3], &remote, &rlen) != 0)
		return 2;
	((struct sockaddr_in *)&local)->sin_port = 0;
	long n = laneshim_bench_arg_long("N", argv[4]);
	long hold_ms = argc == 6 ? laneshim_bench_arg_long("HOLD_MS", argv[5]) : 0;

	/* ETH_P_ALL: the kernel shows a packet socket outgoing packets only when it listens to every protocol. */
	int cap = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	int one = 1;
	struct timeval tv = {.tv_sec = 2};
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	if (cap < 0 || setsockopt(cap, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 ||
	    setsockopt(cap, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    bind(cap, (struct sockaddr *)&ll, sizeof(ll)) != 0) {
		fprintf(stderr, "laneshim-bench syn: capture on ifindex %ld: %s\n", ifindex, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int fd = laneshim_bench_tcp_socket(remote.ss_family);
		struct sockaddr_in bound;
		socklen_t blen = sizeof(bound);
		/* Bound first so the SYN can be told apart by its source port. */
		if (fd < 0 || bind(fd, (struct sockaddr *)&local, llen) != 0 ||
		    getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
			fprintf(stderr, "laneshim-bench syn: bind %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		int64_t t0 = laneshim_bench_wall_ns();
		if (connect(fd, (struct sockaddr *)&remote, rlen) != 0) {
			fprintf(stderr, "laneshim-bench syn: connect %s:%s: %s\n", argv[2], argv[3], strerror(errno));
			return 1;
		}
		int64_t syn = syn_time(cap, ntohs(bound.sin_port));
		if (syn < 0) {
			fprintf(stderr, "laneshim-bench syn: no SYN from port %u seen on ifindex %ld\n",
				ntohs(bound.sin_port), ifindex);
			return 1;
		}
		printf("%lld\n", (long long)(syn - t0));
		fflush(stdout);
		if (i == n - 1 && hold_ms > 0) {
			/* Keep the last flow (and its lease and router rules) alive while the harness inspects the
			 * routers. */
			fprintf(stderr, "holding port %u\n", ntohs(bound.sin_port));
			struct timespec ts = {.tv_sec = hold_ms / 1000, .tv_nsec = (hold_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
		close(fd);
	}
	return 0;
}
