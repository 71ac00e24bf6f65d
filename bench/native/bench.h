/* bench.h - what the laneshim-bench subcommands share: clocks, sample output, addresses, RSS. */
#ifndef LANESHIM_BENCH_H
#define LANESHIM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t laneshim_bench_now_ns(void);

/* CLOCK_REALTIME in nanoseconds (the clock packet timestamps use). */
int64_t laneshim_bench_wall_ns(void);

/* Parses "a.b.c.d" or an IPv6 literal plus a port; returns 0 or -1 with a message on stderr. */
int laneshim_bench_parse_addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len);

/* VmRSS of this process in KiB, or -1. */
long laneshim_bench_rss_kb(void);
long laneshim_bench_vsz_kb(void);

/* A positive integer argument or exit(2) with a message naming it. */
long laneshim_bench_arg_long(const char *name, const char *text);

/* A TCP socket that resets on close: a benchmark of thousands of connects must not fill the port range with TIME_WAIT.
 */
int laneshim_bench_tcp_socket(int family);

int laneshim_bench_serve(int argc, char **argv);
int laneshim_bench_connect(int argc, char **argv);
int laneshim_bench_once(int argc, char **argv);
int laneshim_bench_fork(int argc, char **argv);
int laneshim_bench_spawn(int argc, char **argv);
int laneshim_bench_syn(int argc, char **argv);
int laneshim_bench_setsockopt(int argc, char **argv);

#endif
