/* hooks_socket.c - socket(): notes what kind of socket each new fd is, so connect() skips non-TCP ones for free. */
#include "laneshim.h"

#include <errno.h>
#include <netinet/in.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

int laneshim_kind_of(int domain, int type, int protocol)
{
	/* SOCK_NONBLOCK and SOCK_CLOEXEC ride in type; they change nothing about eligibility. */
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if ((domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP))
		return LANESHIM_KIND_TCP;
	return LANESHIM_KIND_OTHER;
}

/*
 * Runs in every process for every socket: no configuration, no agent,
 * no system call of our own; at most one mmap when the fd crosses into a new block of 1024.
 * The entry is overwritten, so a reused fd number never keeps what its previous socket was.
 */
LANESHIM_API int socket(int domain, int type, int protocol)
{
	int fd = laneshim_real_socket(domain, type, protocol), saved = errno;

	if (fd >= 0) {
		laneshim_kind_set(fd, laneshim_kind_of(domain, type, protocol));
		errno = saved;
	}
	return fd;
}

/* Internal name for real.c, which must never take our own hook for libc's. */
int laneshim_hook_socket(int domain, int type, int protocol) LANESHIM_ALIAS(socket);
