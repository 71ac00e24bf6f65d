/* shim_test.c - table-driven tests of liblaneshim.so: each case runs as a child process under LD_PRELOAD. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "laneshim_abi.h"

#define PASS          0
#define FAIL          1
#define SKIP          77 /* automake's "skipped" exit code */
#define WRAPPER_ERROR 88 /* what valgrind is told to exit with when it finds an error */

#define DEFAULT_TIMEOUT_S 30
#define ENV_MAX           256
#define CASE_ENV_MAX      8
#define MARK              "shim_test: " /* prefix of the child's own messages on stderr */
#define SOME_ERRNO        1234
#define THREADS           64
#define AGENT_SNDBUF      (1 << 20) /* what fake_agent.c applies in ok mode */

#ifndef LANESHIM_ABI_HEADER
#define LANESHIM_ABI_HEADER "native/include/laneshim_abi.h"
#endif
#ifndef LANESHIM_TEST_KILL_SWITCH
#define LANESHIM_TEST_KILL_SWITCH "/etc/laneshim/disable" /* native/src/laneshim.h: LANESHIM_KILL_SWITCH */
#endif
#ifndef LANESHIM_EXPORTS_TXT
#define LANESHIM_EXPORTS_TXT "native/exports.txt"
#endif

struct test_case {
	const char *name;
	int (*child)(void);            /* runs in a child process under the shim */
	int (*tester)(void);           /* or: runs here, in the tester */
	const char *env[CASE_ENV_MAX]; /* "KEY=value" added to (or replacing) the defaults */
	const char *config;            /* contents of the client config file, if any */
	const char *stdout_expect;     /* the child's exact stdout; NULL: nothing */
	const char *stderr_has;        /* a string the child's stderr must contain */
	bool bare_too;                 /* also run without the shim: the case must hold for plain libc too */
	const char *exe_copy;          /* run a copy of the tester with this file name (scoping by program) */
	const char *exe_link;          /* or run it through a symbolic link with this name (AT_EXECFN) */
	bool helper;                   /* not a case: a program other cases start with --child */
};

static char self_path[PATH_MAX], shim_path[PATH_MAX], agent_path[PATH_MAX], dump_path[PATH_MAX];
static char reason[1024];

/* ---------- helpers for both sides ---------- */

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return FAIL;
}

/* Everything the stream has, NUL-terminated (NULL on failure); the caller frees it. */
static char *read_all(FILE *f)
{
	char *buf = NULL, *grown;
	size_t len = 0, cap = 0, n;

	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 8192;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text;

	if (f == NULL)
		return NULL;
	text = read_all(f);
	fclose(f);
	return text;
}

static char *slurp_cmd(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *text;

	if (p == NULL)
		return NULL;
	text = read_all(p);
	*status = pclose(p);
	return text;
}

/* ---------- child side: scenarios run under the shim ---------- */

#define CHECK(cond, ...)                         \
	do {                                     \
		if (!(cond))                     \
			child_fail(__VA_ARGS__); \
	} while (0)

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void child_fail(const char *fmt, ...)
{
	va_list ap;

	fputs(MARK, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(FAIL);
}

static void child_skip(const char *why) __attribute__((noreturn));
static void child_skip(const char *why)
{
	fprintf(stderr, MARK "%s\n", why);
	exit(SKIP);
}

static bool bare(void)
{
	return getenv("LANESHIM_TEST_BARE") != NULL;
}

static void test_file(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", getenv("LANESHIM_TEST_DIR"), name);
}

static bool has_token(const char *line, size_t len, const char *tok, size_t tlen)
{
	for (const char *p = line; p + tlen <= line + len; p++) {
		if ((p == line || p[-1] == ' ') && memcmp(p, tok, tlen) == 0 &&
		    (p + tlen == line + len || p[tlen] == ' '))
			return true;
	}
	return false;
}

/* Lines of the fake agent's log holding every space-separated token of the pattern. */
static int agent_count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int agent_count(const char *fmt, ...)
{
	char path[PATH_MAX], pattern[256], *log, *line, *nl;
	int count = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pattern, sizeof(pattern), fmt, ap);
	va_end(ap);
	test_file(path, sizeof(path), "agent.log");
	log = slurp(path);
	for (line = log; line != NULL && *line != '\0'; line = nl + 1) {
		size_t len;
		bool all = true;

		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line) - 1;
		len = (size_t)(nl - line) + (*nl != '\n');
		for (const char *t = pattern; *t != '\0' && all; t += strspn(t, " ")) {
			size_t tlen = strcspn(t, " ");

			all = has_token(line, len, t, tlen);
			t += tlen;
		}
		count += all;
	}
	free(log);
	return count;
}

static bool shim_log_has(const char *text)
{
	char path[PATH_MAX], *log;
	bool found;

	test_file(path, sizeof(path), "shim.log");
	log = slurp(path);
	found = log != NULL && strstr(log, text) != NULL;
	free(log);
	return found;
}

static socklen_t make_addr(int family, const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		CHECK(inet_pton(AF_INET, host, &in->sin_addr) == 1, "bad test address %s", host);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	CHECK(inet_pton(AF_INET6, host, &in6->sin6_addr) == 1, "bad test address %s", host);
	return sizeof(*in6);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0, "getsockname: %s", strerror(errno));
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A TCP socket bound to host, port 0 (not listening yet). */
static int bound_socket(int family, const char *host, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(family, host, 0, &ss);
	int fd = socket(family, SOCK_STREAM, 0), off = 0;

	if (fd < 0 && family == AF_INET6)
		child_skip("no IPv6 sockets here");
	CHECK(fd >= 0, "socket: %s", strerror(errno));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 && family == AF_INET6)
		child_skip("cannot bind an IPv6 address here");
	*port = local_port(fd);
	return fd;
}

static int listener(int family, const char *host, uint16_t *port)
{
	int fd = bound_socket(family, host, port);

	CHECK(listen(fd, 256) == 0, "listen: %s", strerror(errno));
	return fd;
}

/* connect() on fd; returns its result with errno as connect() left it. */
static int connect_to(int fd, int family, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(family, host, port, &ss);

	return connect(fd, (struct sockaddr *)&ss, len);
}

static int tcp_socket(int family)
{
	int fd = socket(family, SOCK_STREAM, 0);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

/* A new connected socket, or the case fails. */
static int connected(int family, const char *host, uint16_t port)
{
	int fd = tcp_socket(family);

	CHECK(connect_to(fd, family, host, port) == 0, "connect to %s port %u: %s", host, port, strerror(errno));
	return fd;
}

static int sockopt_int(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	CHECK(getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0, "getsockopt: %s", strerror(errno));
	return v;
}

/* What the kernel reports after SO_SNDBUF = value on a fresh socket (it doubles and clamps). */
static int kernel_sndbuf(int value)
{
	int fd = tcp_socket(AF_INET), v;

	CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)) == 0, "setsockopt: %s", strerror(errno));
	v = sockopt_int(fd, SO_SNDBUF);
	close(fd);
	return v;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int case_connect_blocking(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd = connected(AF_INET, "127.0.0.1", port);
	int want = kernel_sndbuf(AGENT_SNDBUF), got = sockopt_int(fd, SO_SNDBUF);

	CHECK(agent_count("prepare dir=1 family=2 rport=%u", port) == 1, "the agent did not see the connect");
	CHECK(agent_count("connected fd=%d errno=0", fd) == 1, "the agent was not told the connect worked");
	CHECK(got == want, "SO_SNDBUF is %d, not the %d the agent applied", got, want);
	close(lfd);
	return PASS;
}

/* Control for the "skipped" cases: a TCP connect to loopback (included) does reach the agent. */
static int tcp_control(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("prepare dir=1 rport=%u", port) == 1, "control: the agent did not see a TCP connect");
	close(lfd);
	return PASS;
}

static int case_connect_refused(void)
{
	uint16_t port;
	int closed = bound_socket(AF_INET, "127.0.0.1", &port), fd = tcp_socket(AF_INET);
	int ret = connect_to(fd, AF_INET, "127.0.0.1", port), err = errno;

	CHECK(ret == -1 && err == ECONNREFUSED, "connect gave %d/%s, want -1/ECONNREFUSED", ret, strerror(err));
	CHECK(bare() || agent_count("connected fd=%d errno=%d", fd, ECONNREFUSED) == 1,
	      "the agent was not told about ECONNREFUSED");
	close(closed);
	return PASS;
}

static int case_connect_nonblocking(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd = tcp_socket(AF_INET), ret, err, so_error;
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, "fcntl: %s", strerror(errno));
	ret = connect_to(fd, AF_INET, "127.0.0.1", port);
	err = errno;
	CHECK(ret == -1 && err == EINPROGRESS, "connect gave %d/%s, want -1/EINPROGRESS", ret, strerror(err));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK was cleared");
	CHECK(poll(&pfd, 1, 10000) == 1, "the connect did not complete");
	so_error = sockopt_int(fd, SO_ERROR);
	CHECK(so_error == 0, "SO_ERROR is %s", strerror(so_error));
	CHECK(bare() || agent_count("prepare dir=1 rport=%u flags=%u", port, LANESHIM_FLOW_NONBLOCK) == 1,
	      "the agent did not see a non-blocking connect");
	close(lfd);
	return PASS;
}

static int case_errno_preserved(void)
{
	uint16_t port;
	int lfd, fd, a, v = 65536;

	errno = SOME_ERRNO;
	lfd = listener(AF_INET, "127.0.0.1", &port);
	CHECK(errno == SOME_ERRNO, "listen changed errno to %d", errno);
	fd = tcp_socket(AF_INET);
	errno = SOME_ERRNO;
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0, "setsockopt: %s", strerror(errno));
	CHECK(errno == SOME_ERRNO, "setsockopt changed errno to %d", errno);
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	CHECK(errno == SOME_ERRNO, "a successful connect changed errno to %d", errno);
	a = accept(lfd, NULL, NULL);
	CHECK(a >= 0 && errno == SOME_ERRNO, "accept gave %d, errno %d", a, errno);
	CHECK(bare() || agent_count("prepare dir=1") == 1, "the agent was not called");
	return PASS;
}

static int case_agent_clobbers_errno(void)
{
	uint16_t port, closed;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd = tcp_socket(AF_INET), ret, err;

	errno = SOME_ERRNO;
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	CHECK(errno == SOME_ERRNO, "errno is %d after a successful connect", errno);
	close(bound_socket(AF_INET, "127.0.0.1", &closed));
	fd = tcp_socket(AF_INET);
	ret = connect_to(fd, AF_INET, "127.0.0.1", closed);
	err = errno;
	CHECK(ret == -1 && err == ECONNREFUSED, "refused connect gave %d/%d", ret, err);
	fd = tcp_socket(AF_INET);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ret = connect_to(fd, AF_INET, "127.0.0.1", port);
	err = errno;
	CHECK(ret == -1 && err == EINPROGRESS, "non-blocking connect gave %d/%d", ret, err);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK was cleared");
	CHECK(agent_count("prepare dir=1") == 3, "the agent was not called 3 times");
	close(lfd);
	return PASS;
}

static int case_unix_socket_skipped(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd = socket(AF_UNIX, SOCK_STREAM, 0);

	/* Abstract name: nothing to clean up. */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  (size_t)snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "laneshim-test-%d", getpid()));
	CHECK(bind(lfd, (struct sockaddr *)&sun, len) == 0 && listen(lfd, 4) == 0, "unix listener: %s",
	      strerror(errno));
	CHECK(connect(fd, (struct sockaddr *)&sun, len) == 0, "unix connect: %s", strerror(errno));
	CHECK(agent_count("init") == 0 && agent_count("prepare") == 0, "the agent was called for AF_UNIX");
	return tcp_control();
}

static int case_udp_socket_skipped(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd = socket(AF_INET, SOCK_DGRAM, 0);

	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "UDP connect: %s", strerror(errno));
	CHECK(agent_count("prepare dir=1") == 0, "the agent was called for UDP");
	close(lfd);
	return tcp_control();
}

/* Also covers LANESHIM_DISABLE and LANESHIM_EXCLUDE: the connect works, the agent never hears of it. */
static int case_connect_not_seen(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("prepare dir=1") == 0, "the agent saw the connect");
	close(lfd);
	/* Control: the shim is at work, it sees listen on the wildcard address. */
	lfd = listener(AF_INET, "0.0.0.0", &port);
	CHECK(agent_count("prepare dir=3 lport=%u", port) == 1, "control: the agent did not see listen on 0.0.0.0");
	close(lfd);
	return PASS;
}

static int case_disable_skips_agent(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "0.0.0.0", &port), v = 65536, fd = tcp_socket(AF_INET);

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	close(connected(AF_INET, "127.0.0.1", port));
	close(accept(lfd, NULL, NULL));
	CHECK(agent_count("init") == 0, "the agent was loaded");
	return PASS;
}

static int case_exclude_v4_mapped(void)
{
	uint16_t port;
	int lfd = listener(AF_INET6, "::", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	close(connected(AF_INET6, "::ffff:127.0.0.1", port));
	CHECK(agent_count("prepare dir=1") == 0, "the agent saw an excluded destination");
	close(connected(AF_INET6, "::1", port));
	CHECK(agent_count("prepare dir=1 family=10") == 1, "the agent did not see ::1");
	close(lfd);
	return PASS;
}

static int case_broker_address_skipped(void)
{
	char broker[64];
	uint16_t port, other;
	int bfd = bound_socket(AF_INET, "127.0.0.1", &port), lfd;

	/* The config is read on first use, so the broker can still be named here. */
	snprintf(broker, sizeof(broker), "http://127.0.0.1:%u", port);
	setenv("LANESHIM_BROKER", broker, 1);
	CHECK(listen(bfd, 16) == 0, "listen: %s", strerror(errno));
	lfd = listener(AF_INET, "127.0.0.1", &other);
	close(connected(AF_INET, "127.0.0.1", port));
	close(connected(AF_INET, "127.0.0.1", other));
	CHECK(agent_count("init broker=%s", broker) == 1, "the agent was not given the broker");
	CHECK(agent_count("prepare dir=1 rport=%u", port) == 0, "the agent saw a connect to the broker");
	CHECK(agent_count("prepare dir=1 rport=%u", other) == 1, "the agent did not see another port");
	close(lfd);
	return PASS;
}

static int case_app_sndbuf_reported(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd = tcp_socket(AF_INET);
	int snd = 65536, rcv = 131072, before, after;

	CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)) == 0, "setsockopt: %s", strerror(errno));
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) == 0, "setsockopt: %s", strerror(errno));
	before = sockopt_int(fd, SO_SNDBUF);
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	after = sockopt_int(fd, SO_SNDBUF);
	CHECK(agent_count("prepare dir=1 rport=%u flags=%u sndbuf=65536 rcvbuf=131072", port,
			  LANESHIM_FLOW_APP_SNDBUF | LANESHIM_FLOW_APP_RCVBUF) == 1,
	      "the agent was not told the program's buffer sizes");
	CHECK(after == before, "SO_SNDBUF changed from %d to %d without a lane", before, after);
	close(lfd);
	return PASS;
}

static int case_agent_setsockopt_not_remembered(void)
{
	uint16_t port;
	int closed = bound_socket(AF_INET, "127.0.0.1", &port), fd = tcp_socket(AF_INET);

	/* A failed TCP connect may be retried on the same socket. */
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == -1 && errno == ECONNREFUSED, "first connect");
	CHECK(sockopt_int(fd, SO_SNDBUF) == kernel_sndbuf(AGENT_SNDBUF), "the agent's setting is not in effect");
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == -1 && errno == ECONNREFUSED, "second connect");
	CHECK(agent_count("prepare dir=1 rport=%u flags=0", port) == 2,
	      "the agent's own setsockopt was taken for the program's");
	close(closed);
	return PASS;
}

static int case_accept_inbound(void)
{
	uint16_t port, p1, p2, p3;
	int lfd = listener(AF_INET, "127.0.0.1", &port), a1, a2, a3;
	int c1 = connected(AF_INET, "127.0.0.1", port), c2 = connected(AF_INET, "127.0.0.1", port);
	int c3 = connected(AF_INET, "127.0.0.1", port);
	struct sockaddr_in sin;
	struct sockaddr tiny;
	socklen_t len = sizeof(sin), tiny_len = 4;

	p1 = local_port(c1), p2 = local_port(c2), p3 = local_port(c3);
	a1 = accept(lfd, NULL, NULL);
	a2 = accept4(lfd, (struct sockaddr *)&sin, &len, SOCK_CLOEXEC);
	a3 = accept(lfd, &tiny, &tiny_len);
	CHECK(a1 >= 0 && a2 >= 0 && a3 >= 0, "accept: %s", strerror(errno));
	CHECK(ntohs(sin.sin_port) == p2 && len == sizeof(sin), "accept4 returned the wrong address");
	CHECK(fcntl(a2, F_GETFD) & FD_CLOEXEC, "accept4 lost SOCK_CLOEXEC");
	CHECK(agent_count("prepare fd=%d dir=2 family=2 lport=%u rport=%u", a1, port, p1) == 1,
	      "the agent did not see accept (NULL address) from port %u", p1);
	CHECK(agent_count("prepare fd=%d dir=2 family=2 lport=%u rport=%u", a2, port, p2) == 1,
	      "the agent did not see accept4 from port %u", p2);
	CHECK(agent_count("prepare fd=%d dir=2 family=2 lport=%u rport=%u", a3, port, p3) == 1,
	      "the agent did not see accept (short buffer) from port %u", p3);
	return PASS;
}

static int case_listen_wildcard(void)
{
	uint16_t any, lo;
	int afd = listener(AF_INET, "0.0.0.0", &any), lfd = listener(AF_INET, "127.0.0.1", &lo);

	CHECK(agent_count("prepare dir=3 family=2 lport=%u rport=0", any) == 1,
	      "the agent did not see listen on 0.0.0.0");
	CHECK(agent_count("prepare dir=3 lport=%u", lo) == 0, "the agent saw listen on loopback");
	close(afd);
	close(lfd);
	return PASS;
}

static int case_ipv6_and_v4_mapped(void)
{
	uint16_t port;
	int lfd = listener(AF_INET6, "::", &port), fd = tcp_socket(AF_INET6);

	if (connect_to(fd, AF_INET6, "::1", port) != 0)
		child_skip("cannot connect to ::1 here");
	close(connected(AF_INET6, "::ffff:127.0.0.1", port));
	CHECK(agent_count("prepare dir=1 family=10 rport=%u", port) == 2, "the agent did not see both IPv6 connects");
	CHECK(agent_count("prepare dir=3 family=10 lport=%u", port) == 1, "the agent did not see listen on ::");
	close(lfd);
	return PASS;
}

/* Two connects that must both work whatever the agent does. */
static int two_connects(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	close(connected(AF_INET, "127.0.0.1", port));
	close(lfd);
	return PASS;
}

static int case_agent_missing(void)
{
	two_connects();
	CHECK(shim_log_has("cannot load /nonexistent/liblaneshim-agent.so"), "no log line about the missing agent");
	return PASS;
}

static int case_agent_initfail(void)
{
	two_connects();
	CHECK(agent_count("init") == 1, "init was tried %d times", agent_count("init"));
	CHECK(agent_count("prepare") == 0, "prepare was called after a failed init");
	return PASS;
}

static int case_agent_slow(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);
	double t0 = now_ms(), ms;

	close(connected(AF_INET, "127.0.0.1", port));
	ms = now_ms() - t0;
	CHECK(agent_count("prepare dir=1") == 1, "the agent did not see the connect");
	CHECK(ms >= 50, "connect took %.1f ms: the agent's 50 ms sleep did not happen", ms);
	CHECK(agent_count("connected") == 0, "the agent was notified after LANESHIM_E_DEADLINE");
	close(lfd);
	return PASS;
}

/* A forked child cannot use the parent's runtime; it loads a private copy of the agent and gets lanes of its own. */
/*
 * The agent takes longer to start than the deadline: connect() returns within the deadline (plus scheduling), and
 * the socket gets its lane once the agent is ready (LANESHIM_FLOW_LATE), read back from the kernel.
 */
static int closed_count(int fd);

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/*
 * A program with more than one thread starts the agent in a loader thread; one that takes longer to start than
 * the deadline: connect() returns within the deadline (plus scheduling), and the socket gets its lane once the
 * agent is ready (LANESHIM_FLOW_LATE), read back from the kernel.
 */
static int case_late_lane_after_slow_start(void)
{
	uint16_t port;
	int lfd, fd, sndbuf = 0;
	socklen_t len = sizeof(sndbuf);
	pthread_t other;
	double t0, ms;

	CHECK(pthread_create(&other, NULL, idle_thread, NULL) == 0, "pthread_create");
	lfd = listener(AF_INET, "127.0.0.1", &port);
	fd = tcp_socket(AF_INET);
	t0 = now_ms();

	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	ms = now_ms() - t0;
	CHECK(ms < 20 + 15, "connect waited %.1f ms for an agent that starts in 200 ms (deadline 20 ms)", ms);
	CHECK(agent_count("prepare fd=%d", fd) == 0, "the agent was called before it was ready");
	for (int i = 0; i < 200 && agent_count("connected fd=%d", fd) == 0; i++)
		poll(NULL, 0, 10);
	CHECK(agent_count("prepare fd=%d dir=1 flags=%u", fd, LANESHIM_FLOW_LATE) == 1,
	      "the socket got no late lane (%d prepares)", agent_count("prepare"));
	CHECK(agent_count("main_thread=0") == 1, "the agent was not started in the loader thread");
	CHECK(agent_count("connected fd=%d", fd) == 1, "the late lane's connect was not reported");
	CHECK(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0 && sndbuf == 2 * AGENT_SNDBUF,
	      "SO_SNDBUF is %d, not the late lane's %d", sndbuf, 2 * AGENT_SNDBUF);
	CHECK(close(fd) == 0 && closed_count(fd) == 1, "closing the late lane did not tell the agent");
	for (int i = 0; i < 200 && agent_count("serve") == 0; i++)
		poll(NULL, 0, 10);
	CHECK(agent_count("serve") == 1, "the loader thread was not lent to the agent after the late flows");
	close(lfd);
	return PASS;
}

/* agent_start = inline: the agent starts on the calling thread, and that first connect gets its lane at once. */
static int case_inline_start_on_callers_thread(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("init") == 1 && agent_count("main_thread=1") == 1,
	      "the agent was not started on the program's own thread");
	CHECK(agent_count("init_flags=%u", LANESHIM_INIT_INLINE) == 1, "the agent was not told it starts inline");
	CHECK(agent_count("prepare dir=1 rport=%u flags=0", port) == 1, "the first connect got no lane");
	CHECK(agent_count("serve") == 0, "an inline start lent the agent a thread");
	close(lfd);
	return PASS;
}

/* Under a finite RLIMIT_AS the agent starts inline by default: a loader thread costs a 64 MiB malloc arena. */
static int case_address_limit_starts_inline(void)
{
	struct rlimit limit;
	unsigned long pages = 0;
	uint16_t port;
	int lfd;
	FILE *statm = fopen("/proc/self/statm", "r");

	CHECK(statm != NULL && fscanf(statm, "%lu", &pages) == 1, "/proc/self/statm");
	fclose(statm);
	/* Sanitizer runtimes map terabytes of shadow memory: no limit leaves room for anything there. */
	if (pages * 4096UL > (1UL << 40))
		child_skip("this process maps over a terabyte (a sanitizer's shadow memory)");
	CHECK(getrlimit(RLIMIT_AS, &limit) == 0, "getrlimit: %s", strerror(errno));
	limit.rlim_cur = pages * 4096UL + (8UL << 30);
	CHECK(setrlimit(RLIMIT_AS, &limit) == 0, "setrlimit: %s", strerror(errno));
	lfd = listener(AF_INET, "127.0.0.1", &port);
	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("main_thread=1") == 1, "under RLIMIT_AS the agent was not started inline");
	close(lfd);
	return PASS;
}

/* By default the agent starts in a loader thread of the shim's, which then serves the agent. */
static int case_default_start_in_loader_thread(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port);

	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("main_thread=0") == 1, "the agent was not started in the loader thread");
	for (int i = 0; i < 200 && agent_count("serve") == 0; i++)
		poll(NULL, 0, 10);
	CHECK(agent_count("serve") == 1, "the loader thread was not lent to the agent");
	close(lfd);
	return PASS;
}

static int case_fork_child_own_agent(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), status;
	pid_t pid;

	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("prepare dir=1") == 1, "the parent's connect did not reach the agent");
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		_exit(connect_to(fd, AF_INET, "127.0.0.1", port) == 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's connect failed");
	CHECK(agent_count("init pid=%d", (int)pid) == 1, "the forked child did not start an agent of its own");
	CHECK(agent_count("prepare dir=1 rport=%u pid=%d", port, (int)pid) == 1, "the child's connect got no lane");
	CHECK(agent_count("connected pid=%d", (int)pid) == 1, "the child's agent was not told of its connect");
	CHECK(agent_count("init pid=%d", (int)getpid()) == 1, "the parent's agent was started again");
	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(agent_count("prepare dir=1 rport=%u pid=%d", port, (int)getpid()) == 2, "the parent lost its agent");
	close(lfd);
	return PASS;
}

static int case_fd_reuse_forgets_state(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), v = 65536, first, fd;

	first = tcp_socket(AF_INET);
	CHECK(setsockopt(first, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0, "setsockopt: %s", strerror(errno));
	close(first);
	fd = tcp_socket(AF_INET);
	CHECK(fd == first, "fd %d was not reused (got %d)", first, fd);
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	CHECK(agent_count("prepare fd=%d dir=1 flags=0", fd) == 1, "a reused fd inherited the old socket's SO_SNDBUF");
	close(lfd);
	return PASS;
}

static int case_malformed_config(void)
{
	two_connects();
	CHECK(shim_log_has("client.conf:4: expected 'key = value'"), "no log line for the bad line 4");
	CHECK(shim_log_has("client.conf:5: exclude: bad CIDR '10.0.0.0/33'"), "no log line for the bad CIDR");
	CHECK(shim_log_has("client.conf:6: unknown key 'colour'"), "no log line for the unknown key");
	CHECK(shim_log_has("LANESHIM_DEADLINE_MS: expected milliseconds"), "no log line for LANESHIM_DEADLINE_MS");
	CHECK(agent_count("init deadline=30") == 1, "the file's deadline_ms was not used");
	CHECK(agent_count("prepare dir=1") == 2, "the file's include_loopback was not used");
	return PASS;
}

static int case_stdout_untouched(void)
{
	uint16_t port;
	int lfd, v = 65536, fd;

	printf("child stdout\n");
	fflush(stdout);
	lfd = listener(AF_INET, "127.0.0.1", &port);
	fd = tcp_socket(AF_INET);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	close(accept(lfd, NULL, NULL));
	return PASS;
}

struct thread_arg {
	uint16_t port;
	pthread_barrier_t *barrier;
	int err;
};

static void *connect_thread(void *p)
{
	struct thread_arg *arg = p;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	pthread_barrier_wait(arg->barrier);
	arg->err = fd < 0 ? errno : connect_to(fd, AF_INET, "127.0.0.1", arg->port) == 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int case_threads(void)
{
	static struct thread_arg args[THREADS];
	pthread_t threads[THREADS];
	pthread_barrier_t barrier;
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), failed = 0;

	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){.port = port, .barrier = &barrier, .err = -1};
		CHECK(pthread_create(&threads[i], NULL, connect_thread, &args[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		failed += args[i].err != 0;
	}
	CHECK(failed == 0, "%d of %d concurrent connects failed", failed, THREADS);
	CHECK(agent_count("init") == 1, "the agent was initialised %d times", agent_count("init"));
	close(lfd);
	return PASS;
}

/* ---------- lifecycle: the agent hears when the last fd of a lane closes ---------- */

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static uint16_t lane_port;

/* A socket the fake agent prepared (ok mode): a lane. */
static int lane(void)
{
	int fd;

	if (lane_port == 0)
		listener(AF_INET, "127.0.0.1", &lane_port);
	fd = connected(AF_INET, "127.0.0.1", lane_port);
	CHECK(bare() || agent_count("prepare fd=%d dir=1 rport=%u", fd, lane_port) >= 1, "fd %d is not a lane", fd);
	return fd;
}

static int closed_count(int fd)
{
	/* This process's releases only: a program it starts has fds of the same numbers. */
	return agent_count("closed fd=%d open=1 pid=%d", fd, (int)getpid());
}

static int case_close_lane_once(void)
{
	int fd = lane();

	CHECK(closed_count(fd) == 0, "the agent heard of a close before it happened");
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
	CHECK(closed_count(fd) == 1, "closing a lane told the agent %d times, want 1", closed_count(fd));
	CHECK(close(fd) == -1 && errno == EBADF, "a second close did not fail with EBADF");
	CHECK(agent_count("closed") == 1, "a second close of fd %d told the agent again", fd);
	return PASS;
}

static int case_dup_shares_lane(void)
{
	int fd = lane(), d = dup(fd);

	CHECK(d >= 0, "dup: %s", strerror(errno));
	CHECK(close(fd) == 0 && agent_count("closed") == 0, "closing the original told the agent while a dup is open");
	CHECK(close(d) == 0 && closed_count(d) == 1, "closing the last dup did not tell the agent once");
	CHECK(agent_count("closed") == 1, "the agent was told %d times", agent_count("closed"));
	return PASS;
}

static int case_dup2_over_lane(void)
{
	int fd = lane(), other = socket(AF_INET, SOCK_DGRAM, 0), flags;

	CHECK(dup2(fd, fd) == fd && agent_count("closed") == 0, "dup2(fd, fd) closed the lane");
	CHECK(dup2(-1, fd) == -1 && errno == EBADF && agent_count("closed") == 0, "a failed dup2 closed the lane");
	CHECK(dup2(other, fd) == fd, "dup2: %s", strerror(errno));
	CHECK(closed_count(fd) == 1, "dup2 over the lane told the agent %d times, want 1", closed_count(fd));
	CHECK(close(fd) == 0 && close(other) == 0 && agent_count("closed") == 1, "closing the UDP copy told the agent");
	/* dup2 of a lane onto another fd shares it. */
	fd = lane();
	CHECK(dup2(fd, 200) == 200 && close(fd) == 0 && agent_count("closed") == 1, "dup2 copy: early notify");
	flags = fcntl(200, F_GETFD);
	CHECK(flags == 0, "dup2 copy has FD flags %d", flags);
	CHECK(close(200) == 0 && closed_count(200) == 1, "closing the dup2 copy did not tell the agent");
	return PASS;
}

static int case_dup3_over_lane(void)
{
	int fd = lane(), other = socket(AF_INET, SOCK_DGRAM, 0);

	CHECK(dup3(fd, fd, 0) == -1 && errno == EINVAL && agent_count("closed") == 0, "dup3(fd, fd) closed the lane");
	CHECK(dup3(other, fd, 0x40000000) == -1 && errno == EINVAL && agent_count("closed") == 0,
	      "dup3 with bad flags closed the lane");
	CHECK(dup3(other, fd, O_CLOEXEC) == fd, "dup3: %s", strerror(errno));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "dup3 lost O_CLOEXEC");
	CHECK(closed_count(fd) == 1, "dup3 over the lane told the agent %d times, want 1", closed_count(fd));
	fd = lane();
	CHECK(dup3(fd, 201, O_CLOEXEC) == 201 && close(fd) == 0 && agent_count("closed") == 1,
	      "dup3 copy: early notify");
	CHECK(close(201) == 0 && closed_count(201) == 1, "closing the dup3 copy did not tell the agent");
	close(other);
	return PASS;
}

static int case_fcntl_dupfd_shares(void)
{
	int fd = lane(), d = fcntl(fd, F_DUPFD, 300), c = fcntl(fd, F_DUPFD_CLOEXEC, 400);

	CHECK(d >= 300 && c >= 400, "F_DUPFD gave %d and %d", d, c);
	CHECK(fcntl(c, F_GETFD) == FD_CLOEXEC && fcntl(d, F_GETFD) == 0, "F_DUPFD(_CLOEXEC) flags are wrong");
	CHECK(close(fd) == 0 && close(d) == 0 && agent_count("closed") == 0,
	      "closing two of three copies told the agent");
	CHECK(close(c) == 0 && closed_count(c) == 1, "closing the F_DUPFD_CLOEXEC copy did not tell the agent");
	return PASS;
}

static int case_close_range(void)
{
	int a = lane(), b = lane(), keep = lane(), a2 = dup(a), hi, n = 0;

	/* Move them to a range of their own, above everything else open. */
	hi = fcntl(a, F_DUPFD, 500);
	CHECK(dup2(b, hi + 1) == hi + 1 && dup2(a2, hi + 2) == hi + 2 && dup2(keep, hi + 10) == hi + 10, "dup2");
	close(a), close(b), close(a2), close(keep);
	CHECK(agent_count("closed") == 0, "moving the lanes told the agent");
	CHECK(close_range((unsigned)hi + 10, (unsigned)hi + 10, CLOSE_RANGE_CLOEXEC) == 0, "close_range: %s",
	      strerror(errno));
	CHECK(fcntl(hi + 10, F_GETFD) == FD_CLOEXEC, "CLOSE_RANGE_CLOEXEC did not set FD_CLOEXEC");
	CHECK(agent_count("closed") == 0, "CLOSE_RANGE_CLOEXEC told the agent of a close");
	CHECK(close_range((unsigned)hi + 3, (unsigned)hi + 2, 0) == -1 && errno == EINVAL, "close_range(3, 2)");
	CHECK(close_range((unsigned)hi, (unsigned)hi + 9, 0) == 0, "close_range: %s", strerror(errno));
	for (int fd = hi; fd <= hi + 2; fd++)
		n += closed_count(fd);
	CHECK(n == 2 && agent_count("closed") == 2, "close_range over 2 lanes (3 fds) told the agent %d times", n);
	CHECK(fcntl(hi + 10, F_GETFD) >= 0, "close_range closed a fd out of its range");
	CHECK(close_range((unsigned)hi + 10, ~0U, 0) == 0 && closed_count(hi + 10) == 1,
	      "close_range to ~0U did not tell the agent");
	return PASS;
}

static int case_close_not_lane(void)
{
	int p[2], sp[2], u = socket(AF_INET, SOCK_DGRAM, 0), t = tcp_socket(AF_INET), n = open("/dev/null", O_RDONLY);

	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "pipe/socketpair: %s", strerror(errno));
	close(p[0]), close(p[1]), close(sp[0]), close(sp[1]), close(u), close(t), close(n);
	close(connected(AF_INET, "127.0.0.1",
			lane_port == 0 ? (listener(AF_INET, "127.0.0.1", &lane_port), lane_port) : lane_port));
	CHECK(agent_count("prepare dir=1") == 1, "the agent did not see the connect (control)");
	CHECK(agent_count("closed") == 0, "closing fds that are not lanes told the agent");
	return PASS;
}

static int case_close_errno(void)
{
	int fd = lane(), d = dup(fd);

	errno = SOME_ERRNO;
	CHECK(close(fd) == 0 && errno == SOME_ERRNO, "closing a lane's copy changed errno to %d", errno);
	CHECK(close(d) == 0 && errno == SOME_ERRNO, "closing a lane changed errno to %d", errno);
	CHECK(bare() || closed_count(d) == 1, "the agent was not told");
	errno = SOME_ERRNO;
	CHECK(close(-1) == -1 && errno == EBADF, "close(-1) left errno %d, want EBADF", errno);
	fd = lane();
	errno = SOME_ERRNO;
	CHECK(dup2(tcp_socket(AF_INET), fd) == fd && errno == SOME_ERRNO, "dup2 over a lane changed errno to %d",
	      errno);
	fd = lane();
	errno = SOME_ERRNO;
	CHECK(close_range((unsigned)fd, (unsigned)fd, 0) == 0 && errno == SOME_ERRNO, "close_range changed errno to %d",
	      errno);
	return PASS;
}

static int case_fork_child_close(void)
{
	int fd = lane(), d = dup(fd), status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd);
		dup2(0, d);
		close_range(3, ~0U, 0);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed");
	CHECK(agent_count("closed") == 0, "a forked child's close told the agent");
	CHECK(close(fd) == 0 && agent_count("closed") == 0, "the parent's table lost the dup");
	CHECK(close(d) == 0 && closed_count(d) == 1, "the parent's last close did not tell the agent");
	return PASS;
}

static int case_fd_reuse_fresh_lane(void)
{
	int fd = lane(), again, sp[2], got;
	char buf[CMSG_SPACE(sizeof(int))] = {0}, byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	close(fd);
	again = lane();
	CHECK(again == fd, "fd %d was not reused (got %d)", fd, again);
	CHECK(close(again) == 0 && closed_count(fd) == 2, "a reused fd number was not a fresh lane");
	/* A lane closed behind the shim's back; its number now holds a socket that is no lane. */
	fd = lane();
	CHECK(syscall(SYS_close, fd) == 0, "raw close: %s", strerror(errno));
	again = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(again == fd, "fd %d was not reused by the UDP socket (got %d)", fd, again);
	CHECK(close(again) == 0 && closed_count(fd) == 2, "a stale lane mark told the agent");
	/* An fd received over SCM_RIGHTS is unknown: closing it says nothing, the original still holds the lane. */
	fd = lane();
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair: %s", strerror(errno));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	CHECK(sendmsg(sp[0], &msg, 0) == 1, "sendmsg: %s", strerror(errno));
	memset(buf, 0, sizeof(buf));
	CHECK(recvmsg(sp[1], &msg, 0) == 1 && (cm = CMSG_FIRSTHDR(&msg)) != NULL, "recvmsg: %s", strerror(errno));
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	CHECK(close(got) == 0 && agent_count("closed") == 2, "closing a received fd told the agent");
	CHECK(close(fd) == 0 && closed_count(fd) == 3, "closing the lane did not tell the agent");
	return PASS;
}

static int case_large_fd(void)
{
	struct rlimit rl;
	int fd = lane(), big;

	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max > (1u << 20) ? (1u << 20) : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	big = (int)rl.rlim_cur - 1;
	if (big < 4096)
		child_skip("RLIMIT_NOFILE is too low for a large fd");
	CHECK(dup2(fd, big) == big, "dup2 to %d: %s", big, strerror(errno));
	CHECK(close(fd) == 0 && agent_count("closed") == 0, "the copy at fd %d was not tracked", big);
	CHECK(close(big) == 0 && closed_count(big) == 1, "closing fd %d did not tell the agent", big);
	return PASS;
}

static int case_old_agent(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	int fd, d;

	CHECK(n > 0, "readlink: %s", strerror(errno));
	path[n] = '\0';
	strcpy(strrchr(path, '/'), "/libfake-agent-old.so");
	setenv("LANESHIM_AGENT", path, 1);
	fd = lane();
	d = dup(fd);
	CHECK(close(fd) == 0 && close(d) == 0, "close: %s", strerror(errno));
	CHECK(agent_count("prepare dir=1") == 1 && agent_count("connected errno=0") == 1, "the old agent was not used");
	CHECK(shim_log_has("no laneshim_agent_notify_closed"), "no log line about the missing optional export");
	return PASS;
}

struct close_arg {
	uint16_t port;
	pthread_barrier_t *barrier;
	int err;
};

static void *close_thread(void *p)
{
	struct close_arg *arg = p;
	int fd = socket(AF_INET, SOCK_STREAM, 0), d;

	pthread_barrier_wait(arg->barrier);
	arg->err = fd < 0 ? errno : connect_to(fd, AF_INET, "127.0.0.1", arg->port) == 0 ? 0 : errno;
	d = dup(fd);
	if (close(fd) != 0 || d < 0 || close(d) != 0)
		arg->err = errno ? errno : -1;
	return NULL;
}

static int case_threads_close(void)
{
	static struct close_arg args[THREADS];
	pthread_t threads[THREADS];
	pthread_barrier_t barrier;
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), failed = 0;

	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct close_arg){.port = port, .barrier = &barrier, .err = -1};
		CHECK(pthread_create(&threads[i], NULL, close_thread, &args[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		failed += args[i].err != 0;
	}
	CHECK(failed == 0, "%d of %d threads failed to connect, dup and close", failed, THREADS);
	CHECK(agent_count("prepare dir=1") == THREADS, "the agent saw %d connects", agent_count("prepare dir=1"));
	CHECK(agent_count("closed open=1") == THREADS, "the agent was told of %d closes, want %d",
	      agent_count("closed open=1"), THREADS);
	close(lfd);
	return PASS;
}

/* fcntl's third argument is an int, a pointer or nothing: each must arrive as the caller passed it. */
static int case_fcntl_passthrough(void)
{
	char path[PATH_MAX];
	int fd = tcp_socket(AF_INET), fl, file;
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1LL << 40, .l_len = 10};

	fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK) == 0, "F_GETFL gave %d", fl);
	CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && fcntl(fd, F_GETFL) == (fl | O_NONBLOCK),
	      "F_SETFL O_NONBLOCK");
	CHECK(fcntl(fd, F_SETFL, fl) == 0 && fcntl(fd, F_GETFL) == fl, "F_SETFL back");
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_SETFD");
	CHECK(fcntl(-1, F_GETFL) == -1 && errno == EBADF, "fcntl(-1) did not fail with EBADF");
	test_file(path, sizeof(path), "lockfile");
	file = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(file >= 0, "open: %s", strerror(errno));
	CHECK(fcntl(file, F_GETLK, &lk) == 0 && lk.l_type == F_UNLCK, "F_GETLK gave %d/%d", lk.l_type, errno);
	lk = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1LL << 40, .l_len = 10};
	CHECK(fcntl(file, F_SETLK, &lk) == 0, "F_SETLK: %s", strerror(errno));
	if (fork() == 0) {
		struct flock probe = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

		_exit(fcntl(file, F_GETLK, &probe) == 0 && probe.l_type == F_WRLCK && probe.l_start == 1LL << 40 &&
				      probe.l_len == 10 && probe.l_pid == getppid()
			      ? 0
			      : 1);
	}
	CHECK(wait(&fl) > 0 && WIFEXITED(fl) && WEXITSTATUS(fl) == 0, "F_GETLK in a child did not see the lock");
	CHECK(fcntl(file, F_DUPFD, 700) == 700, "F_DUPFD 700: %s", strerror(errno));
	close(file);
	close(700);
	close(fd);
	return PASS;
}

/* ---------- tester side: checks on the built files ---------- */

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text into words (last word of each line when last_word), sorted. */
static size_t words(char *text, bool last_word, char **out, size_t max)
{
	size_t n = 0;

	for (char *line = strtok(text, "\n"); line != NULL && n < max; line = strtok(NULL, "\n")) {
		char *w = strrchr(line, ' ');

		w = last_word && w != NULL ? w + 1 : line;
		if (*w != '\0')
			out[n++] = w;
	}
	qsort(out, n, sizeof(*out), compare_str);
	return n;
}

static int tester_exports(void)
{
	char cmd[PATH_MAX + 64], *nm, *want_text, *have[64], *want[64];
	size_t nh, nw;
	int status = 0;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' 2>/dev/null", shim_path);
	nm = slurp_cmd(cmd, &status);
	if (nm == NULL || !WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return snprintf(reason, sizeof(reason), "nm is not installed"), SKIP;
	want_text = slurp(LANESHIM_EXPORTS_TXT);
	if (want_text == NULL)
		return failf("cannot read %s", LANESHIM_EXPORTS_TXT);
	nh = words(nm, true, have, 64);
	nw = words(want_text, false, want, 64);
	for (size_t i = 0; i < nh || i < nw; i++) {
		if (i >= nh || i >= nw || strcmp(have[i], want[i]) != 0)
			return failf("nm -D exports '%s' where exports.txt lists '%s'", i < nh ? have[i] : "(nothing)",
				     i < nw ? want[i] : "(nothing)");
	}
	free(nm);
	free(want_text);
	return PASS;
}

static bool dump_has(const char *dump, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool dump_has(const char *dump, const char *fmt, ...)
{
	char key[256];
	va_list ap;

	key[0] = '\n';
	va_start(ap, fmt);
	vsnprintf(key + 1, sizeof(key) - 1, fmt, ap);
	va_end(ap);
	return strstr(dump, key) != NULL;
}

/* Every #define, struct and field of the header must be in abi_dump's output. */
static int tester_abi_dump(void)
{
	char *header = slurp(LANESHIM_ABI_HEADER), *out, *dump, name[128], type[128] = "";
	int status = 0;
	size_t checked = 0;

	out = slurp_cmd(dump_path, &status);
	if (header == NULL || out == NULL || status != 0)
		return failf("cannot read %s or run %s", LANESHIM_ABI_HEADER, dump_path);
	dump = malloc(strlen(out) + 2);
	sprintf(dump, "\n%s", out);
	for (char *line = strtok(header, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *comment = strstr(line, "/*"), *end;

		if (sscanf(line, "#define %127s", name) == 1 && strcmp(name, "LANESHIM_ABI_H") != 0) {
			if (!dump_has(dump, "%s=", name))
				return failf("abi_dump does not print %s", name);
			checked++;
		} else if (sscanf(line, "typedef struct %127s {", type) == 1) {
			if (!dump_has(dump, "sizeof.%s=", type))
				return failf("abi_dump does not print sizeof.%s", type);
		} else if (type[0] != '\0' && line[0] == '}') {
			type[0] = '\0';
		} else if (type[0] != '\0' && (end = strchr(line, ';')) != NULL && (!comment || end < comment)) {
			char *start;

			*end = '\0';
			if (strchr(line, '['))
				*strchr(line, '[') = '\0';
			start = strrchr(line, ' ');
			start = start ? start + 1 : line;
			start += strspn(start, "*");
			if (!dump_has(dump, "offsetof.%s.%s=", type, start))
				return failf("abi_dump does not print offsetof.%s.%s", type, start);
			checked++;
		}
	}
	free(header);
	free(out);
	free(dump);
	return checked > 40 ? PASS : failf("only %zu names found in %s", checked, LANESHIM_ABI_HEADER);
}

/* ---------- socket(): the kind of each fd ---------- */

static bool test_file_exists(const char *name)
{
	char path[PATH_MAX];

	test_file(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

/* socket() never reads the config or loads the agent, nor does connect() on a socket it knows is not TCP. */
static int case_socket_hook_is_cheap(void)
{
	uint16_t port;
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int x = socket(AF_UNIX, SOCK_STREAM, 0), t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP), lfd;

	errno = SOME_ERRNO;
	CHECK(close(socket(AF_INET, SOCK_STREAM, 0)) == 0 && errno == SOME_ERRNO, "socket() changed errno to %d",
	      errno);
	CHECK(u >= 0 && x >= 0 && t >= 0, "socket: %s", strerror(errno));
	CHECK(fcntl(u, F_GETFD) == FD_CLOEXEC && (fcntl(t, F_GETFL) & O_NONBLOCK),
	      "socket() lost SOCK_CLOEXEC/NONBLOCK");
	CHECK(connect_to(u, AF_INET, "127.0.0.1", 9) == 0, "UDP connect: %s", strerror(errno));
	if (u6 >= 0)
		connect_to(u6, AF_INET6, "::1", 9);
	CHECK(!test_file_exists("shim.log"), "socket()/UDP connect() read the config (shim.log exists)");
	CHECK(agent_count("init") == 0, "socket()/UDP connect() loaded the agent");
	/* Control: a TCP connect reads the config and reaches the agent. */
	lfd = listener(AF_INET, "127.0.0.1", &port);
	close(connected(AF_INET, "127.0.0.1", port));
	CHECK(test_file_exists("shim.log") && agent_count("prepare dir=1 rport=%u", port) == 1,
	      "control: the TCP connect did not reach the agent");
	close(lfd);
	return PASS;
}

static int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0}, byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0}, byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) != 1 || (cm = CMSG_FIRSTHDR(&msg)) == NULL || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* fds made or closed behind the shim's back: never a wrong lane, and unknown ones still get theirs. */
static int case_socket_kind_behind_our_back(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), fd, again, sp[2], got, seen = 0;

	/* A TCP socket from a raw system call is unknown: the kernel is asked, and it gets its lane. */
	fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "raw TCP socket: %s", strerror(errno));
	CHECK(agent_count("prepare fd=%d dir=1", fd) == ++seen, "a raw-syscall TCP socket got no lane");
	close(fd);
	/* A TCP socket closed behind our back, its number reused by a raw UDP socket: no lane for UDP. */
	fd = tcp_socket(AF_INET);
	CHECK(syscall(SYS_close, fd) == 0, "raw close: %s", strerror(errno));
	again = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	CHECK(again == fd, "fd %d was not reused (got %d)", fd, again);
	CHECK(connect_to(again, AF_INET, "127.0.0.1", port) == 0, "UDP connect: %s", strerror(errno));
	CHECK(agent_count("prepare dir=1") == seen, "a stale TCP note sent a UDP socket to the agent");
	close(again);
	/* A reused number after a hooked close: socket() overwrites, UDP then TCP on the same fd. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	close(fd);
	again = tcp_socket(AF_INET);
	CHECK(again == fd && connect_to(again, AF_INET, "127.0.0.1", port) == 0, "TCP on a reused number: %s",
	      strerror(errno));
	CHECK(agent_count("prepare dir=1") == ++seen, "a TCP socket on a former UDP number got no lane");
	close(again);
	/* SCM_RIGHTS: a TCP socket arriving on a number a UDP socket had (closed through the hook). */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair: %s", strerror(errno));
	fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(send_fd(sp[0], fd) == 0, "sendmsg: %s", strerror(errno));
	syscall(SYS_close, fd);
	again = socket(AF_INET, SOCK_DGRAM, 0);
	close(again);
	got = recv_fd(sp[1]);
	CHECK(got == again, "the received fd is %d, not the freed number %d", got, again);
	CHECK(connect_to(got, AF_INET, "127.0.0.1", port) == 0, "connect of a received fd: %s", strerror(errno));
	CHECK(agent_count("prepare fd=%d dir=1", got) >= 1 && agent_count("prepare dir=1") == ++seen,
	      "a TCP socket received over SCM_RIGHTS got no lane");
	/* close_range forgets too: a raw TCP socket on a number a UDP socket had is unknown, so it gets its lane. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(close_range((unsigned)fd, (unsigned)fd, 0) == 0, "close_range: %s", strerror(errno));
	again = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(again == fd && connect_to(again, AF_INET, "127.0.0.1", port) == 0, "raw TCP after close_range: %s",
	      strerror(errno));
	CHECK(agent_count("prepare dir=1") == ++seen, "close_range left a stale UDP note: no lane for TCP");
	close(again);
	/* dup of a UDP socket is UDP; dup2 of a TCP socket over it is TCP. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	again = dup(fd);
	CHECK(connect_to(again, AF_INET, "127.0.0.1", port) == 0 && agent_count("prepare dir=1") == seen,
	      "a dup of a UDP socket reached the agent");
	CHECK(dup2(tcp_socket(AF_INET), again) == again, "dup2: %s", strerror(errno));
	CHECK(connect_to(again, AF_INET, "127.0.0.1", port) == 0 && agent_count("prepare dir=1") == ++seen,
	      "a TCP socket dup2ed over a UDP one got no lane");
	close(lfd);
	return PASS;
}

/* ---------- scoping: which programs, and the kill switch ---------- */

/* The shim is loaded (the harness checked) but this program is out of scope: nothing reaches the agent. */
static int case_out_of_scope(void)
{
	uint16_t port, any;
	int lfd = listener(AF_INET, "127.0.0.1", &port), afd = listener(AF_INET, "0.0.0.0", &any);
	int fd = tcp_socket(AF_INET), v = 65536;

	CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0, "setsockopt: %s", strerror(errno));
	CHECK(connect_to(fd, AF_INET, "127.0.0.1", port) == 0, "connect: %s", strerror(errno));
	close(fd);
	close(accept(lfd, NULL, NULL));
	CHECK(agent_count("init") == 0 && agent_count("prepare") == 0, "the agent was used out of scope");
	CHECK(shim_log_has("not in scope ("), "no log line saying why the program is out of scope");
	close(lfd);
	close(afd);
	return PASS;
}

static int case_scope_reason(const char *why)
{
	case_out_of_scope();
	CHECK(shim_log_has(why), "the log does not say \"%s\"", why);
	return PASS;
}

static int case_scope_deny_name(void)
{
	return case_scope_reason("deny_programs 'shim_test'");
}

static int case_scope_not_allowed(void)
{
	return case_scope_reason("not in allow_programs");
}

static int case_scope_deny_wins(void)
{
	return case_scope_reason("deny_programs 'shim_*'");
}

static int case_scope_builtin(void)
{
	return case_scope_reason("built-in exclude '");
}

static int case_scope_config_file(void)
{
	case_connect_blocking();
	CHECK(shim_log_has("client.conf:4: deny_programs: bad glob 'x['"), "no file:line error for the bad glob");
	CHECK(shim_log_has("client.conf:5: disable_file: expected an absolute path"), "no error for disable_file");
	return PASS;
}

static void set_disable_file(char *path, size_t len)
{
	test_file(path, len, "disable");
	/* The config is read on first use, so the path can still be set here. */
	setenv("LANESHIM_DISABLE_FILE", path, 1);
}

static int case_kill_switch_present(void)
{
	char path[PATH_MAX];
	int fd;

	set_disable_file(path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "creating %s: %s", path, strerror(errno));
	close(fd);
	return case_disable_skips_agent();
}

/* Connects until the agent's view of them matches want (seen or not); returns the ms it took, or -1. */
static double until_agent(uint16_t port, bool want, int *conns)
{
	double t0 = now_ms();

	while (now_ms() - t0 < 5000) {
		int before = agent_count("prepare dir=1 rport=%u", port), fd = connected(AF_INET, "127.0.0.1", port);
		bool seen = agent_count("prepare dir=1 rport=%u", port) > before;

		(*conns)++;
		close(fd);
		if (seen == want)
			return now_ms() - t0;
		poll(NULL, 0, 20);
	}
	return -1;
}

/* An admin switches a running process off and on again, without restarting it. */
static int case_kill_switch_live(void)
{
	char path[PATH_MAX];
	uint16_t port;
	int lfd, fd, held, conns = 0;
	double off_ms, on_ms;

	set_disable_file(path, sizeof(path));
	lfd = listener(AF_INET, "127.0.0.1", &port);
	held = connected(AF_INET, "127.0.0.1", port);
	CHECK(agent_count("prepare dir=1") == 1, "the first connect did not reach the agent");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "creating %s: %s", path, strerror(errno));
	close(fd);
	off_ms = until_agent(port, false, &conns);
	CHECK(off_ms >= 0 && off_ms < 2500, "the kill switch took %.0f ms to act (want < 2500: checked each second)",
	      off_ms);
	CHECK(close(held) == 0 && closed_count(held) == 1, "a lane closed while switched off was not released");
	CHECK(unlink(path) == 0, "unlink: %s", strerror(errno));
	on_ms = until_agent(port, true, &conns);
	CHECK(on_ms >= 0 && on_ms < 2500, "lanes took %.0f ms to come back (want < 2500)", on_ms);
	CHECK(shim_log_has("kill switch on") && shim_log_has("kill switch off"), "the switch was not logged");
	fprintf(stderr, MARK "off after %.0f ms, on after %.0f ms, %d connects\n", off_ms, on_ms, conns);
	close(lfd);
	return PASS;
}

/* ---------- fork, vfork, posix_spawn, exec ---------- */

static int agent_lines_of(pid_t pid)
{
	return agent_count("pid=%d", (int)pid);
}

/* Run by the exec and posix_spawn cases in a new program image: connect to LANESHIM_TEST_PORT. */
static int helper_connect(void)
{
	const char *p = getenv("LANESHIM_TEST_PORT");
	uint16_t port = (uint16_t)(p != NULL ? atoi(p) : 0);

	close(connected(AF_INET, "127.0.0.1", port));
	return PASS;
}

static void set_test_port(uint16_t port)
{
	char text[16];

	snprintf(text, sizeof(text), "%u", port);
	setenv("LANESHIM_TEST_PORT", text, 1);
}

/* Waits for pid at most ms; a child stuck on a lock inherited from another thread is a deadlock. */
static int wait_deadline(pid_t pid, int ms, int *status)
{
	double t0 = now_ms();

	while (waitpid(pid, status, WNOHANG) == 0) {
		if (now_ms() - t0 > ms) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -1;
		}
		poll(NULL, 0, 2);
	}
	return 0;
}

#define FORK_CHILDREN 16
#define BUSY_THREADS  4

struct busy_arg {
	uint16_t port;
	int lfd;
	volatile int stop;
	int err;
};

/* Accepts and drops connections so the busy threads never fill the listen backlog. */
static void *drain_thread(void *p)
{
	struct busy_arg *arg = p;
	struct pollfd pfd = {.fd = arg->lfd, .events = POLLIN};

	while (!arg->stop) {
		if (poll(&pfd, 1, 50) == 1)
			close(accept(arg->lfd, NULL, NULL));
	}
	return NULL;
}

/* Keeps the agent, the lane table and its lock in use while another thread forks. */
static void *busy_thread(void *p)
{
	struct busy_arg *arg = p;

	while (!arg->stop) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), d;

		if (fd < 0 || connect_to(fd, AF_INET, "127.0.0.1", arg->port) != 0)
			arg->err = errno;
		d = dup(fd);
		close(fd);
		close(d);
	}
	return NULL;
}

/*
 * A parent whose agent is loaded and busy on other threads forks: each child connects through an agent
 * of its own, closes an inherited lane (no release: the parent's agent owns it) and exits; none may hang.
 */
static int case_fork_while_agent_busy(void)
{
	static struct busy_arg arg;
	pthread_t threads[BUSY_THREADS], drain;
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), held = lane(), status, hung = 0, failed = 0;
	pid_t pids[FORK_CHILDREN];
	double worst = 0;

	arg = (struct busy_arg){.port = port, .lfd = lfd};
	CHECK(pthread_create(&drain, NULL, drain_thread, &arg) == 0, "pthread_create");
	for (int i = 0; i < BUSY_THREADS; i++)
		CHECK(pthread_create(&threads[i], NULL, busy_thread, &arg) == 0, "pthread_create");
	for (int i = 0; i < FORK_CHILDREN; i++) {
		double t0 = now_ms();

		poll(NULL, 0, 3);
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork: %s", strerror(errno));
		if (pids[i] == 0) {
			int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

			ok = connect_to(fd, AF_INET, "127.0.0.1", port) == 0;
			close(fd);
			close(held);
			_exit(ok ? 0 : 1);
		}
		if (wait_deadline(pids[i], 5000, &status) != 0)
			hung++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	arg.stop = 1;
	for (int i = 0; i < BUSY_THREADS; i++)
		pthread_join(threads[i], NULL);
	pthread_join(drain, NULL);
	CHECK(hung == 0, "%d of %d forked children hung (deadlock)", hung, FORK_CHILDREN);
	CHECK(failed == 0, "%d of %d forked children could not connect", failed, FORK_CHILDREN);
	CHECK(arg.err == 0, "a busy thread's connect failed: %s", strerror(arg.err));
	for (int i = 0; i < FORK_CHILDREN; i++) {
		CHECK(agent_count("init pid=%d", (int)pids[i]) == 1, "forked child %d started no agent", (int)pids[i]);
		CHECK(agent_count("prepare dir=1 rport=%u pid=%d", port, (int)pids[i]) == 1,
		      "forked child %d got no lane", (int)pids[i]);
	}
	CHECK(agent_count("prepare dir=1") > FORK_CHILDREN, "the busy threads did not reach the agent (control)");
	CHECK(agent_count("closed fd=%d", held) == 0, "a child's close of an inherited lane released it");
	CHECK(close(held) == 0 && closed_count(held) == 1, "the parent's close did not release its lane");
	fprintf(stderr, MARK "slowest fork+connect+exit %.1f ms\n", worst);
	close(lfd);
	return PASS;
}

/* A vfork child shares our memory: its hooks must neither call the agent nor touch the lane table. */
static int case_vfork_child_silent(void)
{
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), held = lane(), other = lane(), status;
	pid_t pid;

	pid = vfork();
	if (pid == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		ok = connect_to(fd, AF_INET, "127.0.0.1", port) == 0;
		close(fd);
		close(held);
		dup2(0, other);
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status), "vfork: %s", strerror(errno));
	CHECK(WEXITSTATUS(status) == 0, "the vfork child could not connect");
	CHECK(agent_lines_of(pid) == 0, "the vfork child called the agent");
	CHECK(agent_count("closed") == 0, "the vfork child's close released a lane");
	CHECK(close(held) == 0 && closed_count(held) == 1, "the parent's lane on fd %d was lost", held);
	CHECK(close(other) == 0 && closed_count(other) == 1, "the parent's lane on fd %d was lost", other);
	close(lfd);
	return PASS;
}

/*
 * posix_spawn closes and moves fds in a vfork-style child with libc's own calls: the parent's lanes
 * stay; the spawned program (this tester again) is a new process and gets the agent itself.
 */
static int case_posix_spawn_child(void)
{
	extern char **environ;
	char self[PATH_MAX];
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), held = lane(), other = lane(), status;
	posix_spawn_file_actions_t fa;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	CHECK(n > 0, "readlink: %s", strerror(errno));
	self[n] = '\0';
	set_test_port(port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, held);
	posix_spawn_file_actions_adddup2(&fa, 0, other);
	CHECK(posix_spawn(&pid, self, &fa, NULL, (char *[]){self, "--child", "helper_connect", NULL}, environ) == 0,
	      "posix_spawn: %s", strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	CHECK(wait_deadline(pid, 10000, &status) == 0, "the spawned program hung");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the spawned program failed (status %d)", status);
	CHECK(agent_count("init pid=%d", (int)pid) == 1, "the spawned program did not load the agent");
	CHECK(agent_count("prepare dir=1 rport=%u pid=%d", port, (int)pid) == 1,
	      "the spawned program's connect got no lane");
	CHECK(agent_count("closed pid=%d", (int)getpid()) == 0, "posix_spawn's file actions released a lane");
	CHECK(close(held) == 0 && closed_count(held) == 1, "the parent's lane on fd %d was lost", held);
	CHECK(close(other) == 0 && closed_count(other) == 1, "the parent's lane on fd %d was lost", other);
	close(lfd);
	return PASS;
}

/* fork then exec: the forked child has an agent of its own, and the new program image loads one again. */
static int case_exec_after_fork(void)
{
	char self[PATH_MAX];
	uint16_t port;
	int lfd = listener(AF_INET, "127.0.0.1", &port), held = lane(), status;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	CHECK(n > 0, "readlink: %s", strerror(errno));
	self[n] = '\0';
	set_test_port(port);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		/* First a connect in the forked child (its private agent), then the same process execs. */
		if (connect_to(fd, AF_INET, "127.0.0.1", port) != 0)
			_exit(3);
		execv(self, (char *[]){self, "--child", "helper_connect", NULL});
		_exit(4);
	}
	CHECK(wait_deadline(pid, 10000, &status) == 0, "the child hung");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %d)", status);
	CHECK(agent_count("prepare dir=1 rport=%u pid=%d", port, (int)pid) == 2,
	      "want two lanes in the child: one before exec, one after (got %d)",
	      agent_count("prepare dir=1 rport=%u pid=%d", port, (int)pid));
	CHECK(agent_count("init pid=%d", (int)pid) == 2, "want an agent before exec and one after (got %d)",
	      agent_count("init pid=%d", (int)pid));
	CHECK(agent_count("closed pid=%d", (int)getpid()) == 0, "exec released the parent's lane");
	CHECK(close(held) == 0 && closed_count(held) == 1, "the parent's lane was lost");
	close(lfd);
	return PASS;
}

static int wait_child(pid_t pid, int *status);
static bool copy_file(const char *from, const char *to);

/* ---------- secure execution: a real setuid-root program, run by an unprivileged user ---------- */

#define NOBODY     65534
#define PROBE_EXIT 3

struct suid_run {
	int status;
	char *out, *err;
};

static char suid_dir[256];

static void suid_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", suid_dir, name);
}

static bool suid_exists(const char *name)
{
	char path[PATH_MAX];

	suid_path(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

static bool write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");
	bool ok = f != NULL && fputs(text, f) >= 0;

	if (f != NULL && fclose(f) != 0)
		ok = false;
	return ok && chmod(path, mode) == 0;
}

/* setpriv --reuid nobody ... probe port, with a hostile environment; stdout and stderr kept apart. */
static int suid_probe_run(uint16_t port, struct suid_run *run)
{
	static char envbuf[8][PATH_MAX + 64];
	char probe[PATH_MAX], portbuf[16], out[PATH_MAX], err[PATH_MAX], hostile[PATH_MAX];
	char *env[16];
	size_t n = 0;
	pid_t pid;

	suid_path(probe, sizeof(probe), "ns/bin/setuid_probe");
	snprintf(hostile, sizeof(hostile), "%s/libhostile-agent.so", suid_dir);
	snprintf(portbuf, sizeof(portbuf), "%u", port);
	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	snprintf(envbuf[0], sizeof(envbuf[0]), "LANESHIM_AGENT=%s", hostile);
	snprintf(envbuf[1], sizeof(envbuf[1]), "LANESHIM_CONFIG=%s/user/client.conf", suid_dir);
	snprintf(envbuf[2], sizeof(envbuf[2]), "LANESHIM_LOG_FILE=%s/user/env.log", suid_dir);
	snprintf(envbuf[3], sizeof(envbuf[3]), "FAKE_AGENT_LOG=%s/agent.log", suid_dir);
	snprintf(envbuf[4], sizeof(envbuf[4]), "LANESHIM_DENY_PROGRAMS=nothing");
	for (int i = 0; i < 5; i++)
		env[n++] = envbuf[i];
	env[n++] = "LANESHIM_LOG=debug";
	env[n++] = "LANESHIM_INCLUDE_LOOPBACK=1";
	env[n++] = "LANESHIM_DEADLINE_MS=5000";
	env[n] = NULL;
	suid_path(out, sizeof(out), "probe.out");
	suid_path(err, sizeof(err), "probe.err");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
		    e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execve("/usr/bin/setpriv",
		       (char *[]){"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--", probe,
				  portbuf, NULL},
		       env);
		_exit(127);
	}
	if (pid < 0 || wait_child(pid, &run->status) != PASS)
		return failf("setpriv did not finish");
	run->out = slurp(out);
	run->err = slurp(err);
	if (run->out == NULL || run->err == NULL)
		return failf("cannot read the probe's output");
	return PASS;
}

static void suid_free(struct suid_run *run)
{
	free(run->out);
	free(run->err);
}

/* Same stdout and exit status as the run without the shim, and the shim was there. */
static int suid_same(const char *what, const struct suid_run *plain, const struct suid_run *run)
{
	if (!WIFEXITED(run->status) || WEXITSTATUS(run->status) != PROBE_EXIT)
		return failf("%s: the probe's status is 0x%x, want exit %d", what, run->status, PROBE_EXIT);
	if (strcmp(run->out, plain->out) != 0)
		return failf("%s: stdout \"%.80s\" differs from the plain run's \"%.80s\"", what, run->out, plain->out);
	if (strstr(run->err, "liblaneshim.so loaded") == NULL)
		return failf("%s: the shim was not loaded in the setuid program (stderr: %.120s)", what, run->err);
	if (suid_exists("libhostile-agent.so.loaded"))
		return failf("%s: the hostile LANESHIM_AGENT was loaded", what);
	if (suid_exists("user/env.log") || suid_exists("user/conf.log"))
		return failf("%s: a log file named by the environment or a user's config was created", what);
	return PASS;
}

static int count_in_file(const char *name, const char *needle)
{
	char path[PATH_MAX], *text, *p;
	int n = 0;

	suid_path(path, sizeof(path), name);
	text = slurp(path);
	for (p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* Runs in a private mount namespace: /etc is an overlay, so ld.so.preload and client.conf are ours alone. */
static int suid_scenarios(void)
{
	char path[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX], conf[2 * PATH_MAX];
	struct suid_run plain = {0}, run = {0};
	struct statvfs vfs;
	uint16_t port;
	int lfd, rc, prepared;

	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return failf("private mount namespace: %s", strerror(errno));
	/*
	 * A tmpfs of our own (suid allowed, and a valid overlay upper layer even where /tmp is
	 * nosuid or itself an overlay, as in containers); it vanishes with the namespace.
	 */
	suid_path(path, sizeof(path), "ns");
	if (mkdir(path, 0755) != 0 || mount("tmpfs", path, "tmpfs", 0, "mode=0755") != 0)
		return failf("tmpfs at %s: %s", path, strerror(errno));
	suid_path(path, sizeof(path), "ns/bin");
	if (mkdir(path, 0755) != 0 || statvfs(path, &vfs) != 0 || (vfs.f_flag & ST_NOSUID))
		return failf("%s: cannot make a directory that allows setuid", path);
	suid_path(path, sizeof(path), "ns/bin/setuid_probe");
	/* The probe is built next to abi_dump. */
	snprintf(conf, sizeof(conf), "%s", dump_path);
	strcpy(strrchr(conf, '/'), "/setuid_probe");
	if (!copy_file(conf, path) || chown(path, 0, 0) != 0 || chmod(path, 04755) != 0)
		return failf("installing %s setuid root: %s", path, strerror(errno));
	suid_path(upper, sizeof(upper), "ns/etc-upper");
	suid_path(work, sizeof(work), "ns/etc-work");
	snprintf(opts, sizeof(opts), "lowerdir=/etc,upperdir=%s,workdir=%s", upper, work);
	if (mkdir(upper, 0755) != 0 || mkdir(work, 0755) != 0 || mount("overlay", "/etc", "overlay", 0, opts) != 0)
		return errno == ENODEV || errno == EINVAL
			       ? (snprintf(reason, sizeof(reason), "no overlayfs for /etc here"), SKIP)
			       : failf("overlay on /etc: %s", strerror(errno));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(sin);

		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 64) != 0 ||
		    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0)
			return failf("listener: %s", strerror(errno));
		port = ntohs(sin.sin_port);
	}
	/* 1. Without the shim: what the program prints and how it exits. */
	if ((rc = suid_probe_run(port, &plain)) != PASS)
		return rc;
	if (!WIFEXITED(plain.status) || WEXITSTATUS(plain.status) != PROBE_EXIT ||
	    strstr(plain.out, "euid=0 secure=1 connect=ok") == NULL)
		return failf(
			"the plain probe did not run setuid root (status 0x%x, stdout \"%.80s\", stderr \"%.80s\")",
			plain.status, plain.out, plain.err);
	/* 2. Site-wide install; a hostile environment and a user's config file that name a hostile agent and logs. */
	if (!write_text("/etc/ld.so.preload", shim_path, 0644) ||
	    (mkdir("/etc/laneshim", 0755) != 0 && errno != EEXIST))
		return failf("writing the overlay's /etc: %s", strerror(errno));
	snprintf(conf, sizeof(conf),
		 "agent = %s/libhostile-agent.so\nlog = debug\nlog_file = %s/user/conf.log\n"
		 "include_loopback = yes\n",
		 suid_dir, suid_dir);
	suid_path(path, sizeof(path), "user/client.conf");
	if (!write_text(path, conf, 0666) || chown(path, NOBODY, NOBODY) != 0)
		return failf("writing %s: %s", path, strerror(errno));
	if ((rc = suid_probe_run(port, &run)) != PASS || (rc = suid_same("hostile environment", &plain, &run)) != PASS)
		return rc;
	if (count_in_file("agent.log", "init") != 0)
		return failf(
			"hostile environment: an agent was loaded for a loopback connect the environment asked for");
	suid_free(&run);
	/* 3. A root-owned /etc/laneshim/client.conf is honoured: the agent it names, its log file. */
	snprintf(conf, sizeof(conf), "agent = %s\nlog = debug\nlog_file = %s/root.log\ninclude_loopback = yes\n",
		 agent_path, suid_dir);
	if (!write_text("/etc/laneshim/client.conf", conf, 0644))
		return failf("writing client.conf: %s", strerror(errno));
	if ((rc = suid_probe_run(port, &run)) != PASS || (rc = suid_same("root-owned config", &plain, &run)) != PASS)
		return rc;
	prepared = count_in_file("agent.log", "connected fd=");
	if (prepared != 1 || count_in_file("root.log", "ready") != 1)
		return failf("root-owned config: the configured agent was called %d times (want 1) or root.log lacks "
			     "'ready'",
			     prepared);
	if (count_in_file("agent.log", "init deadline=20 ") != 1)
		return failf("root-owned config: LANESHIM_DEADLINE_MS from the environment reached the agent");
	suid_free(&run);
	/* 4. The same file owned by the user is ignored. */
	if (chown("/etc/laneshim/client.conf", NOBODY, NOBODY) != 0)
		return failf("chown: %s", strerror(errno));
	if ((rc = suid_probe_run(port, &run)) != PASS || (rc = suid_same("user-owned config", &plain, &run)) != PASS)
		return rc;
	if (count_in_file("agent.log", "connected fd=") != prepared)
		return failf("user-owned config: it was honoured in a setuid program");
	suid_free(&run);
	/* 5. The compiled-in kill switch, /etc/laneshim/disable, holds in setuid programs too. */
	if (chown("/etc/laneshim/client.conf", 0, 0) != 0 || !write_text(LANESHIM_TEST_KILL_SWITCH, "", 0644))
		return failf("kill switch: %s", strerror(errno));
	if ((rc = suid_probe_run(port, &run)) != PASS || (rc = suid_same("kill switch", &plain, &run)) != PASS)
		return rc;
	if (count_in_file("agent.log", "connected fd=") != prepared)
		return failf("kill switch: %s did not stop the agent", LANESHIM_TEST_KILL_SWITCH);
	suid_free(&run);
	suid_free(&plain);
	close(lfd);
	return PASS;
}

static int tester_setuid(void)
{
	char path[PATH_MAX], hostile[PATH_MAX];
	int status, pipefd[2], rc;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		return snprintf(reason, sizeof(reason), "needs root (setuid install, mount namespace)"), SKIP;
	if (getenv("LANESHIM_TEST_PRELOAD") != NULL)
		return snprintf(reason, sizeof(reason), "sanitizer runtimes refuse setuid programs"), SKIP;
	if (access("/usr/bin/setpriv", X_OK) != 0)
		return snprintf(reason, sizeof(reason), "no /usr/bin/setpriv"), SKIP;
	snprintf(suid_dir, sizeof(suid_dir), "/tmp/laneshim-suid.XXXXXX");
	if (mkdtemp(suid_dir) == NULL || chmod(suid_dir, 0755) != 0)
		return failf("mkdtemp: %s", strerror(errno));
	suid_path(path, sizeof(path), "user");
	mkdir(path, 0777);
	chmod(path, 0777);
	snprintf(hostile, sizeof(hostile), "%s/libhostile-agent.so", suid_dir);
	snprintf(path, sizeof(path), "%s", agent_path);
	*strrchr(path, '/') = '\0';
	strcat(path, "/libhostile-agent.so");
	if (!copy_file(path, hostile))
		return failf("copying %s: %s", path, strerror(errno));
	if (pipe(pipefd) != 0)
		return failf("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		rc = suid_scenarios();
		n = write(pipefd[1], reason, strlen(reason));
		_exit(rc == PASS && n >= 0 ? PASS : rc);
	}
	close(pipefd[1]);
	n = pid < 0 ? -1 : read(pipefd[0], reason, sizeof(reason) - 1);
	reason[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	rc = pid < 0 ? failf("fork: %s", strerror(errno)) : wait_child(pid, &status);
	if (rc == PASS)
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : failf("killed by signal %d", WTERMSIG(status));
	if (rc == FAIL) {
		size_t len = strlen(reason);

		snprintf(reason + len, sizeof(reason) - len, " (files kept in %s)", suid_dir);
		return FAIL;
	}
	/* The mount namespace died with the child; remove what is left. */
	snprintf(path, sizeof(path), "rm -rf '%s'", suid_dir);
	return system(path) == 0 ? rc : failf("cannot remove %s", suid_dir);
}

/* ---------- the table ---------- */

#define LOOPBACK "LANESHIM_INCLUDE_LOOPBACK=1"
/* Loading the agent counts against the deadline: a new program's first connect under ASan or valgrind needs longer. */
#define SLOW_LOAD "LANESHIM_DEADLINE_MS=5000"

static const struct test_case cases[] = {
	{.name = "connect_blocking", .child = case_connect_blocking, .env = {LOOPBACK}},
	{.name = "connect_refused", .child = case_connect_refused, .env = {LOOPBACK}, .bare_too = true},
	{.name = "connect_nonblocking", .child = case_connect_nonblocking, .env = {LOOPBACK}, .bare_too = true},
	{.name = "errno_preserved", .child = case_errno_preserved, .env = {LOOPBACK}, .bare_too = true},
	{.name = "agent_clobbers_errno",
	 .child = case_agent_clobbers_errno,
	 .env = {LOOPBACK, "FAKE_AGENT_MODE=clobber"}},
	{.name = "unix_socket_skipped", .child = case_unix_socket_skipped, .env = {LOOPBACK}},
	{.name = "udp_socket_skipped", .child = case_udp_socket_skipped, .env = {LOOPBACK}},
	{.name = "loopback_skipped_by_default", .child = case_connect_not_seen},
	{.name = "exclude_skips_agent",
	 .child = case_connect_not_seen,
	 .env = {LOOPBACK, "LANESHIM_EXCLUDE=10.0.0.0/8, 127.0.0.0/8 fd00::/8"}},
	{.name = "exclude_matches_v4_mapped",
	 .child = case_exclude_v4_mapped,
	 .env = {LOOPBACK, "LANESHIM_EXCLUDE=127.0.0.1/32"}},
	{.name = "disable_skips_agent", .child = case_disable_skips_agent, .env = {LOOPBACK, "LANESHIM_DISABLE=1"}},
	{.name = "broker_address_skipped", .child = case_broker_address_skipped, .env = {LOOPBACK}},
	{.name = "app_sndbuf_reported", .child = case_app_sndbuf_reported, .env = {LOOPBACK, "FAKE_AGENT_MODE=nolane"}},
	{.name = "agent_setsockopt_not_remembered", .child = case_agent_setsockopt_not_remembered, .env = {LOOPBACK}},
	{.name = "accept_inbound", .child = case_accept_inbound, .env = {LOOPBACK}},
	{.name = "listen_wildcard", .child = case_listen_wildcard},
	{.name = "ipv6_and_v4_mapped", .child = case_ipv6_and_v4_mapped, .env = {LOOPBACK}},
	{.name = "agent_missing",
	 .child = case_agent_missing,
	 .env = {LOOPBACK, "LANESHIM_AGENT=/nonexistent/liblaneshim-agent.so"}},
	{.name = "agent_initfail", .child = case_agent_initfail, .env = {LOOPBACK, "FAKE_AGENT_MODE=initfail"}},
	{.name = "agent_slow",
	 .child = case_agent_slow,
	 .env = {LOOPBACK, "FAKE_AGENT_MODE=sleep", "FAKE_AGENT_SLEEP_MS=50"}},
	{.name = "inline_start_on_callers_thread",
	 .child = case_inline_start_on_callers_thread,
	 .env = {LOOPBACK, "LANESHIM_AGENT_START=inline"}},
	{.name = "address_limit_starts_inline", .child = case_address_limit_starts_inline, .env = {LOOPBACK}},
	{.name = "default_start_in_loader_thread", .child = case_default_start_in_loader_thread, .env = {LOOPBACK}},
	{.name = "late_lane_after_slow_start",
	 .child = case_late_lane_after_slow_start,
	 .env = {LOOPBACK, "FAKE_AGENT_MODE=slowinit", "LANESHIM_DEADLINE_MS=20"}},
	{.name = "fork_child_own_agent", .child = case_fork_child_own_agent, .env = {LOOPBACK}},
	{.name = "fd_reuse_forgets_state",
	 .child = case_fd_reuse_forgets_state,
	 .env = {LOOPBACK, "FAKE_AGENT_MODE=nolane"}},
	{.name = "malformed_config",
	 .child = case_malformed_config,
	 .env = {"LANESHIM_DEADLINE_MS=abc"},
	 .config = "# a test config\n\ndeadline_ms = 30\nthis line is bad\nexclude = 10.0.0.0/33\n"
		   "colour = blue\ninclude_loopback = yes\n"},
	{.name = "stdout_untouched",
	 .child = case_stdout_untouched,
	 .env = {LOOPBACK, "LANESHIM_LOG_FILE=", "LANESHIM_DEADLINE_MS=bogus"},
	 .stdout_expect = "child stdout\n",
	 .stderr_has = "laneshim["},
	{.name = "threads_64", .child = case_threads, .env = {LOOPBACK}},
	{.name = "close_lane_notifies_once", .child = case_close_lane_once, .env = {LOOPBACK}},
	{.name = "dup_shares_lane", .child = case_dup_shares_lane, .env = {LOOPBACK}},
	{.name = "dup2_over_lane", .child = case_dup2_over_lane, .env = {LOOPBACK}},
	{.name = "dup3_over_lane", .child = case_dup3_over_lane, .env = {LOOPBACK}},
	{.name = "fcntl_dupfd_shares", .child = case_fcntl_dupfd_shares, .env = {LOOPBACK}},
	{.name = "close_range_lanes", .child = case_close_range, .env = {LOOPBACK}},
	{.name = "close_not_lane_silent", .child = case_close_not_lane, .env = {LOOPBACK, "FAKE_AGENT_MODE=nolane"}},
	{.name = "close_errno_preserved", .child = case_close_errno, .env = {LOOPBACK}, .bare_too = true},
	{.name = "close_errno_agent_clobbers", .child = case_close_errno, .env = {LOOPBACK, "FAKE_AGENT_MODE=clobber"}},
	{.name = "fork_child_close_silent", .child = case_fork_child_close, .env = {LOOPBACK}},
	{.name = "fd_reuse_fresh_lane", .child = case_fd_reuse_fresh_lane, .env = {LOOPBACK}},
	{.name = "large_fd_lane", .child = case_large_fd, .env = {LOOPBACK}},
	{.name = "old_agent_without_closed", .child = case_old_agent, .env = {LOOPBACK}},
	{.name = "threads_64_close", .child = case_threads_close, .env = {LOOPBACK}},
	{.name = "fcntl_passthrough", .child = case_fcntl_passthrough, .env = {LOOPBACK}, .bare_too = true},
	{.name = "fork_while_agent_busy", .child = case_fork_while_agent_busy, .env = {LOOPBACK, SLOW_LOAD}},
	{.name = "vfork_child_silent", .child = case_vfork_child_silent, .env = {LOOPBACK}},
	{.name = "posix_spawn_child", .child = case_posix_spawn_child, .env = {LOOPBACK, SLOW_LOAD}},
	{.name = "exec_after_fork_gets_agent", .child = case_exec_after_fork, .env = {LOOPBACK, SLOW_LOAD}},
	{.name = "helper_connect", .child = helper_connect, .helper = true},
	{.name = "socket_hook_is_cheap", .child = case_socket_hook_is_cheap, .env = {LOOPBACK}},
	{.name = "socket_kind_behind_our_back", .child = case_socket_kind_behind_our_back, .env = {LOOPBACK}},
	{.name = "scope_deny_by_name",
	 .child = case_scope_deny_name,
	 .env = {LOOPBACK, "LANESHIM_DENY_PROGRAMS=iperf3, shim_test"}},
	{.name = "scope_allow_list_excludes_others",
	 .child = case_scope_not_allowed,
	 .env = {LOOPBACK, "LANESHIM_ALLOW_PROGRAMS=iperf3 curl"}},
	{.name = "scope_allow_full_path_glob",
	 .child = case_connect_blocking,
	 .env = {LOOPBACK, "LANESHIM_ALLOW_PROGRAMS=/nowhere/*,*/tests/shim_te[s]t"}},
	{.name = "scope_deny_wins_over_allow",
	 .child = case_scope_deny_wins,
	 .env = {LOOPBACK, "LANESHIM_ALLOW_PROGRAMS=shim_test", "LANESHIM_DENY_PROGRAMS=shim_*"}},
	{.name = "scope_config_file_keys",
	 .child = case_scope_config_file,
	 .env = {LOOPBACK},
	 .config = "# scoping\nallow_programs = rsync\nallow_programs = shim_test\ndeny_programs = x[\n"
		   "disable_file = relative/path\ndeny_programs = gdb\n"},
	{.name = "scope_builtin_tracer", .child = case_scope_builtin, .env = {LOOPBACK}, .exe_copy = "strace"},
	{.name = "scope_builtin_service_manager",
	 .child = case_scope_builtin,
	 .env = {LOOPBACK},
	 .exe_copy = "systemd-resolved"},
	{.name = "scope_builtin_by_execfn", .child = case_scope_builtin, .env = {LOOPBACK}, .exe_link = "pip3"},
	{.name = "scope_builtin_dropped",
	 .child = case_connect_blocking,
	 .env = {LOOPBACK, "LANESHIM_DEFAULT_EXCLUDES=no"},
	 .exe_copy = "strace"},
	{.name = "kill_switch_present", .child = case_kill_switch_present, .env = {LOOPBACK}},
	{.name = "kill_switch_live", .child = case_kill_switch_live, .env = {LOOPBACK}},
	{.name = "setuid_secure_execution", .tester = tester_setuid},
	{.name = "exports_match", .tester = tester_exports},
	{.name = "abi_dump_complete", .tester = tester_abi_dump},
};
#define CASES_COUNT (sizeof(cases) / sizeof(cases[0]))

/* ---------- the harness ---------- */

static int timeout_s(void)
{
	const char *t = getenv("LANESHIM_TEST_TIMEOUT");

	return t != NULL && atoi(t) > 0 ? atoi(t) : DEFAULT_TIMEOUT_S;
}

static void env_set(char **env, size_t *n, const char *entry)
{
	size_t key = strcspn(entry, "=") + 1;

	for (size_t i = 0; i < *n; i++) {
		if (strncmp(env[i], entry, key) == 0) {
			env[i] = (char *)entry;
			return;
		}
	}
	if (*n < ENV_MAX - 1)
		env[(*n)++] = (char *)entry;
}

static void env_setf(char **env, size_t *n, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void env_setf(char **env, size_t *n, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	env_set(env, n, buf);
}

/* The tester's environment without anything that would steer the shim or the fake agent. */
static size_t base_env(char **env)
{
	extern char **environ;
	size_t n = 0;

	for (char **e = environ; *e != NULL && n < ENV_MAX / 2; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "LANESHIM_", 9) != 0 &&
		    strncmp(*e, "FAKE_AGENT_", 11) != 0)
			env[n++] = *e;
	}
	return n;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);

	while (dp != NULL && (d = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (d->d_name[0] != '.')
			unlink(path);
	}
	if (dp != NULL)
		closedir(dp);
	rmdir(dir);
}

/* A copy of the file at from, executable, at to. */
static bool copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in >= 0 && out >= 0 && n == 0;
}

/* The program a case runs as: the tester, or a copy or link of it under another name. */
static const char *case_program(const struct test_case *c, const char *dir, char *buf, size_t len)
{
	if (c->exe_copy == NULL && c->exe_link == NULL)
		return self_path;
	snprintf(buf, len, "%s/%s", dir, c->exe_copy ? c->exe_copy : c->exe_link);
	if (c->exe_copy ? !copy_file(self_path, buf) : symlink(self_path, buf) != 0)
		return NULL;
	return buf;
}

/*
 * Runs program --child name, behind LANESHIM_TEST_WRAPPER if set (a command line split at
 * spaces, e.g. valgrind and its options): the case's process is the one the wrapper checks.
 */
static void exec_wrapped(const char *program, const char *name, char **env)
{
	static char wrapper[1024];
	char *argv[32], *save = NULL;
	const char *w = getenv("LANESHIM_TEST_WRAPPER");
	size_t n = 0;

	if (w != NULL && strlen(w) < sizeof(wrapper)) {
		strcpy(wrapper, w);
		for (char *a = strtok_r(wrapper, " ", &save); a != NULL && n < 28; a = strtok_r(NULL, " ", &save))
			argv[n++] = a;
	}
	argv[n++] = (char *)program;
	argv[n++] = "--child";
	argv[n++] = (char *)name;
	argv[n] = NULL;
	execvpe(argv[0], argv, env);
}

static pid_t spawn(const struct test_case *c, const char *dir, bool plain)
{
	char program_buf[PATH_MAX];
	const char *program = case_program(c, dir, program_buf, sizeof(program_buf));
	static char bufs[8][PATH_MAX + 64];
	char *env[ENV_MAX], out[PATH_MAX], err[PATH_MAX];
	const char *prefix = getenv("LANESHIM_TEST_PRELOAD");
	size_t n = base_env(env);
	pid_t pid;

	if (!plain)
		env_setf(env, &n, bufs[0], sizeof(bufs[0]), "LD_PRELOAD=%s%s%s", prefix ? prefix : "",
			 prefix ? ":" : "", shim_path);
	else
		env_set(env, &n, "LANESHIM_TEST_BARE=1");
	env_setf(env, &n, bufs[1], sizeof(bufs[1]), "LANESHIM_AGENT=%s", agent_path);
	env_setf(env, &n, bufs[2], sizeof(bufs[2]), "LANESHIM_CONFIG=%s/client.conf", dir);
	env_setf(env, &n, bufs[3], sizeof(bufs[3]), "LANESHIM_LOG_FILE=%s/shim.log", dir);
	env_setf(env, &n, bufs[4], sizeof(bufs[4]), "FAKE_AGENT_LOG=%s/agent.log", dir);
	env_setf(env, &n, bufs[5], sizeof(bufs[5]), "LANESHIM_TEST_DIR=%s", dir);
	env_set(env, &n, "LANESHIM_LOG=debug");
	/*
	 * The agent loads in a thread of its own and a connect waits for it at most the deadline: under sanitizers,
	 * valgrind or a loaded machine that can take longer than the 20 ms default, and the first flows would get their
	 * lanes late. Cases test what the agent did, not how fast it loaded, so they wait longer unless they say.
	 */
	env_setf(env, &n, bufs[6], sizeof(bufs[6]), "LANESHIM_DEADLINE_MS=%s",
		 getenv("LANESHIM_TEST_DEADLINE_MS") != NULL ? getenv("LANESHIM_TEST_DEADLINE_MS") : "2000");
	env_set(env, &n, "FAKE_AGENT_MODE=ok");
	for (int i = 0; i < CASE_ENV_MAX && c->env[i] != NULL; i++)
		env_set(env, &n, c->env[i]);
	env[n] = NULL;
	snprintf(out, sizeof(out), "%s/stdout", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
		    e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (program != NULL)
			exec_wrapped(program, c->name, env);
		_exit(127);
	}
	return pid;
}

static int wait_child(pid_t pid, int *status)
{
	struct timespec tick = {.tv_nsec = 5 * 1000000L};
	double deadline = now_ms() + timeout_s() * 1000.0;

	while (waitpid(pid, status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return failf("timed out after %d s", timeout_s());
		}
		nanosleep(&tick, NULL);
	}
	return PASS;
}

/* The child's own message, else how it ended. */
static int child_result(const char *dir, int status)
{
	char path[PATH_MAX], *err, *mark, *nl;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : FAIL;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	err = slurp(path);
	mark = err != NULL ? strstr(err, MARK) : NULL;
	if (mark != NULL) {
		mark += strlen(MARK);
		nl = strchr(mark, '\n');
		snprintf(reason, sizeof(reason), "%.*s", (int)(nl ? nl - mark : (long)strlen(mark)), mark);
	} else if (code == WRAPPER_ERROR) {
		snprintf(reason, sizeof(reason), "%s reported errors (see stderr)", getenv("LANESHIM_TEST_WRAPPER"));
	} else if (WIFSIGNALED(status)) {
		snprintf(reason, sizeof(reason), "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	} else {
		snprintf(reason, sizeof(reason), "exit status %d", code);
	}
	free(err);
	return code == PASS || code == SKIP ? code : FAIL;
}

static int check_output(const struct test_case *c, const char *dir)
{
	char path[PATH_MAX], *out, *err;
	const char *want = c->stdout_expect ? c->stdout_expect : "";
	int rc = PASS;

	snprintf(path, sizeof(path), "%s/stdout", dir);
	out = slurp(path);
	snprintf(path, sizeof(path), "%s/stderr", dir);
	err = slurp(path);
	if (out == NULL || strcmp(out, want) != 0)
		rc = failf("stdout is \"%.60s\", want \"%s\"", out ? out : "(unreadable)", want);
	else if (c->stderr_has != NULL && (err == NULL || strstr(err, c->stderr_has) == NULL))
		rc = failf("stderr does not contain \"%s\"", c->stderr_has);
	free(out);
	free(err);
	return rc;
}

static int run_child(const struct test_case *c, bool plain)
{
	char dir[] = "/tmp/laneshim-test.XXXXXX";
	int status = 0, rc;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		return failf("mkdtemp: %s", strerror(errno));
	if (c->config != NULL)
		write_file(dir, "client.conf", c->config);
	pid = spawn(c, dir, plain);
	if (pid < 0)
		return failf("fork: %s", strerror(errno));
	rc = wait_child(pid, &status);
	if (rc == PASS)
		rc = child_result(dir, status);
	if (rc == PASS)
		rc = check_output(c, dir);
	if (rc == FAIL) {
		size_t len = strlen(reason);

		snprintf(reason + len, sizeof(reason) - len, "%s (files kept in %s)",
			 plain ? " [without the shim]" : "", dir);
	} else {
		remove_dir(dir);
	}
	return rc;
}

static int run_case(const struct test_case *c)
{
	int rc;

	reason[0] = '\0';
	if (c->tester != NULL)
		return c->tester();
	rc = run_child(c, false);
	if (rc == PASS && c->bare_too)
		rc = run_child(c, true);
	return rc;
}

static void find_files(void)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	const char *env;
	char dir[PATH_MAX];

	self_path[n > 0 ? n : 0] = '\0';
	snprintf(dir, sizeof(dir), "%s", self_path);
	if (strrchr(dir, '/') != NULL)
		*strrchr(dir, '/') = '\0';
	env = getenv("LANESHIM_TEST_SHIM");
	snprintf(shim_path, sizeof(shim_path), "%s", env ? env : "");
	if (env == NULL)
		snprintf(shim_path, sizeof(shim_path), "%.*s/../liblaneshim.so", PATH_MAX - 32, dir);
	env = getenv("LANESHIM_TEST_AGENT");
	snprintf(agent_path, sizeof(agent_path), "%s", env ? env : "");
	if (env == NULL)
		snprintf(agent_path, sizeof(agent_path), "%.*s/libfake-agent.so", PATH_MAX - 32, dir);
	snprintf(dump_path, sizeof(dump_path), "%.*s/abi_dump", PATH_MAX - 32, dir);
}

/* A case that expects silence from the agent proves nothing if the shim is not even there. */
static bool shim_loaded(void)
{
	char *maps = slurp("/proc/self/maps");
	bool found = maps != NULL && strstr(maps, "/liblaneshim.so") != NULL;

	free(maps);
	return found;
}

static bool selected(const char *name, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return true;
	}
	return argc < 2;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		if (!bare() && !shim_loaded())
			child_fail("liblaneshim.so is not loaded in the child (LD_PRELOAD=%s)", getenv("LD_PRELOAD"));
		for (size_t i = 0; i < CASES_COUNT; i++) {
			if (strcmp(cases[i].name, argv[2]) == 0 && cases[i].child != NULL)
				return cases[i].child();
		}
		child_fail("no case named %s", argv[2]);
	}
	find_files();
	for (size_t i = 0; i < CASES_COUNT; i++) {
		int rc;

		if (cases[i].helper || !selected(cases[i].name, argc, argv))
			continue;
		rc = run_case(&cases[i]);
		if (rc == PASS)
			printf("PASS %s\n", cases[i].name), passed++;
		else if (rc == SKIP)
			printf("SKIP %s: %s\n", cases[i].name, reason), skipped++;
		else
			printf("FAIL %s: %s\n", cases[i].name, reason), failed++;
		fflush(stdout);
	}
	if (skipped > 0)
		printf("%d skipped\n", skipped);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
