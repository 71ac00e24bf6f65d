/* tun_device.h - creates and configures a TUN device inside a network namespace. */
#ifndef LANESHIM_LINKEMU_TUN_DEVICE_H
#define LANESHIM_LINKEMU_TUN_DEVICE_H

#include "options.h"

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/* One end of the link as the emulator holds it. */
struct laneshim_tun {
	int fd;        /* the TUN device: read what the namespace sends, write what it receives */
	int netdev_fd; /* /proc/net/dev of the device's namespace (it stays bound to it), or -1 */
	char dev[IFNAMSIZ];
};

/*
 * Opens a non-persistent TUN device (IFF_TUN | IFF_NO_PI, non-blocking) in ep->netns, sets its MTU,
 * txqueuelen and addresses and brings it up. The calling thread returns to its own namespace.
 * Returns 0, or a negative errno with what failed written to why. The device vanishes when its fd is
 * closed, including when the process dies.
 */
int laneshim_tun_open(const struct laneshim_endpoint *ep, unsigned mtu, unsigned txqueuelen, struct laneshim_tun *tun,
		      char *why, size_t whylen);

/*
 * Packets the namespace's kernel dropped on their way into the link because the device queue was full:
 * the emulator is not reading fast enough (overloaded or starved of CPU). Returns 0 or -errno.
 */
int laneshim_tun_tx_dropped(const struct laneshim_tun *tun, uint64_t *dropped);

void laneshim_tun_close(struct laneshim_tun *tun);

#endif
