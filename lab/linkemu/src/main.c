/* main.c - laneshim-linkemu: one process emulates one point-to-point WAN link between two network namespaces. */
#include "link_direction.h"
#include "options.h"
#include "stats_file.h"
#include "tun_device.h"
#include "units.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PROG "laneshim-linkemu"

static struct laneshim_options opts;
static struct laneshim_link_direction dir_ab, dir_ba;
static _Atomic int stopping;

__attribute__((format(printf, 2, 3), noreturn)) static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void print_direction(const char *name, const struct laneshim_link_params *p,
			    const struct laneshim_endpoint *from, const struct laneshim_endpoint *to)
{
	char delay[32], rate[32], queue[32], buffer[32];

	laneshim_format_duration(p->delay_ns, delay, sizeof(delay));
	laneshim_format_rate(p->rate_bps, rate, sizeof(rate));
	if (p->queue_bytes != 0)
		laneshim_format_size(p->queue_bytes, queue, sizeof(queue));
	else
		snprintf(queue, sizeof(queue), "unlimited");
	laneshim_format_size(p->buffer_bytes, buffer, sizeof(buffer));
	fprintf(stderr, PROG ": %s %s/%s -> %s/%s: delay %s, rate %s, queue %s, loss %.6g%%, buffer %s\n", name,
		from->netns[0] ? from->netns : ".", from->dev, to->netns[0] ? to->netns : ".", to->dev, delay, rate,
		queue, p->loss * 100, buffer);
}

static void write_pidfile(const char *path)
{
	char line[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(1, "setup failed: pidfile %s: %s", path, strerror(errno));
	len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (write(fd, line, (size_t)len) != len)
		die(1, "setup failed: pidfile %s: %s", path, strerror(errno));
	close(fd);
}

static void signal_ready(int fd)
{
	static const char msg[] = "ready\n";

	if (fd < 0) {
		fputs(msg, stdout);
		fflush(stdout);
		return;
	}
	if (write(fd, msg, sizeof(msg) - 1) < 0) {
		/* The reader went away; forwarding goes on regardless. */
	}
	close(fd);
}

static void start_thread(pthread_t *t, struct laneshim_link_direction *d)
{
	pthread_attr_t attr;
	char name[16];
	int err;

	pthread_attr_init(&attr);
	if (opts.rt_priority > 0) {
		struct sched_param sp = {.sched_priority = opts.rt_priority};

		/* A real-time forwarder keeps its timing when builds compete for the CPU. */
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
	}
	err = pthread_create(t, &attr, laneshim_link_direction_run, d);
	pthread_attr_destroy(&attr);
	if (err) {
		char what[64];

		snprintf(what, sizeof(what), "%s%s", opts.rt_priority > 0 ? "SCHED_FIFO " : "", "forwarding thread");
		die(1, "setup failed: %s: %s", what, strerror(err));
	}
	snprintf(name, sizeof(name), "linkemu-%s", d->name);
	pthread_setname_np(*t, name);
}

static void write_stats(uint64_t started_ns, int final)
{
	static int warned;
	int err;

	if (opts.stats_path == NULL)
		return;
	err = laneshim_stats_write(opts.stats_path, &opts, &dir_ab, &dir_ba, started_ns, final);
	if (err && !warned) {
		fprintf(stderr, PROG ": cannot write stats to %s: %s (will keep trying)\n", opts.stats_path,
			strerror(-err));
		warned = 1;
	}
	if (!err)
		warned = 0;
}

static void report_thread_error(const struct laneshim_link_direction *d, const struct laneshim_endpoint *from)
{
	if (d->error != 0)
		fprintf(stderr, PROG ": direction %s stopped: reading %s/%s: %s\n", d->name,
			from->netns[0] ? from->netns : ".", from->dev,
			d->error == -EBADFD ? "the device was deleted" : strerror(-d->error));
}

int main(int argc, char **argv)
{
	char why[512];
	sigset_t sigs;
	pthread_t t_ab, t_ba;
	struct laneshim_tun tun_a, tun_b;
	int stop_fd, err, status = 0;
	uint64_t started_ns;

	switch (laneshim_options_parse(argc, argv, &opts, why, sizeof(why))) {
	case LANESHIM_PARSE_HELP:
		laneshim_options_usage(stdout);
		return 0;
	case LANESHIM_PARSE_ERROR:
		fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", why);
		return 2;
	case LANESHIM_PARSE_OK:
		break;
	}
	if (opts.ready_fd >= 0 && fcntl(opts.ready_fd, F_GETFD) < 0) {
		fprintf(stderr, PROG ": --ready-fd %d: not an open file descriptor\n", opts.ready_fd);
		return 2;
	}

	/* Every thread inherits this mask; the main thread alone takes signals, synchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (laneshim_tun_open(&opts.a, opts.mtu, opts.txqueuelen, &tun_a, why, sizeof(why)) != 0)
		die(1, "setup failed: end A: %s", why);
	if (laneshim_tun_open(&opts.b, opts.mtu, opts.txqueuelen, &tun_b, why, sizeof(why)) != 0)
		die(1, "setup failed: end B: %s", why);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	if (stop_fd < 0)
		die(1, "setup failed: eventfd: %s", strerror(errno));

	err = laneshim_link_direction_init(&dir_ab, "ab", &opts.ab, &opts, 1, &tun_a, &tun_b, stop_fd, &stopping);
	if (err == 0)
		err = laneshim_link_direction_init(&dir_ba, "ba", &opts.ba, &opts, 2, &tun_b, &tun_a, stop_fd,
						   &stopping);
	if (err)
		die(1, "setup failed: packet buffers (--buffer): %s", strerror(-err));

	if (opts.pidfile != NULL)
		write_pidfile(opts.pidfile);
	if (!opts.quiet) {
		print_direction("ab", &dir_ab.params, &opts.a, &opts.b);
		print_direction("ba", &dir_ba.params, &opts.b, &opts.a);
	}
	started_ns = laneshim_now_ns();
	start_thread(&t_ab, &dir_ab);
	start_thread(&t_ba, &dir_ba);
	write_stats(started_ns, 0);
	signal_ready(opts.ready_fd);

	for (;;) {
		struct timespec interval = laneshim_timespec(opts.stats_interval_ns);
		int sig = sigtimedwait(&sigs, NULL, opts.stats_path != NULL ? &interval : NULL);

		if (sig < 0) {
			write_stats(started_ns, 0); /* EAGAIN: the interval passed; EINTR: harmless */
			continue;
		}
		if (sig == SIGUSR1) {
			if (dir_ab.error == 0 && dir_ba.error == 0)
				continue; /* someone else's SIGUSR1 */
			status = 1;
		}
		break;
	}

	atomic_store(&stopping, 1);
	if (eventfd_write(stop_fd, 1) != 0)
		fprintf(stderr, PROG ": eventfd_write: %s\n", strerror(errno));
	pthread_join(t_ab, NULL);
	pthread_join(t_ba, NULL);
	write_stats(started_ns, 1);
	report_thread_error(&dir_ab, &opts.a);
	report_thread_error(&dir_ba, &opts.b);
	laneshim_tun_close(&tun_a);
	laneshim_tun_close(&tun_b);
	close(stop_fd);
	laneshim_link_direction_free(&dir_ab);
	laneshim_link_direction_free(&dir_ba);
	if (opts.pidfile != NULL)
		unlink(opts.pidfile);
	return status;
}
