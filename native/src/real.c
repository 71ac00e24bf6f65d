/* real.c - the libc functions behind our hooks, found once with dlsym(RTLD_NEXT), else raw system calls. */
#include "laneshim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int laneshim_guard __attribute__((tls_model("initial-exec")));

static socket_fn real_socket;
static connect_fn real_connect;
static accept_fn real_accept;
static accept4_fn real_accept4;
static listen_fn real_listen;
static setsockopt_fn real_setsockopt;
static close_fn real_close;
static close_range_fn real_close_range;
static dup_fn real_dup;
static dup2_fn real_dup2;
static dup3_fn real_dup3;
static fcntl_fn real_fcntl;
static fcntl_fn real_fcntl64;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/*
 * A signal handler that interrupts resolve() and calls a hook must not wait on real_once
 * (it would wait for itself), so this thread then uses the system calls.
 */
static __thread bool resolving __attribute__((tls_model("initial-exec")));

static void *next_symbol(const char *name, void *self)
{
	void *sym = dlsym(RTLD_NEXT, name);

	/* Our own hook would recurse forever; NULL means libc is not below us (static or odd link). */
	return sym == self ? NULL : sym;
}

static void resolve(void)
{
	resolving = true;
	real_socket = (socket_fn)next_symbol("socket", (void *)laneshim_hook_socket);
	real_connect = (connect_fn)next_symbol("connect", (void *)laneshim_hook_connect);
	real_accept = (accept_fn)next_symbol("accept", (void *)laneshim_hook_accept);
	real_accept4 = (accept4_fn)next_symbol("accept4", (void *)laneshim_hook_accept4);
	real_listen = (listen_fn)next_symbol("listen", (void *)laneshim_hook_listen);
	real_setsockopt = (setsockopt_fn)next_symbol("setsockopt", (void *)laneshim_hook_setsockopt);
	real_close = (close_fn)next_symbol("close", (void *)laneshim_hook_close);
	real_close_range = (close_range_fn)next_symbol("close_range", (void *)laneshim_hook_close_range);
	real_dup = (dup_fn)next_symbol("dup", (void *)laneshim_hook_dup);
	real_dup2 = (dup2_fn)next_symbol("dup2", (void *)laneshim_hook_dup2);
	real_dup3 = (dup3_fn)next_symbol("dup3", (void *)laneshim_hook_dup3);
	real_fcntl = (fcntl_fn)next_symbol("fcntl", (void *)laneshim_hook_fcntl);
	/* glibc before 2.28 (and musl) have no fcntl64: then it is the same call as fcntl. */
	real_fcntl64 = (fcntl_fn)next_symbol("fcntl64", (void *)laneshim_hook_fcntl64);
	resolving = false;
}

static bool resolved(void)
{
	if (resolving)
		return false;
	pthread_once(&real_once, resolve);
	return true;
}

int laneshim_real_socket(int domain, int type, int protocol)
{
	if (resolved() && real_socket)
		return real_socket(domain, type, protocol);
	return (int)syscall(SYS_socket, domain, type, protocol);
}

int laneshim_real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (resolved() && real_connect)
		return real_connect(fd, addr, len);
	return (int)syscall(SYS_connect, fd, addr, len);
}

int laneshim_real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (resolved() && real_accept)
		return real_accept(fd, addr, len);
#ifdef SYS_accept
	return (int)syscall(SYS_accept, fd, addr, len);
#else
	return (int)syscall(SYS_accept4, fd, addr, len, 0);
#endif
}

int laneshim_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	if (resolved() && real_accept4)
		return real_accept4(fd, addr, len, flags);
	return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

int laneshim_real_listen(int fd, int backlog)
{
	if (resolved() && real_listen)
		return real_listen(fd, backlog);
	return (int)syscall(SYS_listen, fd, backlog);
}

int laneshim_real_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (resolved() && real_setsockopt)
		return real_setsockopt(fd, level, name, val, len);
	return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

int laneshim_real_close(int fd)
{
	if (resolved() && real_close)
		return real_close(fd);
	return (int)syscall(SYS_close, fd);
}

int laneshim_real_close_range(unsigned int first, unsigned int last, int flags)
{
	if (resolved() && real_close_range)
		return real_close_range(first, last, flags);
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

int laneshim_real_dup(int fd)
{
	if (resolved() && real_dup)
		return real_dup(fd);
	return (int)syscall(SYS_dup, fd);
}

int laneshim_real_dup2(int fd, int fd2)
{
	if (resolved() && real_dup2)
		return real_dup2(fd, fd2);
#ifdef SYS_dup2
	return (int)syscall(SYS_dup2, fd, fd2);
#else
	/* dup3 refuses fd == fd2, where dup2 only checks that fd is open. */
	if (fd == fd2)
		return laneshim_real_fcntl(fd, F_GETFD, NULL) < 0 ? -1 : fd2;
	return (int)syscall(SYS_dup3, fd, fd2, 0);
#endif
}

int laneshim_real_dup3(int fd, int fd2, int flags)
{
	if (resolved() && real_dup3)
		return real_dup3(fd, fd2, flags);
	return (int)syscall(SYS_dup3, fd, fd2, flags);
}

/* arg is whatever the caller passed (an int, a pointer or nothing), forwarded as one word. */
int laneshim_real_fcntl(int fd, int cmd, void *arg)
{
	if (resolved() && real_fcntl)
		return real_fcntl(fd, cmd, arg);
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int laneshim_real_fcntl64(int fd, int cmd, void *arg)
{
	if (resolved() && real_fcntl64)
		return real_fcntl64(fd, cmd, arg);
	if (resolved() && real_fcntl)
		return real_fcntl(fd, cmd, arg);
#ifdef SYS_fcntl64
	return (int)syscall(SYS_fcntl64, fd, cmd, arg);
#else
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
#endif
}
