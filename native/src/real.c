/* real.c - the libc functions behind our hooks, found once with dlsym(RTLD_NEXT), else raw system calls. */
#include "laneshim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int laneshim_guard __attribute__((tls_model("initial-exec")));

static connect_fn real_connect;
static accept_fn real_accept;
static accept4_fn real_accept4;
static listen_fn real_listen;
static setsockopt_fn real_setsockopt;

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
	real_connect = (connect_fn)next_symbol("connect", (void *)laneshim_hook_connect);
	real_accept = (accept_fn)next_symbol("accept", (void *)laneshim_hook_accept);
	real_accept4 = (accept4_fn)next_symbol("accept4", (void *)laneshim_hook_accept4);
	real_listen = (listen_fn)next_symbol("listen", (void *)laneshim_hook_listen);
	real_setsockopt = (setsockopt_fn)next_symbol("setsockopt", (void *)laneshim_hook_setsockopt);
	resolving = false;
}

static bool resolved(void)
{
	if (resolving)
		return false;
	pthread_once(&real_once, resolve);
	return true;
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
