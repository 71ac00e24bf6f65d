/* bench_hooks.c - ns per call of the socket() hook, the kind prefilter and the scoping checks (`make -C native bench`).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "laneshim.h"

#define ROUNDS 200000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The best of 5 runs of n calls, per call: the least disturbed by the other builds on this machine. */
#define BENCH(label, n, body)                               \
	do {                                                \
		double best = 1e30;                         \
		for (int run = 0; run < 5; run++) {         \
			double t0 = now_ns();               \
			for (int i = 0; i < (n); i++) {     \
				body;                       \
			}                                   \
			double per = (now_ns() - t0) / (n); \
			if (per < best)                     \
				best = per;                 \
		}                                           \
		printf("%-58s %8.1f ns\n", label, best);    \
	} while (0)

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * socket()+close() cost microseconds in the kernel and vary with the load, so the raw and the
 * hooked pair alternate call by call and each reports its median: the difference is the hooks'.
 */
#define PAIRS 20000
static void socket_pairs(void)
{
	static double raw[PAIRS], hooked[PAIRS];

	for (int i = 0; i < PAIRS; i++) {
		double t0 = now_ns();

		close((int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0));
		raw[i] = now_ns() - t0;
		t0 = now_ns();
		close(socket(AF_INET, SOCK_DGRAM, 0));
		hooked[i] = now_ns() - t0;
	}
	qsort(raw, PAIRS, sizeof(double), by_value);
	qsort(hooked, PAIRS, sizeof(double), by_value);
	printf("%-58s %8.1f ns\n", "socket(UDP)+close, raw system calls (median)", raw[PAIRS / 2]);
	printf("%-58s %8.1f ns\n", "socket(UDP)+close, through the hooks (median)", hooked[PAIRS / 2]);
}

int main(void)
{
	const struct laneshim_config *c;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	char exe[PATH_MAX], why[160];
	volatile int sink = 0;
	int hooked, raw;

	/* Eligible-looking destinations (loopback included) so only the socket's kind stops them. */
	setenv("LANESHIM_INCLUDE_LOOPBACK", "1", 1);
	setenv("LANESHIM_AGENT", "/nonexistent", 1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = laneshim_config();

	socket_pairs();
	BENCH("laneshim_kind_set + laneshim_kind_get (the hook's own work)", ROUNDS * 10,
	      (laneshim_kind_set(7, LANESHIM_KIND_OTHER), sink += laneshim_kind_get(7)));
	hooked = socket(AF_INET, SOCK_DGRAM, 0);
	raw = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	BENCH("connect(UDP) to 127.0.0.1, socket() noted it: stops at once", ROUNDS,
	      sink += connect(hooked, (struct sockaddr *)&sin, sizeof(sin)));
	BENCH("connect(UDP) to 127.0.0.1, unknown fd: asks the kernel", ROUNDS,
	      sink += connect(raw, (struct sockaddr *)&sin, sizeof(sin)));
	BENCH("connect(UDP) to 127.0.0.1, raw system call", ROUNDS,
	      sink += (int)syscall(SYS_connect, raw, (struct sockaddr *)&sin, sizeof(sin)));
	BENCH("program verdict (readlink + globs; once per process)", 20000,
	      sink += laneshim_scope_program(c, exe, sizeof(exe), why, sizeof(why)));
	BENCH("kill switch check (cached; stat at most once a second)", ROUNDS * 10, sink += laneshim_kill_switch(c));
	BENCH("laneshim_active (disabled, scope, agent, kill switch)", ROUNDS * 10, sink += laneshim_active());
	printf("verdict for %s: %s\n", exe, why);
	return sink == 42 ? 1 : 0;
}
