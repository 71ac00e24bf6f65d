/* hooks_connect.c - connect(), accept(), accept4() and listen(): eligible TCP flows go by the agent first. */
#include "laneshim.h"

#include <errno.h>

/* A connect() the agent should see; false (fail open) for everything the prefilter rejects. */
static bool outbound_flow(int fd, const struct sockaddr *addr, socklen_t len, laneshim_flow *flow)
{
	struct laneshim_endpoint local, remote;
	int kind;

	/* Cheapest first: a socket() note is one load (UDP sockets stop here, before the config is read). */
	if (laneshim_guard || (kind = laneshim_kind_get(fd)) == LANESHIM_KIND_OTHER ||
	    !laneshim_endpoint_from(addr, len, &remote))
		return false;
	/* Address rules are memory compares, the rest are system calls. */
	if (!laneshim_filter_remote(laneshim_config(), &remote) || !laneshim_active() || !laneshim_filter_tcp(fd, kind))
		return false;
	/* The socket's own domain must match: the kernel rejects the call otherwise anyway. */
	if (!laneshim_endpoint_of(fd, false, &local) || local.family != remote.family)
		return false;
	laneshim_flow_fill(flow, fd, LANESHIM_DIR_OUTBOUND, &local, &remote);
	return true;
}

LANESHIM_API int connect(int fd, laneshim_csa addr_arg, socklen_t len)
{
	const struct sockaddr *addr = LANESHIM_SA(addr_arg);
	laneshim_outcome outcome;
	laneshim_flow flow;
	int saved = errno, rc, ret, err;

	if (!outbound_flow(fd, addr, len, &flow)) {
		errno = saved;
		return laneshim_real_connect(fd, addr, len);
	}
	rc = laneshim_agent_prepare(&flow, &outcome);
	errno = saved;
	ret = laneshim_real_connect(fd, addr, len);
	err = errno;
	if (rc == LANESHIM_OK || rc == LANESHIM_NO_LANE)
		laneshim_agent_notify(fd, ret == 0 ? 0 : err);
	errno = err;
	return ret;
}

/* After a successful accept: tell the agent about the new inbound flow. */
static void inbound(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct laneshim_endpoint local, remote;
	laneshim_outcome outcome;
	laneshim_flow flow;
	int saved = errno;

	if (laneshim_guard || !laneshim_active())
		goto out;
	/* The caller's buffer may be NULL or too small for the peer's address: ask the kernel. */
	if (!laneshim_endpoint_from(addr, len, &remote) && !laneshim_endpoint_of(fd, true, &remote))
		goto out;
	if (!laneshim_filter_remote(laneshim_config(), &remote) || !laneshim_filter_tcp(fd, laneshim_kind_get(fd)))
		goto out;
	if (!laneshim_endpoint_of(fd, false, &local))
		goto out;
	laneshim_flow_fill(&flow, fd, LANESHIM_DIR_INBOUND, &local, &remote);
	laneshim_agent_prepare(&flow, &outcome);
out:
	errno = saved;
}

/* The peer address accept() wrote, if it is all there. */
static socklen_t written(const struct sockaddr *addr, const socklen_t *len, socklen_t cap)
{
	return addr != NULL && len != NULL && *len <= cap ? *len : 0;
}

/* An accepted socket is the listener's kind; then the new flow is told to the agent. */
static void accepted(int lfd, int fd, const struct sockaddr *addr, socklen_t len)
{
	laneshim_kind_set(fd, laneshim_kind_get(lfd));
	inbound(fd, addr, len);
}

LANESHIM_API int accept(int fd, laneshim_sa addr_arg, socklen_t *len)
{
	struct sockaddr *addr = LANESHIM_SA(addr_arg);
	socklen_t cap = addr != NULL && len != NULL ? *len : 0;
	int ret = laneshim_real_accept(fd, addr, len);

	if (ret >= 0)
		accepted(fd, ret, addr, written(addr, len, cap));
	return ret;
}

LANESHIM_API int accept4(int fd, laneshim_sa addr_arg, socklen_t *len, int flags)
{
	struct sockaddr *addr = LANESHIM_SA(addr_arg);
	socklen_t cap = addr != NULL && len != NULL ? *len : 0;
	int ret = laneshim_real_accept4(fd, addr, len, flags);

	if (ret >= 0)
		accepted(fd, ret, addr, written(addr, len, cap));
	return ret;
}

/* A listening socket: its receive buffer is inherited by the flows it accepts. */
static bool listen_flow(int fd, laneshim_flow *flow)
{
	struct laneshim_endpoint local;

	if (laneshim_guard || !laneshim_endpoint_of(fd, false, &local) || !laneshim_active())
		return false;
	if (!laneshim_filter_local(laneshim_config(), &local) || !laneshim_filter_tcp(fd, laneshim_kind_get(fd)))
		return false;
	laneshim_flow_fill(flow, fd, LANESHIM_DIR_LISTEN, &local, NULL);
	return true;
}

LANESHIM_API int listen(int fd, int backlog)
{
	laneshim_outcome outcome;
	laneshim_flow flow;
	int saved = errno;

	if (listen_flow(fd, &flow))
		laneshim_agent_prepare(&flow, &outcome);
	errno = saved;
	return laneshim_real_listen(fd, backlog);
}

/* Internal names for real.c, which must never take our own hooks for libc's. */
int laneshim_hook_connect(int fd, laneshim_csa addr, socklen_t len) LANESHIM_ALIAS(connect);
int laneshim_hook_accept(int fd, laneshim_sa addr, socklen_t *len) LANESHIM_ALIAS(accept);
int laneshim_hook_accept4(int fd, laneshim_sa addr, socklen_t *len, int flags) LANESHIM_ALIAS(accept4);
int laneshim_hook_listen(int fd, int backlog) LANESHIM_ALIAS(listen);
