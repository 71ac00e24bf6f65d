/* main.c - laneshim-bench: timing loops `laneshim-lab bench` runs in the namespaces it builds; samples go to stdout,
 * one per line. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{"serve", laneshim_bench_serve, "serve PORT: accept and close until killed; prints 'ready'"},
	{"connect", laneshim_bench_connect,
	 "connect HOST PORT N [WARMUP]: WARMUP untimed, then N timed connects; prints each connect()'s nanoseconds"},
	{"once", laneshim_bench_once, "once HOST PORT|-: one connect (or none); prints 'connect_ns rss_kb vsz_kb'"},
	{"fork", laneshim_bench_fork,
	 "fork HOST PORT N: one connect, then N children one by one, each making its first connect; prints 'connect_ns "
	 "rss_added_kb' per child"},
	{"spawn", laneshim_bench_spawn,
	 "spawn PAIRS PRELOAD PROGRAM [BASELINE]: posix_spawn PROGRAM without (or with LD_PRELOAD=BASELINE) and with "
	 "LD_PRELOAD=PRELOAD, PAIRS times; prints 'plain|shim ns'"},
	{"setsockopt", laneshim_bench_setsockopt,
	 "setsockopt FAMILY N CALL...: on N fresh TCP sockets (FAMILY 4 or 6), times the calls "
	 "LEVEL:NAME:int|u64|str:VALUE "
	 "together; prints nanoseconds"},
	{"syn", laneshim_bench_syn,
	 "syn IFINDEX LOCAL HOST PORT N [HOLD_MS]: N connects from LOCAL; prints nanoseconds from connect() to its SYN "
	 "on the interface; keeps the last one open HOLD_MS"},
};

int main(int argc, char **argv)
{
	if (argc >= 2) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(argc - 2, argv + 2);
		}
	}
	fprintf(stderr, "usage: laneshim-bench COMMAND ...\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %s\n", commands[i].usage);
	return 2;
}
