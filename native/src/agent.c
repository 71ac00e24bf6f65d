/*
 * agent.c - starts liblaneshim-agent.so in a thread of its own (never unloads it), lets a connect() wait only what is
 * left of its deadline for it, gives the flows that could not wait their lane once it is ready, and gives a forked
 * child an agent of its own.
 */
#include "laneshim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

enum agent_state {
	AGENT_UNLOADED,
	AGENT_LOADING, /* the loader thread is starting it; callers wait for it at most their deadline */
	AGENT_READY,
	AGENT_UNUSABLE, /* failed to load or init, no room or no thread for it: for the life of the process */
};

/*
 * What the agent's runtime may take of the address space (docs/architecture.md: GC range, image, two malloc arenas,
 * stacks), and the least room RLIMIT_AS must leave for the agent to be loaded at all: twice that, so the agent never
 * takes more than half of what the program was allowed.
 */
#define AGENT_ADDRESS_SPACE (192UL << 20)
#define AGENT_MIN_ROOM      (2 * AGENT_ADDRESS_SPACE)
#define LOADER_STACK        (512UL << 10)
#define LATE_MAX            64
#define LATE_LINGER_MS      50
#define LATE_BUDGET_US      1000000U
#define FORK_WAIT_MS        200 /* the most fork() waits for the loader to leave dlopen */

static int state = AGENT_UNLOADED; /* the futex word callers wait on */
static pid_t known_pid;            /* this process, as of the constructor or the last fork(): not a vfork child */
static pid_t owner_pid;            /* the process whose loader started the agent */
static bool fresh_copy;            /* an inherited instance is mapped here: load a private copy */
static laneshim_agent_init_fn agent_init;
static laneshim_agent_prepare_socket_fn agent_prepare;
static laneshim_agent_notify_connected_fn agent_notify;
static laneshim_agent_notify_closed_fn agent_closed;  /* optional: agents older than the export lack it */
static laneshim_agent_exiting_fn agent_exiting;       /* optional too */
static laneshim_agent_serve_fn agent_serve;           /* optional: the agent's background work on the loader thread */
static laneshim_agent_will_serve_fn agent_will_serve; /* optional: tells the agent the loader thread will serve */
static char program[PATH_MAX];
static laneshim_agent_config agent_config;

/* Held by the loader while it is inside dlopen, and by fork() so that no child inherits a half-made link map. */
static pthread_mutex_t dl_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool fork_holds_dl;

/* Flows that connected while the agent was still starting: they get their lane when it is ready. */
struct late_flow {
	laneshim_flow flow;
	uint64_t cookie; /* the socket's identity, so a reused descriptor number is never mistaken for it */
};
static struct late_flow late[LATE_MAX];
static unsigned late_count;
static bool late_open; /* from the loader's start until it has served the last late flow */
static int late_lock;  /* a spin lock held for a copy, never across a call */

__attribute__((constructor)) static void agent_process_start(void)
{
	known_pid = getpid(); /* cannot fail */
}

static void lock_late(void)
{
	while (__atomic_exchange_n(&late_lock, 1, __ATOMIC_ACQUIRE) != 0)
		sched_yield();
}

static void unlock_late(void)
{
	__atomic_store_n(&late_lock, 0, __ATOMIC_RELEASE);
}

static long elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * The .NET runtime registers for private expedited membarrier when it starts. In a process with more than one
 * thread the kernel then waits for an RCU grace period (measured here: 10-20 ms, against 2.5 ms for the whole
 * runtime start); with one thread it is a flag. So the shim registers first, while the process is single-threaded:
 * the registration only allows membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) later and changes nothing else.
 */
static void register_membarrier(void)
{
	syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
}

static void fork_prepare(void)
{
	struct timespec until;

	fork_holds_dl = false;
	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != AGENT_LOADING)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += FORK_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	fork_holds_dl = pthread_mutex_timedlock(&dl_mutex, &until) == 0;
}

static void fork_parent(void)
{
	if (fork_holds_dl)
		pthread_mutex_unlock(&dl_mutex);
}

/*
 * The parent's .NET runtime does not survive fork(): its threads are gone in the child. The child loads a private
 * copy of the agent when it needs one, unless the fork caught the loader inside dlopen.
 */
static void fork_child(void)
{
	int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
	bool caught_in_dlopen = s == AGENT_LOADING && !fork_holds_dl;

	known_pid = getpid();
	pthread_mutex_init(&dl_mutex, NULL);
	late_lock = 0;
	late_count = 0;
	laneshim_lanes_forget();
	if (s == AGENT_LOADING || s == AGENT_READY) {
		register_membarrier(); /* the child has one thread now: cheap (see begin_loading) */
		fresh_copy = true;
		__atomic_store_n(&state, caught_in_dlopen ? AGENT_UNUSABLE : AGENT_UNLOADED, __ATOMIC_RELAXED);
	}
}

/*
 * atexit: the agent may flush its reports. Only in the process whose loader started it: a forked child inherits
 * this handler, and calls its own agent if it loaded one.
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

/* The agent copied into a memfd: the loader sees a new file, so it maps and runs a new instance of it. */
static int copy_to_memfd(const char *path)
{
	struct stat st;
	off_t offset = 0;
	int in, copy;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	copy = (int)syscall(SYS_memfd_create, "laneshim-agent", MFD_CLOEXEC);
	if (copy < 0 || fstat(in, &st) != 0) {
		int err = errno;

		if (copy >= 0)
			laneshim_real_close(copy);
		laneshim_real_close(in);
		return -err;
	}
	while (offset < st.st_size) {
		ssize_t n = sendfile(copy, in, &offset, (size_t)(st.st_size - offset));

		if (n <= 0) {
			int err = n == 0 ? EIO : errno;

			laneshim_real_close(copy);
			laneshim_real_close(in);
			return -err;
		}
	}
	laneshim_real_close(in);
	return copy;
}

/* dlopen of the agent, or of a private copy of it when an inherited instance is already mapped here. */
static void *open_agent(const char *path)
{
	char copy_path[64];
	void *handle;
	int copy;

	/* RTLD_NODELETE: a .NET runtime can never be unloaded, whatever happens to the handle. */
	if (!fresh_copy)
		return dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	copy = copy_to_memfd(path);
	if (copy < 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: cannot copy %s for this forked process: %s", path,
			     strerror(-copy));
		return NULL;
	}
	snprintf(copy_path, sizeof(copy_path), "/proc/self/fd/%d", copy);
	handle = dlopen(copy_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	laneshim_real_close(copy);
	return handle;
}

static bool load(const struct laneshim_config *c, uint32_t init_flags)
{
	static bool exit_registered;
	ssize_t n;
	void *handle;
	int32_t rc;

	struct timespec t0;
	long opened_us;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&dl_mutex);
	handle = open_agent(c->agent);
	pthread_mutex_unlock(&dl_mutex);
	opened_us = elapsed_us(&t0);
	if (handle == NULL) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: cannot load %s: %s; connecting without lanes", c->agent,
			     dlerror());
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
	/* Looked up before laneshim_agent_serve: glibc keeps a failed lookup's message in the calling (loader) thread
	 * until a later dl call succeeds, and a forked child, where that thread is gone, would leak it (valgrind). */
	agent_will_serve = (laneshim_agent_will_serve_fn)dlsym(handle, "laneshim_agent_will_serve");
	agent_serve = (laneshim_agent_serve_fn)dlsym(handle, "laneshim_agent_serve");
	if (agent_exiting != NULL && !exit_registered)
		exit_registered = atexit(agent_exit) == 0;
	n = readlink("/proc/self/exe", program, sizeof(program) - 1);
	program[n > 0 ? n : 0] = '\0';
	agent_config.abi_version = LANESHIM_ABI_VERSION;
	agent_config.deadline_ms = c->deadline_ms;
	agent_config.log_level = c->log_level;
	agent_config.log_fd = laneshim_log_fd();
	agent_config.flags = init_flags;
	agent_config.broker = c->broker;
	agent_config.program = program;
	rc = agent_init(&agent_config);
	if (rc < 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: %s: init failed (%d%s); connecting without lanes", c->agent,
			     rc, rc == LANESHIM_E_ABI ? ": ABI version mismatch" : "");
		return false;
	}
	laneshim_log(LANESHIM_LOG_INFO,
		     "agent: %s ready%s (broker %s, deadline %u ms; loaded in %ld us, started in %ld us)", c->agent,
		     fresh_copy ? " (private copy after fork)" : "", c->broker, c->deadline_ms, opened_us,
		     elapsed_us(&t0) - opened_us);
	return true;
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0 ? cookie : 0;
}

/* A flow that could not wait for the agent: remembered (while it is still starting) for its lane later. */
static void queue_late(const laneshim_flow *flow)
{
	uint64_t cookie = cookie_of(flow->fd);
	bool queued = false;

	if (cookie == 0)
		return;
	lock_late();
	if (late_open && late_count < LATE_MAX) {
		late[late_count].flow = *flow;
		late[late_count].cookie = cookie;
		late_count++;
		queued = true;
	}
	unlock_late();
	laneshim_log(LANESHIM_LOG_DEBUG, "fd=%d: the agent was not ready within the deadline; %s", flow->fd,
		     queued                   ? "its lane follows when it is ready"
		     : late_count >= LATE_MAX ? "no lane (too many flows waiting)"
					      : "no lane");
}

/* Publishes the loader's outcome and wakes the flows waiting for it. */
static void publish(bool ok)
{
	lock_late();
	__atomic_store_n(&state, ok ? AGENT_READY : AGENT_UNUSABLE, __ATOMIC_RELEASE);
	if (!ok)
		late_open = false;
	unlock_late();
	syscall(SYS_futex, &state, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* The connect errno a late outbound flow reports: 0 once connected, EINPROGRESS while the handshake runs. */
static int connect_state(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int err = 0;

	if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
		return 0;
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
		return err;
	return EINPROGRESS;
}

/*
 * Gives each flow that connected while the agent was starting its lane now, if its socket is still the same one.
 * False when there was none.
 */
static bool serve_late(void)
{
	struct late_flow flows[LATE_MAX];
	struct laneshim_endpoint local;
	laneshim_outcome outcome;
	unsigned count;

	lock_late();
	count = late_count;
	memcpy(flows, late, count * sizeof(flows[0]));
	late_count = 0;
	unlock_late();
	if (count == 0)
		return false;
	for (unsigned i = 0; i < count; i++) {
		laneshim_flow *flow = &flows[i].flow;
		int err = 0;
		int32_t rc;

		if (cookie_of(flow->fd) != flows[i].cookie)
			continue; /* closed, perhaps reused for another socket, since */
		if (flow->direction == LANESHIM_DIR_OUTBOUND) {
			err = connect_state(flow->fd);
			if (err != 0 && err != EINPROGRESS)
				continue; /* the connect failed: there is no flow to give a lane to */
		}
		/* connect() has bound it since: the broker proves the socket by its real local address. */
		if (laneshim_endpoint_of(flow->fd, false, &local)) {
			flow->local_port = local.port;
			memcpy(flow->local_addr, local.addr, sizeof(flow->local_addr));
		}
		flow->flags |= LANESHIM_FLOW_LATE;
		flow->budget_us = LATE_BUDGET_US; /* nobody waits for it: not the deadline (the agent caps it) */
		memset(&outcome, 0, sizeof(outcome));
		rc = agent_prepare(flow, &outcome);
		if (rc == LANESHIM_OK && agent_closed != NULL && cookie_of(flow->fd) == flows[i].cookie)
			laneshim_lane_add(flow->fd);
		if (flow->direction == LANESHIM_DIR_OUTBOUND && (rc == LANESHIM_OK || rc == LANESHIM_NO_LANE))
			agent_notify(flow->fd, err);
		laneshim_log(LANESHIM_LOG_DEBUG, "fd=%d: late lane: agent rc=%d applied=0x%x", flow->fd, rc,
			     outcome.applied);
	}
	return true;
}

/*
 * A flow woken by the ready agent with no budget left queues itself just after: the loader keeps serving for two
 * deadlines (at most LATE_LINGER_MS) after the last late flow, then closes the queue and goes on to the agent's work.
 */
static void serve_late_until_quiet(void)
{
	long linger_us = 2L * laneshim_config()->deadline_ms * 1000L;
	struct timespec quiet, step = {.tv_sec = 0, .tv_nsec = 5000000L};

	if (linger_us > LATE_LINGER_MS * 1000L)
		linger_us = LATE_LINGER_MS * 1000L;
	clock_gettime(CLOCK_MONOTONIC, &quiet);
	while (elapsed_us(&quiet) < linger_us) {
		if (serve_late())
			clock_gettime(CLOCK_MONOTONIC, &quiet);
		else
			nanosleep(&step, NULL);
	}
	lock_late();
	late_open = false;
	unlock_late();
	serve_late();
}

static void *loader_main(void *arg)
{
	bool ok;

	(void)arg;
	laneshim_guard++; /* the agent's own sockets (to the broker) go straight to libc */
	ok = load(laneshim_config(), 0);
	/* Before any flow can get a lane: a lease granted while this thread serves late flows must not make the agent
	 * start a service thread of its own. */
	if (ok && agent_serve != NULL && agent_will_serve != NULL)
		agent_will_serve();
	publish(ok);
	if (ok) {
		serve_late_until_quiet();
		/* From here on this thread is the agent's: it renews leases and sends reports until the process ends.
		 */
		if (agent_serve != NULL)
			agent_serve();
	}
	laneshim_guard--;
	return NULL;
}

/* VmSize from /proc/self/statm, in bytes; 0 if it cannot be read. */
static unsigned long address_space_used(void)
{
	char text[64];
	unsigned long pages = 0;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	laneshim_real_close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	if (sscanf(text, "%lu", &pages) != 1)
		return 0;
	return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}

/*
 * A process under a seccomp filter (sandboxed daemons, systemd SystemCallFilter=) gets no agent: the runtime's
 * system calls are not the program's, and a filter that kills on an unexpected one would kill the program.
 */
static bool sandboxed(void)
{
	char text[4096];
	const char *line;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	laneshim_real_close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	line = strstr(text, "\nSeccomp:");
	if (line == NULL || atoi(line + 9) == 0)
		return false;
	laneshim_log(LANESHIM_LOG_INFO, "agent: not loaded: the process runs under a seccomp filter");
	return true;
}

/* Under RLIMIT_AS (batch limits, ulimit -v), the agent loads only if the program keeps most of its room. */
static bool room_for_agent(void)
{
	struct rlimit limit;
	unsigned long used;

	if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
		return true;
	used = address_space_used();
	if (used != 0 && limit.rlim_cur > used && limit.rlim_cur - used >= AGENT_MIN_ROOM)
		return true;
	laneshim_log(
		LANESHIM_LOG_INFO,
		"agent: not loaded: RLIMIT_AS %lu MiB leaves %lu MiB, and the agent needs %lu MiB of at least %lu MiB",
		(unsigned long)(limit.rlim_cur >> 20),
		limit.rlim_cur > used ? (unsigned long)((limit.rlim_cur - used) >> 20) : 0UL, AGENT_ADDRESS_SPACE >> 20,
		AGENT_MIN_ROOM >> 20);
	return false;
}

/* The loader thread: signals stay with the program's threads, except what the .NET runtime needs itself. */
static bool start_loader(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t thread;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, LOADER_STACK);
	sigfillset(&all);
	/* Faults are delivered to the thread that caused them; SIGRTMIN is the runtime's thread-suspension signal. */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGRTMIN);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, &attr, loader_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: cannot start its thread: %s; connecting without lanes",
			     strerror(rc));
		return false;
	}
	return true;
}

static bool register_fork_handlers(void)
{
	static bool registered;

	if (!registered && pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "agent: pthread_atfork failed; agent disabled");
		return false;
	}
	registered = true;
	return true;
}

/* Whether the agent starts on the calling thread (agent_start = inline, or auto under a finite RLIMIT_AS). */
static bool start_inline(void)
{
	struct rlimit limit;

	switch (laneshim_config()->agent_start) {
	case LANESHIM_AGENT_START_INLINE:
		return true;
	case LANESHIM_AGENT_START_THREAD:
		return false;
	default:
		return getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
	}
}

/*
 * Starts the agent the first time; false (fail open) when it cannot. By default in a loader thread: the flows
 * wait for it at most their deadline, the rest get their lanes late. That thread costs the process a second
 * 64 MiB glibc malloc arena of address space (the agent's dynamic TLS is allocated in every thread that enters
 * it; the runtime's finalizer thread has the first), which a program under RLIMIT_AS cannot afford: there the
 * agent starts on the calling thread instead, and the first flow waits for it (docs/architecture.md).
 */
static bool begin_loading(void)
{
	int expected = AGENT_UNLOADED;
	bool ok;

	if (!__atomic_compare_exchange_n(&state, &expected, AGENT_LOADING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return expected == AGENT_LOADING;
	owner_pid = known_pid;
	if (sandboxed() || !room_for_agent() || !register_fork_handlers()) {
		publish(false);
		return false;
	}
	if (__libc_single_threaded)
		register_membarrier(); /* cheap now; with a second thread it waits for an RCU grace period */
	if (start_inline()) {
		laneshim_guard++;
		ok = load(laneshim_config(), LANESHIM_INIT_INLINE);
		laneshim_guard--;
		publish(ok);
		return ok;
	}
	lock_late();
	late_open = true;
	unlock_late();
	if (!start_loader()) {
		publish(false);
		return false;
	}
	return true;
}

/*
 * Cheap: false once the agent is known to be of no use here. No pid check (a system call): a child made
 * by raw clone or vfork passes this filter and is stopped by agent_wait(), before any agent call.
 */
bool laneshim_agent_usable(void)
{
	return __atomic_load_n(&state, __ATOMIC_ACQUIRE) != AGENT_UNUSABLE;
}

/* The agent is loaded and this is the process that loaded it: lanes here are ours to release. */
bool laneshim_agent_live(void)
{
	return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == AGENT_READY && getpid() == owner_pid;
}

/*
 * Waits for the agent at most until deadline_us after t0, starting it the first time. A flow that cannot wait
 * longer is queued for a late lane. Never starts anything in a vfork or raw-clone child (it shares our memory).
 */
static bool agent_wait(const struct timespec *t0, long deadline_us, const laneshim_flow *flow)
{
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	pid_t pid = getpid();

	if (s == AGENT_READY)
		return pid == owner_pid;
	if (pid != known_pid)
		return false;
	if (s == AGENT_UNLOADED && !begin_loading())
		return false;
	for (;;) {
		long left = deadline_us - elapsed_us(t0);
		struct timespec wait;

		s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
		if (s != AGENT_LOADING || left <= 0)
			break;
		wait.tv_sec = left / 1000000L;
		wait.tv_nsec = (left % 1000000L) * 1000L;
		syscall(SYS_futex, &state, FUTEX_WAIT_PRIVATE, AGENT_LOADING, &wait, NULL, 0);
	}
	if (s == AGENT_LOADING)
		queue_late(flow);
	return s == AGENT_READY;
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
		     "%s fd=%d %s: agent rc=%d applied=0x%x sndbuf=%d rcvbuf=%d congestion=%.*s in %ld us", dirs[dir],
		     flow->fd, laneshim_endpoint_str(&remote, where, sizeof(where)), rc, out->applied, out->sndbuf,
		     out->rcvbuf, (int)strnlen(out->congestion, LANESHIM_CC_NAME_MAX), out->congestion, us);
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
	if (agent_wait(&t0, deadline_us, flow)) {
		/* Waiting for the agent to start comes out of the same deadline. */
		spent = elapsed_us(&t0);
		rc = LANESHIM_E_DEADLINE;
		if (spent >= deadline_us)
			queue_late(flow); /* the agent became ready just too late for this flow */
		else {
			budgeted = *flow;
			budgeted.budget_us = (uint32_t)(deadline_us - spent);
			laneshim_guard++;
			rc = agent_prepare(&budgeted, outcome);
			laneshim_guard--;
			/* Only an agent that can be told of the close needs the socket tracked. */
			if (rc == LANESHIM_OK && agent_closed != NULL)
				laneshim_lane_add(flow->fd);
		}
	}
	log_outcome(flow, outcome, rc, elapsed_us(&t0));
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
