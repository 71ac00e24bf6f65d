/* flow.c - turns a socket and its addresses into the laneshim_flow the agent is given. */
#include "laneshim.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Whether hooks should look at sockets at all in this process, now: cheapest tests first. */
bool laneshim_active(void)
{
	const struct laneshim_config *c = laneshim_config();

	return !c->disabled && !c->out_of_scope && laneshim_agent_usable() && !laneshim_kill_switch(c);
}

bool laneshim_endpoint_from(const struct sockaddr *sa, socklen_t len, struct laneshim_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa == NULL || len < sizeof(sa_family_t))
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		ep->family = AF_INET;
		ep->port = ntohs(in->sin_port);
		memcpy(ep->addr, &in->sin_addr, 4);
		return true;
	}
	/* The kernel takes an IPv6 address without sin6_scope_id (RFC 2133 size); so do we. */
	if (sa->sa_family == AF_INET6 && len >= offsetof(struct sockaddr_in6, sin6_scope_id)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		ep->family = AF_INET6;
		ep->port = ntohs(in6->sin6_port);
		memcpy(ep->addr, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

bool laneshim_endpoint_of(int fd, bool peer, struct laneshim_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);

	return rc == 0 && laneshim_endpoint_from((struct sockaddr *)&ss, len, ep);
}

void laneshim_flow_fill(laneshim_flow *flow, int fd, int32_t direction, const struct laneshim_endpoint *local,
			const struct laneshim_endpoint *remote)
{
	int fl = laneshim_real_fcntl(fd, F_GETFL, NULL);

	memset(flow, 0, sizeof(*flow));
	flow->fd = fd;
	flow->direction = direction;
	flow->family = local->family;
	flow->local_port = local->port;
	memcpy(flow->local_addr, local->addr, sizeof(flow->local_addr));
	if (remote != NULL) {
		flow->remote_port = remote->port;
		memcpy(flow->remote_addr, remote->addr, sizeof(flow->remote_addr));
	}
	flow->flags = laneshim_fdstate_get(fd, &flow->app_sndbuf, &flow->app_rcvbuf);
	if (fl >= 0 && (fl & O_NONBLOCK) != 0)
		flow->flags |= LANESHIM_FLOW_NONBLOCK;
}

const char *laneshim_endpoint_str(const struct laneshim_endpoint *ep, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(ep->family, ep->addr, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, ep->port);
	return buf;
}
