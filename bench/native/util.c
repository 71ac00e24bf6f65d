/* util.c - clocks, address parsing, RSS and argument helpers for laneshim-bench. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t laneshim_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t laneshim_bench_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int laneshim_bench_parse_addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	long p = laneshim_bench_arg_long("PORT", port);
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	fprintf(stderr, "laneshim-bench: '%s' is not a numeric IPv4 or IPv6 address\n", host);
	return -1;
}

/* A "Name:   N kB" line of /proc/self/status, in KiB; -1 if missing. */
static long status_kb(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	size_t n = strlen(name);
	long kb = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

long laneshim_bench_rss_kb(void)
{
	return status_kb("VmRSS");
}

long laneshim_bench_vsz_kb(void)
{
	return status_kb("VmSize");
}

long laneshim_bench_arg_long(const char *name, const char *text)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "laneshim-bench: %s '%s' is not a positive integer\n", name, text);
		exit(2);
	}
	return v;
}

int laneshim_bench_tcp_socket(int family)
{
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return fd;
}
