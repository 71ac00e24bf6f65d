/* scope.c - which programs the shim works in (allow/deny globs, built-in excludes) and the site kill switch. */
#include "laneshim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Programs that must never be steered by default: debuggers and tracers (they trace, and are
 * traced, in ways a hook should not disturb), init and service managers (they start everything
 * else; a bug here stops a host), and package managers (they may be upgrading the shim itself).
 * Matched against the basenames of /proc/self/exe and of the path given to execve (AT_EXECFN),
 * which is how interpreted tools such as dnf and pip are recognised.
 */
static const char *const default_excludes[] = {
	"gdb",  "gdb-*",   "gdbserver", "lldb",   "lldb-*",  "strace",    "ltrace",   "valgrind*", "rr",     "perf",
	"init", "systemd", "systemd-*", "apt",    "apt-get", "apt-cache", "aptitude", "dpkg",      "dpkg-*", "rpm",
	"dnf",  "yum",     "zypper",    "pacman", "snap",    "snapd",     "pip",      "pip[0-9]*",
};

/* Past the ']' closing the class that starts at p ('['), or NULL if it is not closed. */
static const char *class_end(const char *p)
{
	const char *first;

	p++;
	if (*p == '!' || *p == '^')
		p++;
	first = p;
	while (*p != '\0' && (*p != ']' || p == first))
		p++;
	return *p == ']' ? p + 1 : NULL;
}

static bool class_has(const char *p, const char *end, unsigned char c)
{
	bool negate = p[1] == '!' || p[1] == '^', hit = false;

	for (p += 1 + negate, end--; p < end; p++) {
		if (p + 2 < end && p[1] == '-') {
			hit |= c >= (unsigned char)p[0] && c <= (unsigned char)p[2];
			p += 2;
		} else {
			hit |= c == (unsigned char)*p;
		}
	}
	return hit != negate;
}

bool laneshim_glob_valid(const char *pattern, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (pattern[i] == '[') {
			const char *end = class_end(pattern + i);

			if (end == NULL || end > pattern + len)
				return false;
			i = (size_t)(end - pattern) - 1;
		}
	}
	return len > 0;
}

/* Shell-style: * (also across '/'), ? and [a-z] / [!a-z]; iterative, no recursion, no allocation. */
bool laneshim_glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL, *end;

	while (*s != '\0') {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p == '[' && (end = class_end(p)) != NULL) {
			if (class_has(p, end, (unsigned char)*s)) {
				p = end, s++;
				continue;
			}
		} else if (*p != '\0' && (*p == '?' || *p == *s)) {
			p++, s++;
			continue;
		}
		if (star_p == NULL)
			return false;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Whether pattern names the program: its full path or its basename, as /proc/self/exe or AT_EXECFN. */
static bool names(const char *pattern, const char *const *program, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (laneshim_glob_match(pattern, program[i]) || laneshim_glob_match(pattern, base_name(program[i])))
			return true;
	}
	return false;
}

static const char *list_match(const struct laneshim_patterns *list, const char *const *program, size_t count)
{
	const char *p = list->text;

	for (unsigned i = 0; i < list->count; i++, p += strlen(p) + 1) {
		if (names(p, program, count))
			return p;
	}
	return NULL;
}

/*
 * Runs once per process, when the configuration is read (the first socket that could be
 * eligible); exec starts over, fork keeps it (same program). why says what decided.
 */
bool laneshim_scope_program(const struct laneshim_config *c, char *exe, size_t exe_size, char *why, size_t why_size)
{
	const char *program[2], *execfn = (const char *)getauxval(AT_EXECFN), *hit;
	size_t count = 0;
	ssize_t n = readlink("/proc/self/exe", exe, exe_size - 1);

	exe[n > 0 ? n : 0] = '\0';
	if (n > 0)
		program[count++] = exe;
	if (execfn != NULL && *execfn != '\0' && (count == 0 || strcmp(execfn, exe) != 0))
		program[count++] = execfn;
	if (count == 0) {
		snprintf(why, why_size, "program unknown (no /proc/self/exe, no AT_EXECFN)");
		return c->allow_programs.count == 0;
	}
	if ((hit = list_match(&c->deny_programs, program, count)) != NULL) {
		snprintf(why, why_size, "deny_programs '%s'", hit);
		return false;
	}
	for (size_t i = 0; c->default_excludes && i < sizeof(default_excludes) / sizeof(default_excludes[0]); i++) {
		if (names(default_excludes[i], program, count)) {
			snprintf(why, why_size, "built-in exclude '%s' (default_excludes = no turns these off)",
				 default_excludes[i]);
			return false;
		}
	}
	if (c->allow_programs.count > 0 && list_match(&c->allow_programs, program, count) == NULL) {
		snprintf(why, why_size, "not in allow_programs");
		return false;
	}
	snprintf(why, why_size, "in scope");
	return true;
}

/* Seconds on the coarse monotonic clock (a vDSO read), plus one so that 0 means "never looked". */
static long coarse_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 1;
	return (long)ts.tv_sec + 1;
}

static long checked_at;
static int switched_off;

/*
 * The kill switch: LANESHIM_KILL_SWITCH (and the configured disable_file) present means inert.
 * Looked at no more than once per second per process, by whichever thread gets there first, so
 * an admin can turn a running site off without restarting anything and costs nobody a stat per
 * connect. The other threads use the last answer.
 */
bool laneshim_kill_switch(const struct laneshim_config *c)
{
	long now = coarse_seconds(), then = __atomic_load_n(&checked_at, __ATOMIC_RELAXED);
	struct stat st;
	int saved, off;

	if (then == now ||
	    !__atomic_compare_exchange_n(&checked_at, &then, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return __atomic_load_n(&switched_off, __ATOMIC_RELAXED) != 0;
	saved = errno;
	off = stat(LANESHIM_KILL_SWITCH, &st) == 0 || (c->disable_file[0] != '\0' && stat(c->disable_file, &st) == 0);
	errno = saved;
	if (off != __atomic_load_n(&switched_off, __ATOMIC_RELAXED)) {
		__atomic_store_n(&switched_off, off, __ATOMIC_RELAXED);
		laneshim_log(LANESHIM_LOG_INFO, "kill switch %s: %s", off ? "on" : "off",
			     off ? "no new lanes" : "lanes again");
	}
	return off != 0;
}
