/* hooks_sockopt.c - setsockopt(): remembers the buffer sizes the program asked for, changes nothing. */
#include "laneshim.h"

#include <errno.h>
#include <string.h>

static bool is_buffer_option(int level, int name)
{
	return level == SOL_SOCKET &&
	       (name == SO_SNDBUF || name == SO_RCVBUF || name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE);
}

LANESHIM_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int ret = laneshim_real_setsockopt(fd, level, name, val, len);
	int saved = errno, value;

	/*
	 * Only what the kernel accepted is remembered (so val was readable); the agent's own
	 * calls, made under the guard, are not the program's wishes.
	 */
	if (ret != 0 || laneshim_guard || !is_buffer_option(level, name) || val == NULL || len < sizeof(int))
		return ret;
	if (laneshim_active()) {
		memcpy(&value, val, sizeof(value));
		laneshim_fdstate_remember(fd, name, value);
	}
	errno = saved;
	return ret;
}

int laneshim_hook_setsockopt(int fd, int level, int name, const void *val, socklen_t len) LANESHIM_ALIAS(setsockopt);
