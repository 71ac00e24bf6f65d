/* spawn_bench.c - process start cost with and without the shim preloaded, interleaved round by round to cancel drift. */
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

/* Runs program n times; returns the mean nanoseconds of spawn + wait, or -1. */
static int64_t round_ns(const char *program, char **env, long n)
{
	char *args[] = {(char *)program, NULL};
	int64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid;
		int status;
		if (posix_spawn(&pid, program, NULL, NULL, args, env) != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			return -1;
	}
	return (bench_now_ns() - t0) / n;
}

int bench_spawn(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: laneshim-bench spawn N ROUNDS PRELOAD PROGRAM\n");
		return 2;
	}
	long n = bench_arg_long("N", argv[0]), rounds = bench_arg_long("ROUNDS", argv[1]);
	char **plain = environment(NULL), **shim = environment(argv[2]);
	for (long r = 0; r < rounds; r++) {
		/* Alternate which goes first so neither always follows the other's cache effects. */
		for (int k = 0; k < 2; k++) {
			int with = (k + (int)r) % 2;
			int64_t ns = round_ns(argv[3], with ? shim : plain, n);
			if (ns < 0) {
				fprintf(stderr, "laneshim-bench spawn: %s failed\n", argv[3]);
				return 1;
			}
			printf("%s %lld\n", with ? "shim" : "plain", (long long)ns);
		}
	}
	return 0;
}
