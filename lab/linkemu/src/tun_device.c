/* tun_device.c - TUN setup: setns into the endpoint's namespace, TUNSETIFF, then ioctl/rtnetlink configuration. */
#include "tun_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Writes "<what failed>: <strerror>" to why and returns err (a negative errno). */
__attribute__((format(printf, 4, 5))) static int say(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	n = strlen(why);
	if (n + 1 < whylen)
		snprintf(why + n, whylen - n, ": %s", strerror(-err));
	return err;
}

static int enter_netns(const char *netns, char *why, size_t whylen)
{
	char path[300];
	int fd, err;

	if (netns[0] == '\0')
		return 0;
	if (strchr(netns, '/') != NULL)
		snprintf(path, sizeof(path), "%s", netns);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return say(why, whylen, -errno, "network namespace %s", path);
	err = setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
	close(fd);
	if (err)
		return say(why, whylen, err, "setns(%s)", path);
	return 0;
}

/* Per-device sysctl in the namespace the thread is in (/proc/sys/net follows the caller's namespace). */
static void write_dev_sysctl(const char *family, const char *dev, const char *key, const char *value)
{
	char path[200];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* IPv6 disabled or an old kernel: the defaults only cost a few stray packets */
	if (write(fd, value, strlen(value)) < 0) {
		/* best effort, as above */
	}
	close(fd);
}

static int netlink_add_address(int ifindex, const struct laneshim_ifaddr *ia)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
		char rest[256];
	} ack;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	size_t alen = ia->family == AF_INET ? 4 : 16;
	struct rtattr *rta;
	ssize_t n;
	int fd, err;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = (unsigned char)ia->family;
	req.ifa.ifa_prefixlen = (unsigned char)ia->prefix;
	/* No duplicate address detection: the only other host on the link is our other end. */
	req.ifa.ifa_flags = ia->family == AF_INET6 ? IFA_F_NODAD : 0;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = (unsigned)ifindex;
	/* IFA_LOCAL == IFA_ADDRESS: a plain address with a prefix route, as `ip addr add` makes. */
	for (unsigned short type = IFA_ADDRESS; type <= IFA_LOCAL; type++) {
		rta = (struct rtattr *)(void *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = type;
		rta->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(rta), ia->addr, alen);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	err = 0;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		err = -errno;
	while (err == 0) {
		n = recv(fd, &ack, sizeof(ack), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
		} else if ((size_t)n < sizeof(struct nlmsghdr) || ack.nh.nlmsg_type != NLMSG_ERROR) {
			continue;
		} else {
			err = ack.err.error; /* 0 is the ACK, negative errno otherwise */
			break;
		}
	}
	close(fd);
	return err;
}

static int set_if(int sock, unsigned long req, struct ifreq *ifr, const char *dev)
{
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", dev);
	return ioctl(sock, req, ifr) == 0 ? 0 : -errno;
}

/* Everything that must happen inside the namespace. */
static int create_and_configure(const struct laneshim_endpoint *ep, unsigned mtu, unsigned txqueuelen, char *why,
				size_t whylen)
{
	struct ifreq ifr;
	int tun = -1, sock = -1, err, ifindex;
	char where[300];

	snprintf(where, sizeof(where), "%.255s/%s", ep->netns[0] ? ep->netns : "current namespace", ep->dev);

	/*
	 * TUNSETIFF on an existing persistent TUN device would attach to it rather than create ours; a
	 * leftover device must be a visible error.
	 */
	if (if_nametoindex(ep->dev) != 0)
		return say(why, whylen, -EEXIST, "device %s", where);

	/* Open after setns: the device is created in the namespace of the process that opened the fd. */
	tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun < 0)
		return say(why, whylen, -errno, "open /dev/net/tun for %s", where);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ep->dev);
	if (ioctl(tun, TUNSETIFF, &ifr) != 0) {
		err = say(why, whylen, -errno, "TUNSETIFF %s", where);
		goto fail;
	}

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		err = say(why, whylen, -errno, "socket for configuring %s", where);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	err = set_if(sock, SIOCSIFMTU, &ifr, ep->dev);
	if (err) {
		say(why, whylen, err, "set MTU of %s", where);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = (int)txqueuelen;
	err = set_if(sock, SIOCSIFTXQLEN, &ifr, ep->dev);
	if (err) {
		say(why, whylen, err, "set txqueuelen of %s", where);
		goto fail;
	}

	/* No IPv6 link-local address and no router solicitations: they would be stray traffic on the link. */
	write_dev_sysctl("ipv6", ep->dev, "addr_gen_mode", "1");
	write_dev_sysctl("ipv6", ep->dev, "accept_dad", "0");

	ifindex = (int)if_nametoindex(ep->dev);
	for (int i = 0; i < ep->naddrs; i++) {
		err = netlink_add_address(ifindex, &ep->addrs[i]);
		if (err) {
			say(why, whylen, err, "add address %s to %s", ep->addrs[i].text, where);
			goto fail;
		}
	}

	memset(&ifr, 0, sizeof(ifr));
	err = set_if(sock, SIOCGIFFLAGS, &ifr, ep->dev);
	if (err == 0) {
		ifr.ifr_flags |= IFF_UP;
		err = set_if(sock, SIOCSIFFLAGS, &ifr, ep->dev);
	}
	if (err) {
		say(why, whylen, err, "bring up %s", where);
		goto fail;
	}
	close(sock);
	return tun;

fail:
	if (sock >= 0)
		close(sock);
	close(tun);
	return err;
}

int laneshim_tun_open(const struct laneshim_endpoint *ep, unsigned mtu, unsigned txqueuelen, struct laneshim_tun *tun,
		      char *why, size_t whylen)
{
	int home, result, err;

	memset(tun, 0, sizeof(*tun));
	tun->fd = tun->netdev_fd = -1;
	snprintf(tun->dev, sizeof(tun->dev), "%s", ep->dev);
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return say(why, whylen, -errno, "open %s", "/proc/thread-self/ns/net");
	result = enter_netns(ep->netns, why, whylen);
	if (result == 0)
		result = create_and_configure(ep, mtu, txqueuelen, why, whylen);
	/* Opened inside the namespace, /proc/net/dev keeps showing that namespace's devices. */
	if (result >= 0)
		tun->netdev_fd = open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
	if (ep->netns[0] != '\0' && setns(home, CLONE_NEWNET) != 0) {
		/* Cannot happen for root returning home, but the next endpoint would land in the wrong place. */
		err = say(why, whylen, -errno, "return to the original namespace");
		if (result >= 0)
			close(result);
		result = err;
	}
	close(home);
	if (result < 0) {
		if (tun->netdev_fd >= 0)
			close(tun->netdev_fd);
		tun->netdev_fd = -1;
		return result;
	}
	tun->fd = result;
	return 0;
}

int laneshim_tun_tx_dropped(const struct laneshim_tun *tun, uint64_t *dropped)
{
	char buf[16384], *line, *save;
	size_t len = 0, namelen = strlen(tun->dev);
	ssize_t n;

	if (tun->netdev_fd < 0)
		return -ENOENT;
	if (lseek(tun->netdev_fd, 0, SEEK_SET) < 0)
		return -errno;
	while (len < sizeof(buf) - 1 && (n = read(tun->netdev_fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	/* "  name: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes tx_packets tx_errs
	 * tx_drop ..." */
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v[12];

		line += strspn(line, " ");
		if (strncmp(line, tun->dev, namelen) != 0 || line[namelen] != ':')
			continue;
		if (sscanf(line + namelen + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]) != 12)
			return -EINVAL;
		*dropped = v[11];
		return 0;
	}
	return -ENODEV;
}

void laneshim_tun_close(struct laneshim_tun *tun)
{
	if (tun->fd >= 0)
		close(tun->fd);
	if (tun->netdev_fd >= 0)
		close(tun->netdev_fd);
	tun->fd = tun->netdev_fd = -1;
}
