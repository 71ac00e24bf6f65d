/* setsockopt_bench.c - the floor of a cached lane: the bare setsockopt calls a grant needs, timed on fresh TCP sockets.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CALLS 16

struct call {
	int level;
	int name;
	int is_string;
	union {
		int i;
		uint64_t u64;
		char s[32];
	} value;
	socklen_t len;
};

/* LEVEL:NAME:int:N, LEVEL:NAME:u64:N or LEVEL:NAME:str:TEXT (level and name decimal or 0x hex). */
static int parse_call(const char *text, struct call *c)
{
	char kind[8] = {0};
	char rest[64] = {0};
	memset(c, 0, sizeof(*c));
	if (sscanf(text, "%i:%i:%7[a-z0-9]:%63s", &c->level, &c->name, kind, rest) != 4)
		return -1;
	errno = 0;
	if (strcmp(kind, "int") == 0) {
		c->value.i = (int)strtol(rest, NULL, 0);
		c->len = sizeof(int);
	} else if (strcmp(kind, "u64") == 0) {
		c->value.u64 = strtoull(rest, NULL, 0);
		c->len = sizeof(uint64_t);
	} else if (strcmp(kind, "str") == 0 && strlen(rest) < sizeof(c->value.s)) {
		c->is_string = 1;
		strcpy(c->value.s, rest);
		c->len = (socklen_t)strlen(rest);
	} else {
		return -1;
	}
	return errno ? -1 : 0;
}

int laneshim_bench_setsockopt(int argc, char **argv)
{
	if (argc < 2 || argc - 2 > MAX_CALLS) {
		fprintf(stderr,
			"usage: laneshim-bench setsockopt FAMILY N [LEVEL:NAME:int|u64|str:VALUE ...] (at most %d "
			"calls)\n",
			MAX_CALLS);
		return 2;
	}
	int family = strcmp(argv[0], "6") == 0 ? AF_INET6 : AF_INET;
	long n = laneshim_bench_arg_long("N", argv[1]);
	struct call calls[MAX_CALLS];
	int count = argc - 2;
	for (int k = 0; k < count; k++) {
		if (parse_call(argv[k + 2], &calls[k]) != 0) {
			fprintf(stderr, "laneshim-bench setsockopt: bad call '%s'\n", argv[k + 2]);
			return 2;
		}
	}
	int64_t *samples = calloc((size_t)n, sizeof(*samples));
	if (!samples)
		return 1;
	for (long i = 0; i < n; i++) {
		int fd = laneshim_bench_tcp_socket(family);
		if (fd < 0) {
			perror("laneshim-bench setsockopt: socket");
			return 1;
		}
		int64_t t0 = laneshim_bench_now_ns();
		for (int k = 0; k < count; k++) {
			if (setsockopt(fd, calls[k].level, calls[k].name, &calls[k].value, calls[k].len) != 0) {
				fprintf(stderr, "laneshim-bench setsockopt: call %d (%s): %s\n", k, argv[k + 2],
					strerror(errno));
				return 1;
			}
		}
		samples[i] = laneshim_bench_now_ns() - t0;
		close(fd);
	}
	for (long i = 0; i < n; i++)
		printf("%lld\n", (long long)samples[i]);
	free(samples);
	return 0;
}
