/* spawn_bench.c - process start cost with and without the shim preloaded, interleaved round by round to cancel drift.
 */
#include "bench.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* environ without LD_PRELOAD, plus LD_PRELOAD=preload when preload is not NULL. */
static char **environment(const char *preload)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	}
	if (preload) {
		size_t len = strlen(preload) + 12;
		char *v = malloc(len);
		snprintf(v, len, "LD_PRELOAD=%s", preload);
		env[k++] = v;
	}
	env[k] = NULL;
	return env;
}

/* Runs program once; returns the nanoseconds of spawn + wait, or -1. */
static int64_t spawn_ns(const char *program, char **env)
{
	char *args[] = {(char *)program, NULL};
	int64_t t0 = laneshim_bench_now_ns();
	pid_t pid;
	int status;
	if (posix_spawn(&pid, program, NULL, NULL, args, env) != 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status))
		return -1;
	return laneshim_bench_now_ns() - t0;
}

int laneshim_bench_spawn(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: laneshim-bench spawn PAIRS PRELOAD PROGRAM [BASELINE_PRELOAD]\n");
		return 2;
	}
	long pairs = laneshim_bench_arg_long("PAIRS", argv[0]);
	/* The "plain" side preloads BASELINE_PRELOAD when given: the shim against the least a preload can cost, pair by
	 * pair. */
	char **plain = environment(argc == 4 ? argv[3] : NULL), **shim = environment(argv[1]);
	int64_t *samples = calloc((size_t)pairs * 2, sizeof(*samples));
	if (!samples)
		return 1;
	for (long i = 0; i < pairs; i++) {
		/* Back to back, alternating which goes first: drift and the machine's load hit both sides alike. */
		for (int k = 0; k < 2; k++) {
			int with = (k + (int)(i & 1)) % 2;
			int64_t ns = spawn_ns(argv[2], with ? shim : plain);
			if (ns < 0) {
				fprintf(stderr, "laneshim-bench spawn: %s failed\n", argv[2]);
				return 1;
			}
			samples[2 * i + with] = ns;
		}
	}
	for (long i = 0; i < pairs; i++)
		printf("plain %lld\nshim %lld\n", (long long)samples[2 * i], (long long)samples[2 * i + 1]);
	free(samples);
	return 0;
}
