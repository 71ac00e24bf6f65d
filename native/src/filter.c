/* filter.c - the prefilter: cheap tests that keep loopback, excluded, broker and non-TCP sockets from the agent. */
#include "laneshim.h"

#include <netinet/in.h>
#include <string.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The address as matched: v4-mapped IPv6 counts as the IPv4 address it carries. */
static int match_view(const struct laneshim_endpoint *ep, const uint8_t **addr)
{
	if (ep->family == AF_INET6 && memcmp(ep->addr, v4_mapped_prefix, 12) == 0) {
		*addr = ep->addr + 12;
		return AF_INET;
	}
	*addr = ep->addr;
	return ep->family;
}

static bool is_loopback(int family, const uint8_t *a)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};

	return family == AF_INET ? a[0] == 127 : memcmp(a, v6_loopback, 16) == 0;
}

static bool is_unspecified(int family, const uint8_t *a)
{
	static const uint8_t zeros[16];

	return memcmp(a, zeros, family == AF_INET ? 4 : 16) == 0;
}

static bool cidr_match(const struct laneshim_cidr *cidr, const struct laneshim_endpoint *ep)
{
	const uint8_t *a;
	unsigned whole = cidr->prefix / 8, rest = cidr->prefix % 8;

	if (match_view(ep, &a) != cidr->family || memcmp(a, cidr->addr, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ cidr->addr[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool same_endpoint(const struct laneshim_endpoint *x, const struct laneshim_endpoint *y)
{
	const uint8_t *a, *b;
	int fa = match_view(x, &a), fb = match_view(y, &b);

	return fa == fb && x->port == y->port && memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
}

/* A destination the agent may see: not loopback (0.0.0.0 and :: reach it too), excluded or the broker. */
bool laneshim_filter_remote(const struct laneshim_config *config, const struct laneshim_endpoint *remote)
{
	const uint8_t *a;
	int family = match_view(remote, &a);

	if ((is_loopback(family, a) || is_unspecified(family, a)) && !config->include_loopback)
		return false;
	for (unsigned i = 0; i < config->exclude_count; i++) {
		if (cidr_match(&config->exclude[i], remote))
			return false;
	}
	for (unsigned i = 0; i < config->broker_count; i++) {
		if (same_endpoint(&config->broker_endpoint[i], remote))
			return false;
	}
	return true;
}

/* A listening address the agent may see: the wildcard counts, loopback only when asked for. */
bool laneshim_filter_local(const struct laneshim_config *config, const struct laneshim_endpoint *local)
{
	const uint8_t *a;
	int family = match_view(local, &a);

	return config->include_loopback || !is_loopback(family, a);
}

/*
 * TCP (or MPTCP) stream sockets only: not UDP, not SCTP's stream style. A "not TCP" note from
 * socket() decides for free (the worst a stale note can do is cost a lane). Anything else asks
 * the kernel: a socket that goes on to the agent costs far more than these two calls, and an fd
 * closed and remade behind our back (raw system calls) could now be anything.
 */
bool laneshim_filter_tcp(int fd, int kind)
{
	int type = 0, protocol = 0;
	socklen_t len = sizeof(type);

	if (kind == LANESHIM_KIND_OTHER)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
		return false;
	len = sizeof(protocol);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
		return false;
	return protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP;
}
