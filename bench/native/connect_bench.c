/* connect_bench.c - the connect() loops: a listener that accepts and closes, N timed connects, one connect with RSS,
 * forked first connects. */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int laneshim_bench_serve(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: laneshim-bench serve PORT\n");
		return 2;
	}
	long port = laneshim_bench_arg_long("PORT", argv[0]);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	int zero = 0, one = 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 a = {
		.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT};
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0) {
		fprintf(stderr, "laneshim-bench serve: port %ld: %s\n", port, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE)
			return 1;
	}
}

/* One timed connect; returns nanoseconds or -1 (errno set by connect). */
static int64_t timed_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = laneshim_bench_tcp_socket(ss->ss_family);
	if (fd < 0)
		return -1;
	int64_t t0 = laneshim_bench_now_ns();
	int rc = connect(fd, (const struct sockaddr *)ss, len);
	int64_t t1 = laneshim_bench_now_ns();
	int saved = errno;
	close(fd);
	errno = saved;
	return rc == 0 ? t1 - t0 : -1;
}

int laneshim_bench_connect(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: laneshim-bench connect HOST PORT N [WARMUP]\n");
		return 2;
	}
	struct sockaddr_storage ss;
	socklen_t len;
	if (laneshim_bench_parse_addr(argv[0], argv[1], &ss, &len) != 0)
		return 2;
	long n = laneshim_bench_arg_long("N", argv[2]);
	long warmup = argc == 4 ? atol(argv[3]) : 0;
	int64_t *samples = calloc((size_t)n, sizeof(*samples));
	if (!samples)
		return 1;
	for (long i = 0; i < warmup + n; i++) {
		int64_t ns = timed_connect(&ss, len);
		if (ns < 0) {
			fprintf(stderr, "laneshim-bench connect %s:%s: %s\n", argv[0], argv[1], strerror(errno));
			return 1;
		}
		if (i >= warmup)
			samples[i - warmup] = ns;
	}
	/* Print after the loop: stdout writes would sit between connects otherwise. */
	for (long i = 0; i < n; i++)
		printf("%lld\n", (long long)samples[i]);
	free(samples);
	return 0;
}

int laneshim_bench_once(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: laneshim-bench once HOST PORT|-\n");
		return 2;
	}
	int64_t ns = 0;
	if (strcmp(argv[1], "-") != 0) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (laneshim_bench_parse_addr(argv[0], argv[1], &ss, &len) != 0)
			return 2;
		ns = timed_connect(&ss, len);
		if (ns < 0) {
			fprintf(stderr, "laneshim-bench once %s:%s: %s\n", argv[0], argv[1], strerror(errno));
			return 1;
		}
	}
	printf("%lld %ld %ld\n", (long long)ns, laneshim_bench_rss_kb(), laneshim_bench_vsz_kb());
	return 0;
}

/*
 * fork HOST PORT N: one connect (the agent starts, a lane), then N children one after the other; each makes its
 * own first connect (a private agent of its own) and the parent prints, per child, 'connect_ns rss_added_kb'.
 */
int laneshim_bench_fork(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: laneshim-bench fork HOST PORT N\n");
		return 2;
	}
	struct sockaddr_storage ss;
	socklen_t len;
	long n = laneshim_bench_arg_long("N", argv[2]);
	if (laneshim_bench_parse_addr(argv[0], argv[1], &ss, &len) != 0)
		return 2;
	if (timed_connect(&ss, len) < 0) {
		fprintf(stderr, "laneshim-bench fork %s:%s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int out[2];
		if (pipe(out) != 0)
			return 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			char line[64];
			long before = laneshim_bench_rss_kb();
			int64_t ns = timed_connect(&ss, len);
			int k = snprintf(line, sizeof(line), "%lld %ld\n", (long long)ns,
					 laneshim_bench_rss_kb() - before);
			_exit(ns < 0 || write(out[1], line, (size_t)k) != k ? 1 : 0);
		}
		close(out[1]);
		char line[64] = {0};
		ssize_t got = read(out[0], line, sizeof(line) - 1);
		close(out[0]);
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got <= 0) {
			fprintf(stderr, "laneshim-bench fork: child %d failed\n", (int)pid);
			return 1;
		}
		fputs(line, stdout);
	}
	return 0;
}
