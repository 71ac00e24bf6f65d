/* hooks_close.c - close, close_range, dup, dup2, dup3 and fcntl(F_DUPFD*): the agent hears when a lane's last fd
 * closes. */
#include "laneshim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* fd is about to be closed: if it is the last fd of a lane, tell the agent while it can still read it. */
static void closing(int fd)
{
	if (laneshim_lane_release(fd) && !laneshim_guard)
		laneshim_agent_closing(fd);
}

/* Whether the real call will get as far as closing fd2: fd must be open (dup2 checks it first). */
static bool replaces(int fd, int fd2)
{
	int saved = errno;
	bool open;

	if (fd == fd2 || !laneshim_lane_marked(fd2))
		return false;
	open = laneshim_real_fcntl(fd, F_GETFD, NULL) >= 0;
	errno = saved;
	return open;
}

/* ret is now a copy of fd: the same kind of socket, and the same lane if fd is one. */
static int duplicated(int fd, int ret)
{
	if (ret >= 0 && ret != fd) {
		laneshim_kind_set(ret, laneshim_kind_get(fd));
		laneshim_lane_dup(fd, ret);
	}
	return ret;
}

LANESHIM_API int close(int fd)
{
	/* Every other fd pays two table lookups here, no system call. */
	if (laneshim_lane_marked(fd))
		closing(fd);
	laneshim_kind_set(fd, LANESHIM_KIND_UNKNOWN);
	return laneshim_real_close(fd);
}

LANESHIM_API int close_range(unsigned int first, unsigned int last, int flags)
{
	/* With CLOSE_RANGE_CLOEXEC nothing closes now; a bad call closes nothing either. */
	if (first <= last && ((unsigned)flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) == 0 &&
	    ((unsigned)flags & CLOSE_RANGE_CLOEXEC) == 0 && laneshim_lanes_any()) {
		for (int fd = laneshim_lane_next(first, last); fd >= 0; fd = laneshim_lane_next((unsigned)fd + 1, last))
			closing(fd);
	}
	if (first <= last && ((unsigned)flags & CLOSE_RANGE_CLOEXEC) == 0)
		laneshim_kind_forget_range(first, last);
	return laneshim_real_close_range(first, last, flags);
}

LANESHIM_API int dup(int fd)
{
	return duplicated(fd, laneshim_real_dup(fd));
}

LANESHIM_API int dup2(int fd, int fd2)
{
	if (replaces(fd, fd2))
		closing(fd2);
	return duplicated(fd, laneshim_real_dup2(fd, fd2));
}

LANESHIM_API int dup3(int fd, int fd2, int flags)
{
	if (((unsigned)flags & ~(unsigned)O_CLOEXEC) == 0 && replaces(fd, fd2))
		closing(fd2);
	return duplicated(fd, laneshim_real_dup3(fd, fd2, flags));
}

/*
 * The third argument is an int, a pointer or absent depending on cmd; like glibc's own
 * fcntl, read it as one pointer-sized word and pass it on unchanged.
 */
LANESHIM_API int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	ret = laneshim_real_fcntl(fd, cmd, arg);
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? duplicated(fd, ret) : ret;
}

/* What fcntl() calls in programs built with _FILE_OFFSET_BITS=64 (glibc 2.28 and later). */
LANESHIM_API int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	ret = laneshim_real_fcntl64(fd, cmd, arg);
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? duplicated(fd, ret) : ret;
}

/* Internal names for real.c, which must never take our own hooks for libc's. */
int laneshim_hook_close(int fd) LANESHIM_ALIAS(close);
int laneshim_hook_close_range(unsigned int first, unsigned int last, int flags) LANESHIM_ALIAS(close_range);
int laneshim_hook_dup(int fd) LANESHIM_ALIAS(dup);
int laneshim_hook_dup2(int fd, int fd2) LANESHIM_ALIAS(dup2);
int laneshim_hook_dup3(int fd, int fd2, int flags) LANESHIM_ALIAS(dup3);
int laneshim_hook_fcntl(int fd, int cmd, ...) LANESHIM_ALIAS(fcntl);
int laneshim_hook_fcntl64(int fd, int cmd, ...) LANESHIM_ALIAS(fcntl64);
