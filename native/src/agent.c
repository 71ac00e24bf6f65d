/* agent.c - loads liblaneshim-agent.so on first need (never unloads it) and calls it under the guard. */
#include "laneshim.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum agent_state {
	AGENT_UNLOADED,
	AGENT_LOADING, /* one thread is loading it; the others fail open rather than wait */
	AGENT_READY,
	AGENT_UNUSABLE, /* failed to load or init, or we are a forked child: for the life of the process */
};

static int state = AGENT_UNLOADED;
static pid_t owner_pid; /* the process that initialised the .NET runtime */
static laneshim_agent_init_fn agent_init;
static laneshim_agent_prepare_socket_fn agent_prepare;
static laneshim_agent_notify_connected_fn agent_notify;
static laneshim_agent_notify_closed_fn agent_closed; /* optional: agents older than the export lack it */
static laneshim_agent_exiting_fn agent_exiting;      /* optional too */
static char program[PATH_MAX];
static laneshim_agent_config agent_config;

/* A .NET runtime does not survive fork(): its threads are gone in the child. */
static void forked_child(void)
{
	if (__atomic_load_n(&state, __ATOMIC_RELAXED) != AGENT_UNLOADED)
		__atomic_store_n(&state, AGENT_UNUSABLE, __ATOMIC_RELAXED);
}

/*
 * atexit: the agent may flush its reports. Only in the process that loaded it: a forked child inherits this
 * handler, but entering its copy of the runtime could hang the child's exit.
 */
static void agent_exit(void)
{
	int saved = errno;

	if (agent_exiting != NULL && laneshim_agent_live()) {
		laneshim_guard++;
		agent_exiting();
		laneshim_guard--;
	}
	errno = saved;
}

static void *resolve(void *handle, const char *name)
{
	void *sym = dlsym(handle, name);

	if (sym == NULL)
		laneshim_log(LANESHIM_LOG_ERROR, "agent: missing export %s", name);
	return sym;
}

static bool load(const struct laneshim_config *c)
{
	ssize_t n;
	void *handle;
	int32_t rc;

	if (pthread_atfork(NULL, NULL, forked_child) != 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: pthread_atfork failed; agent disabled");
		return false;
	}
	/* RTLD_NODELETE: a .NET runtime can never be unloaded, whatever happens to the handle. */
	handle = dlopen(c->agent, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (handle == NULL) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: cannot load %s: %s; connecting without lanes",
			     c->agent, dlerror());
		return false;
	}
	agent_init = (laneshim_agent_init_fn)resolve(handle, "laneshim_agent_init");
	agent_prepare = (laneshim_agent_prepare_socket_fn)resolve(handle, "laneshim_agent_prepare_socket");
	agent_notify = (laneshim_agent_notify_connected_fn)resolve(handle, "laneshim_agent_notify_connected");
	if (agent_init == NULL || agent_prepare == NULL || agent_notify == NULL)
		return false;
	agent_closed = (laneshim_agent_notify_closed_fn)dlsym(handle, "laneshim_agent_notify_closed");
	if (agent_closed == NULL)
		laneshim_log(LANESHIM_LOG_INFO, "agent: no laneshim_agent_notify_closed; closes are not tracked");
	agent_exiting = (laneshim_agent_exiting_fn)dlsym(handle, "laneshim_agent_exiting");
	if (agent_exiting != NULL && atexit(agent_exit) != 0)
		agent_exiting = NULL;
	n = readlink("/proc/self/exe", program, sizeof(program) - 1);
	program[n > 0 ? n : 0] = '\0';
	agent_config.abi_version = LANESHIM_ABI_VERSION;
	agent_config.deadline_ms = c->deadline_ms;
	agent_config.log_level = c->log_level;
	agent_config.log_fd = laneshim_log_fd();
	agent_config.broker = c->broker;
	agent_config.program = program;
	rc = agent_init(&agent_config);
	if (rc < 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: %s: init failed (%d%s); connecting without lanes",
			     c->agent, rc, rc == LANESHIM_E_ABI ? ": ABI version mismatch" : "");
		return false;
	}
	laneshim_log(LANESHIM_LOG_INFO, "agent: %s ready (broker %s, deadline %u ms)", c->agent, c->broker,
		     c->deadline_ms);
	return true;
}

/*
 * Cheap: false once the agent is known to be of no use here. No pid check (a system call): a child
 * made by raw clone passes this filter and is stopped by agent_ready(), before any agent call.
 */
bool laneshim_agent_usable(void)
{
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);

	return s == AGENT_UNLOADED || s == AGENT_READY;
}

/* The agent is loaded and this is the process that loaded it: lanes here are ours to release. */
bool laneshim_agent_live(void)
{
	return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == AGENT_READY && getpid() == owner_pid;
}

/* Loads the agent the first time; never waits for another thread doing so. */
static bool agent_ready(void)
{
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	int expected = AGENT_UNLOADED;
	bool ok;

	/*
	 * The pid check covers children made without fork() (raw clone), which skip atfork
	 * handlers; it does not write, because a vfork child shares our memory.
	 */
	if (s == AGENT_READY)
		return getpid() == owner_pid;
	if (s != AGENT_UNLOADED ||
	    !__atomic_compare_exchange_n(&state, &expected, AGENT_LOADING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	laneshim_guard++;
	ok = load(laneshim_config());
	laneshim_guard--;
	owner_pid = getpid();
	__atomic_store_n(&state, ok ? AGENT_READY : AGENT_UNUSABLE, __ATOMIC_RELEASE);
	return ok;
}

static long elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static void log_outcome(const laneshim_flow *flow, const laneshim_outcome *out, int32_t rc, long us)
{
	struct laneshim_endpoint remote = {.family = flow->family, .port = flow->remote_port};
	char where[INET6_ADDRSTRLEN + 16];
	static const char *const dirs[] = {"?", "connect", "accept", "listen"};
	int dir = flow->direction >= 1 && flow->direction <= 3 ? flow->direction : 0;

	if (!laneshim_log_enabled(LANESHIM_LOG_DEBUG))
		return;
	memcpy(remote.addr, flow->remote_addr, sizeof(remote.addr));
	if (flow->direction == LANESHIM_DIR_LISTEN) {
		remote.port = flow->local_port;
		memcpy(remote.addr, flow->local_addr, sizeof(remote.addr));
	}
	laneshim_log(LANESHIM_LOG_DEBUG,
		     "%s fd=%d %s: agent rc=%d applied=0x%x sndbuf=%d rcvbuf=%d congestion=%.*s in %ld us",
		     dirs[dir], flow->fd, laneshim_endpoint_str(&remote, where, sizeof(where)), rc,
		     out->applied, out->sndbuf, out->rcvbuf, (int)strnlen(out->congestion, LANESHIM_CC_NAME_MAX),
		     out->congestion, us);
}

int32_t laneshim_agent_prepare(const laneshim_flow *flow, laneshim_outcome *outcome)
{
	struct timespec t0;
	int saved = errno;
	int32_t rc = LANESHIM_E_NOT_READY;
	long deadline_us = (long)laneshim_config()->deadline_ms * 1000L, spent;
	laneshim_flow budgeted;

	memset(outcome, 0, sizeof(*outcome));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (agent_ready()) {
		/* Loading the agent and starting its runtime come out of the same deadline. */
		spent = elapsed_us(&t0);
		rc = LANESHIM_E_DEADLINE;
		if (spent < deadline_us) {
			budgeted = *flow;
			budgeted.budget_us = (uint32_t)(deadline_us - spent);
			laneshim_guard++;
			rc = agent_prepare(&budgeted, outcome);
			laneshim_guard--;
			/* Only an agent that can be told of the close needs the socket tracked. */
			if (rc == LANESHIM_OK && agent_closed != NULL)
				laneshim_lane_add(flow->fd);
		}
		log_outcome(flow, outcome, rc, elapsed_us(&t0));
	}
	errno = saved;
	return rc;
}

/* Only after laneshim_agent_prepare() answered OK or NO_LANE in this same call: the agent is ready and ours. */
void laneshim_agent_notify(int fd, int connect_errno)
{
	int saved = errno;

	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == AGENT_READY) {
		laneshim_guard++;
		agent_notify(fd, connect_errno);
		laneshim_guard--;
	}
	errno = saved;
}

/* fd, the last descriptor of a lane, is about to close (it is still open). */
void laneshim_agent_closing(int fd)
{
	int saved = errno;

	if (agent_closed != NULL && laneshim_agent_live()) {
		laneshim_guard++;
		agent_closed(fd);
		laneshim_guard--;
		laneshim_log(LANESHIM_LOG_DEBUG, "close fd=%d: lane released", fd);
	}
	errno = saved;
}
