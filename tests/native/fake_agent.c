/*
 * fake_agent.c - a test double for liblaneshim-agent.so: logs every ABI call and acts as FAKE_AGENT_MODE says.
 * Built twice: with FAKE_AGENT_NO_CLOSED it is an agent from before laneshim_agent_notify_closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "laneshim_abi.h"

#define EXPORT         __attribute__((visibility("default")))
#define GARBAGE_ERRNO  9999
#define APPLIED_SNDBUF (1 << 20)

/* One line per call (ending in pid=N), appended with a single write so concurrent threads do not interleave. */
static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	const char *path = getenv("FAKE_AGENT_LOG");
	char line[512];
	va_list ap;
	int fd, n;

	if (path == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 32, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 32)
		n = (int)sizeof(line) - 32;
	/* Which process called: fork, vfork, posix_spawn and exec cases tell parent and child apart. */
	n += snprintf(line + n, 30, " pid=%d", (int)getpid());
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, "fake agent: short write to %s\n", path);
	close(fd);
}

static bool mode_is(const char *mode)
{
	const char *m = getenv("FAKE_AGENT_MODE");

	return strcmp(m != NULL && *m != '\0' ? m : "ok", mode) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

EXPORT int32_t laneshim_agent_init(const laneshim_agent_config *config)
{
	record("init deadline=%u broker=%s log_level=%d log_fd=%d abi=%u program=%s main_thread=%d init_flags=%u",
	       config->deadline_ms, config->broker, config->log_level, config->log_fd, config->abi_version,
	       config->program, gettid() == getpid(), config->flags);
	if (config->abi_version != LANESHIM_ABI_VERSION)
		return LANESHIM_E_ABI;
	/* A runtime that starts slowly: the first flows cannot wait for it and get their lanes late. */
	if (mode_is("slowinit"))
		sleep_ms(getenv("FAKE_AGENT_SLEEP_MS") != NULL ? atol(getenv("FAKE_AGENT_SLEEP_MS")) : 200);
	return mode_is("initfail") ? LANESHIM_E_UNAVAILABLE : LANESHIM_OK;
}

/* Applies a setting the tests can read back from the kernel, as the real agent would. */
static int32_t apply(const laneshim_flow *flow, laneshim_outcome *outcome)
{
	int value = APPLIED_SNDBUF;
	socklen_t len = sizeof(value);

	if (setsockopt(flow->fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)) != 0)
		return LANESHIM_E_INTERNAL;
	outcome->applied = LANESHIM_SET_SNDBUF;
	getsockopt(flow->fd, SOL_SOCKET, SO_SNDBUF, &outcome->sndbuf, &len);
	len = sizeof(outcome->rcvbuf);
	getsockopt(flow->fd, SOL_SOCKET, SO_RCVBUF, &outcome->rcvbuf, &len);
	snprintf(outcome->congestion, sizeof(outcome->congestion), "fake");
	return LANESHIM_OK;
}

/* Misbehaves on purpose: the shim must hide errno changes from the host program. */
static int32_t clobber(const laneshim_flow *flow)
{
	int fl = fcntl(flow->fd, F_GETFL);

	errno = GARBAGE_ERRNO;
	if (fl >= 0) {
		fcntl(flow->fd, F_SETFL, fl ^ O_NONBLOCK);
		fcntl(flow->fd, F_SETFL, fl);
	}
	errno = GARBAGE_ERRNO;
	return LANESHIM_OK;
}

EXPORT int32_t laneshim_agent_prepare_socket(const laneshim_flow *flow, laneshim_outcome *outcome)
{
	const char *ms = getenv("FAKE_AGENT_SLEEP_MS");

	record("prepare fd=%d dir=%d family=%u lport=%u rport=%u flags=%u sndbuf=%d rcvbuf=%d", flow->fd,
	       flow->direction, flow->family, flow->local_port, flow->remote_port, flow->flags, flow->app_sndbuf,
	       flow->app_rcvbuf);
	if (mode_is("ok") || mode_is("slowinit"))
		return apply(flow, outcome);
	if (mode_is("nolane"))
		return LANESHIM_NO_LANE;
	if (mode_is("sleep")) {
		sleep_ms(ms != NULL ? atol(ms) : 50);
		return LANESHIM_E_DEADLINE;
	}
	if (mode_is("clobber"))
		return clobber(flow);
	return LANESHIM_E_UNAVAILABLE;
}

EXPORT int32_t laneshim_agent_notify_connected(int32_t fd, int32_t connect_errno)
{
	record("connected fd=%d errno=%d", fd, connect_errno);
	if (mode_is("clobber"))
		errno = GARBAGE_ERRNO;
	return LANESHIM_OK;
}

#ifndef FAKE_AGENT_NO_CLOSED
/* open=1: the socket is still there to be read, as the ABI promises (called before the real close). */
EXPORT int32_t laneshim_agent_notify_closed(int32_t fd)
{
	int type = 0;
	socklen_t len = sizeof(type);
	bool open = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;

	record("closed fd=%d open=%d", fd, open);
	if (mode_is("clobber"))
		errno = GARBAGE_ERRNO;
	return LANESHIM_OK;
}
#endif

/* The loader thread lends itself to the agent once late flows are served: recorded, then given back. */
EXPORT int32_t laneshim_agent_serve(void)
{
	record("serve");
	return LANESHIM_OK;
}
