/* laneshim.h - declarations shared by the shim's source files; not part of the ABI. */
#ifndef LANESHIM_H
#define LANESHIM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "laneshim_abi.h"

/*
 * With _GNU_SOURCE, glibc declares the sockaddr parameters of connect/accept as transparent
 * unions; the hooks must be defined with the same types and unwrap them.
 */
#if defined(__GLIBC__) && defined(__USE_GNU) && !defined(__cplusplus)
typedef __CONST_SOCKADDR_ARG laneshim_csa;
typedef __SOCKADDR_ARG laneshim_sa;
#define LANESHIM_SA(arg) ((arg).__sockaddr__)
#else
typedef const struct sockaddr *laneshim_csa;
typedef struct sockaddr *laneshim_sa;
#define LANESHIM_SA(arg) (arg)
#endif

/* Only the hooked libc names leave the library (see laneshim.map). */
#define LANESHIM_API __attribute__((visibility("default")))

/* A second, internal name for a hook; copy() keeps libc's attributes (nothrow, leaf) on it. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define LANESHIM_ALIAS(target) __attribute__((alias(#target), copy(target)))
#else
#define LANESHIM_ALIAS(target) __attribute__((alias(#target)))
#endif

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*listen_fn)(int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*fcntl_fn)(int, int, ...);

#pragma GCC visibility push(hidden)

/* Set while this thread is inside the agent: its own socket calls go straight to libc. */
extern __thread int laneshim_guard __attribute__((tls_model("initial-exec")));

/* real.c: the next definitions of the hooked functions (libc), or the raw system calls. */
int laneshim_real_socket(int domain, int type, int protocol);
int laneshim_real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int laneshim_real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int laneshim_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int laneshim_real_listen(int fd, int backlog);
int laneshim_real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int laneshim_real_close(int fd);
int laneshim_real_close_range(unsigned int first, unsigned int last, int flags);
int laneshim_real_dup(int fd);
int laneshim_real_dup2(int fd, int fd2);
int laneshim_real_dup3(int fd, int fd2, int flags);
int laneshim_real_fcntl(int fd, int cmd, void *arg);
int laneshim_real_fcntl64(int fd, int cmd, void *arg);

/* Internal names of our own hooks, so real.c can tell when dlsym hands them back. */
int laneshim_hook_socket(int domain, int type, int protocol);
int laneshim_hook_connect(int fd, laneshim_csa addr, socklen_t len);
int laneshim_hook_accept(int fd, laneshim_sa addr, socklen_t *len);
int laneshim_hook_accept4(int fd, laneshim_sa addr, socklen_t *len, int flags);
int laneshim_hook_listen(int fd, int backlog);
int laneshim_hook_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int laneshim_hook_close(int fd);
int laneshim_hook_close_range(unsigned int first, unsigned int last, int flags);
int laneshim_hook_dup(int fd);
int laneshim_hook_dup2(int fd, int fd2);
int laneshim_hook_dup3(int fd, int fd2, int flags);
int laneshim_hook_fcntl(int fd, int cmd, ...);
int laneshim_hook_fcntl64(int fd, int cmd, ...);

/* An IP address and port; v4-mapped IPv6 addresses are kept as given. */
struct laneshim_endpoint {
	uint16_t family;  /* AF_INET or AF_INET6 */
	uint16_t port;    /* host byte order */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/* An address prefix; v4-mapped IPv6 prefixes are stored as IPv4. */
struct laneshim_cidr {
	uint16_t family;
	uint16_t prefix;
	uint8_t addr[16];
};

#define LANESHIM_EXCLUDE_MAX  64
#define LANESHIM_BROKER_MAX   512
#define LANESHIM_PATTERNS_MAX 1024

/* The site's kill switch: while this file exists the shim starts no lanes (scope.c). */
#ifndef LANESHIM_KILL_SWITCH
#define LANESHIM_KILL_SWITCH "/etc/laneshim/disable"
#endif

/* Program globs, NUL-separated in text. */
struct laneshim_patterns {
	unsigned count;
	unsigned used; /* bytes of text in use */
	char text[LANESHIM_PATTERNS_MAX];
};

/* config.c: the client configuration, read once on first use. */
struct laneshim_config {
	bool disabled;
	bool out_of_scope; /* this program is excluded (scope.c), decided when the config is read */
	bool default_excludes;
	bool include_loopback;
	int log_level;
	uint32_t deadline_ms;
	unsigned exclude_count;
	struct laneshim_cidr exclude[LANESHIM_EXCLUDE_MAX];
	unsigned broker_count; /* TCP endpoints of the broker, never handed to the agent */
	struct laneshim_endpoint broker_endpoint[2];
	char broker[LANESHIM_BROKER_MAX];
	char agent[PATH_MAX];
	char log_file[PATH_MAX];
	char disable_file[PATH_MAX]; /* a kill switch of the site's own, besides LANESHIM_KILL_SWITCH */
	int agent_start;             /* LANESHIM_AGENT_START_*: where the agent's runtime starts (agent.c) */
	struct laneshim_patterns allow_programs;
	struct laneshim_patterns deny_programs;
};
/* laneshim_config.agent_start */
enum laneshim_agent_start {
	LANESHIM_AGENT_START_AUTO,   /* a thread of its own, inline under a finite RLIMIT_AS */
	LANESHIM_AGENT_START_THREAD, /* a loader thread; connect() waits at most its deadline, late lanes after */
	LANESHIM_AGENT_START_INLINE, /* on the thread of the first eligible call: one malloc arena less */
};

const struct laneshim_config *laneshim_config(void);
bool laneshim_cidr_parse(const char *text, size_t len, struct laneshim_cidr *out);

/* scope.c */
bool laneshim_glob_valid(const char *pattern, size_t len);
bool laneshim_glob_match(const char *pattern, const char *text);
bool laneshim_scope_program(const struct laneshim_config *c, char *exe, size_t exe_size, char *why, size_t why_size);
bool laneshim_kill_switch(const struct laneshim_config *c);

/* log.c */
void laneshim_log_setup(int level, const char *path);
bool laneshim_log_enabled(int level);
int laneshim_log_fd(void);
void laneshim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* filter.c: the cheap tests that keep most sockets away from the agent. */
bool laneshim_filter_remote(const struct laneshim_config *config, const struct laneshim_endpoint *remote);
bool laneshim_filter_local(const struct laneshim_config *config, const struct laneshim_endpoint *local);
bool laneshim_filter_tcp(int fd, int kind);

/* flow.c: describing a socket to the agent. */
bool laneshim_active(void);
bool laneshim_endpoint_from(const struct sockaddr *sa, socklen_t len, struct laneshim_endpoint *ep);
bool laneshim_endpoint_of(int fd, bool peer, struct laneshim_endpoint *ep);
void laneshim_flow_fill(laneshim_flow *flow, int fd, int32_t direction, const struct laneshim_endpoint *local,
			const struct laneshim_endpoint *remote);
const char *laneshim_endpoint_str(const struct laneshim_endpoint *ep, char *buf, size_t len);

/*
 * fdstate.c: what socket() made on each fd. TCP is AF_INET/AF_INET6 stream TCP or MPTCP; OTHER
 * is every other socket; UNKNOWN is an fd made or closed behind our back (raw system calls,
 * SCM_RIGHTS, libc's internal closes), for which the kernel is asked.
 */
enum laneshim_kind {
	LANESHIM_KIND_UNKNOWN = 0,
	LANESHIM_KIND_OTHER = 1,
	LANESHIM_KIND_TCP = 2,
};
int laneshim_kind_of(int domain, int type, int protocol);
int laneshim_kind_get(int fd);
void laneshim_kind_set(int fd, int kind);
void laneshim_kind_forget_range(unsigned first, unsigned last);

/* fdstate.c: what the program set on each fd, keyed by fd number and checked against the inode. */
void laneshim_fdstate_remember(int fd, int optname, int value);
uint32_t laneshim_fdstate_get(int fd, int32_t *sndbuf, int32_t *rcvbuf);

/*
 * fdstate.c: lanes, the sockets the agent prepared, by fd. marked is one table lookup (the
 * cost of close for every other fd); the rest is for marked fds only and preserves errno.
 */
bool laneshim_lane_marked(int fd);
bool laneshim_lanes_any(void);
int laneshim_lane_next(unsigned from, unsigned last); /* first marked fd in [from, last], or -1 */
void laneshim_lane_add(int fd);
bool laneshim_lane_release(int fd);      /* fd is about to close: true if it is the lane's last fd */
void laneshim_lane_dup(int fd, int fd2); /* fd2 was just made a copy of fd */
void laneshim_lanes_forget(void);        /* fork child: the inherited marks are the parent's */

/* agent.c */
bool laneshim_agent_usable(void);
int32_t laneshim_agent_prepare(const laneshim_flow *flow, laneshim_outcome *outcome);
void laneshim_agent_notify(int fd, int connect_errno);
bool laneshim_agent_live(void);
void laneshim_agent_closing(int fd);

#pragma GCC visibility pop

#endif /* LANESHIM_H */
