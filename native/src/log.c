/* log.c - one line per event to stderr or LANESHIM_LOG_FILE, only when asked for; never stdout. */
#include "laneshim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_LINE_MAX  512
#define LOG_FD_STDERR (-1)
#define LOG_FD_LOST   (-2)

/*
 * The log file is moved to a high fd number so that it does not take the low numbers a
 * program may expect open() to hand back to itself (daemons reopening 0, 1 and 2).
 */
#define LOG_FD_MIN 100

static int log_level;
static int log_fd = LOG_FD_STDERR;
static dev_t log_dev;
static ino_t log_ino;

static int open_log(const char *path)
{
	/* O_NONBLOCK: a FIFO without a reader must fail here, not hang the host program. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	int high;

	if (fd < 0)
		return -errno;
	high = laneshim_real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)LOG_FD_MIN);
	if (high >= 0) {
		laneshim_real_close(fd);
		fd = high;
	}
	return fd;
}

void laneshim_log_setup(int level, const char *path)
{
	struct stat st;
	int fd;

	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
	if (level <= LANESHIM_LOG_OFF || path == NULL || path[0] == '\0')
		return;
	fd = open_log(path);
	if (fd < 0) {
		laneshim_log(LANESHIM_LOG_ERROR, "%s: cannot open log file: %s; logging to stderr", path,
			     strerror(-fd));
		return;
	}
	if (fstat(fd, &st) != 0) {
		laneshim_real_close(fd);
		return;
	}
	log_dev = st.st_dev;
	log_ino = st.st_ino;
	__atomic_store_n(&log_fd, fd, __ATOMIC_RELEASE);
}

bool laneshim_log_enabled(int level)
{
	return level > LANESHIM_LOG_OFF && level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int laneshim_log_fd(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);

	return fd >= 0 ? fd : -1;
}

/* Where to write now; the program may have closed our log fd and reused the number. */
static int current_fd(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	struct stat st;

	if (fd == LOG_FD_STDERR)
		return STDERR_FILENO;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino)
		return fd;
	__atomic_store_n(&log_fd, LOG_FD_LOST, __ATOMIC_RELEASE);
	return -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void laneshim_log(int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	int fd, n, m;

	if (!laneshim_log_enabled(level))
		return;
	fd = current_fd();
	if (fd < 0)
		goto out;
	n = snprintf(line, sizeof(line), "laneshim[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		goto out;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	write_all(fd, line, (size_t)n);
out:
	errno = saved;
}
