/* config.c - the client configuration: the config file, then LANESHIM_* variables, read once on first use. */
#include "laneshim.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BROKER      "unix:/run/laneshim/broker.sock"
#define DEFAULT_CONFIG      "/etc/laneshim/client.conf"
#define DEFAULT_DEADLINE_MS 20
#define MAX_DEADLINE_MS     10000
#define AGENT_FILE          "liblaneshim-agent.so"
#define CONFIG_FILE_MAX     65536
#define NOTES_MAX           16
#define NOTE_MAX            256
#define ERR_MAX             128

/* Everything here is written once, inside config_once; static so no hook uses much stack. */
static struct laneshim_config config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static char file_text[CONFIG_FILE_MAX + 1];
static char notes[NOTES_MAX][NOTE_MAX];
static unsigned notes_count;

/* Problems are kept until the log itself is configured, then written once each. */
static void note(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const char *where, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (notes_count < NOTES_MAX) {
		n = snprintf(notes[notes_count], NOTE_MAX, "%s: ", where);
		va_start(ap, fmt);
		vsnprintf(notes[notes_count] + n, (size_t)(NOTE_MAX - n), fmt, ap);
		va_end(ap);
	}
	notes_count++;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static bool parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool copy_string(char *dst, size_t size, const char *v)
{
	size_t len = strlen(v);

	if (len >= size)
		return false;
	memcpy(dst, v, len + 1);
	return true;
}

bool laneshim_cidr_parse(const char *text, size_t len, struct laneshim_cidr *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned long prefix;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return false;
	prefix = out->family == AF_INET ? 32 : 128;
	if (slash && !parse_uint(slash, 0, prefix, &prefix))
		return false;
	out->prefix = (uint16_t)prefix;
	/* ::ffff:a.b.c.d/n is the IPv4 prefix a.b.c.d/(n-96): destinations are matched the same way. */
	if (out->family == AF_INET6 && prefix >= 96 && memcmp(out->addr, mapped, 12) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = AF_INET;
		out->prefix = (uint16_t)(prefix - 96);
	}
	return true;
}

/* Setters: true when the value was taken; otherwise err says why and the old value stays. */
typedef bool (*setter_fn)(struct laneshim_config *c, const char *v, char *err);

static void add_endpoint(struct laneshim_config *c, int family, const char *host, unsigned long port)
{
	struct laneshim_endpoint *ep = &c->broker_endpoint[c->broker_count];

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(family, host, ep->addr) != 1)
		return;
	ep->family = (uint16_t)family;
	ep->port = (uint16_t)port;
	c->broker_count++;
}

/* http(s)://host[:port][/...]: numeric hosts (and localhost) become endpoints that skip the agent. */
static bool parse_http_broker(struct laneshim_config *c, const char *v, char *err)
{
	char host[INET6_ADDRSTRLEN + 1], portbuf[8];
	bool tls = strncmp(v, "https://", 8) == 0;
	const char *p = v + (tls ? strlen("https://") : strlen("http://")), *end;
	unsigned long port = tls ? 443 : 80;
	size_t n;

	end = *p == '[' ? strchr(p, ']') : p + strcspn(p, ":/");
	if (end == NULL || end == p)
		return snprintf(err, ERR_MAX, "no host in '%.64s'", v), false;
	n = (size_t)(end - p) - (*p == '[');
	if (*p == '[')
		p++, end++;
	if (n == 0 || n >= sizeof(host))
		return snprintf(err, ERR_MAX, "bad host in '%.64s'", v), false;
	memcpy(host, p, n);
	host[n] = '\0';
	if (*end == ':') {
		size_t plen = strcspn(end + 1, "/");

		if (plen >= sizeof(portbuf))
			return snprintf(err, ERR_MAX, "bad port in '%.64s'", v), false;
		memcpy(portbuf, end + 1, plen);
		portbuf[plen] = '\0';
		if (!parse_uint(portbuf, 1, 65535, &port))
			return snprintf(err, ERR_MAX, "bad port in '%.64s'", v), false;
	}
	c->broker_count = 0;
	if (strcmp(host, "localhost") == 0) {
		add_endpoint(c, AF_INET, "127.0.0.1", port);
		add_endpoint(c, AF_INET6, "::1", port);
	} else {
		add_endpoint(c, strchr(host, ':') ? AF_INET6 : AF_INET, host, port);
	}
	return true;
}

static bool set_broker(struct laneshim_config *c, const char *v, char *err)
{
	if (strlen(v) >= sizeof(c->broker))
		return snprintf(err, ERR_MAX, "too long"), false;
	if (strncmp(v, "unix:", 5) == 0 && v[5] != '\0')
		c->broker_count = 0;
	else if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		return snprintf(err, ERR_MAX, "expected unix:/path or http(s)://host:port, got '%.48s'", v), false;
	else if (!parse_http_broker(c, v, err))
		return false;
	return copy_string(c->broker, sizeof(c->broker), v);
}

static bool set_disable(struct laneshim_config *c, const char *v, char *err)
{
	if (!parse_bool(v, &c->disabled))
		return snprintf(err, ERR_MAX, "expected 1/true/yes or 0/false/no, got '%.64s'", v), false;
	return true;
}

static bool set_include_loopback(struct laneshim_config *c, const char *v, char *err)
{
	if (!parse_bool(v, &c->include_loopback))
		return snprintf(err, ERR_MAX, "expected 1/true/yes or 0/false/no, got '%.64s'", v), false;
	return true;
}

static bool set_agent_start(struct laneshim_config *c, const char *v, char *err)
{
	static const char *const names[] = {"auto", "thread", "inline"};

	for (int i = 0; i < 3; i++) {
		if (strcasecmp(v, names[i]) == 0) {
			c->agent_start = i;
			return true;
		}
	}
	return snprintf(err, ERR_MAX, "expected auto, thread or inline, got '%.64s'", v), false;
}

static bool set_log(struct laneshim_config *c, const char *v, char *err)
{
	static const char *const names[] = {"off", "error", "info", "debug"};
	unsigned long n;

	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, names[i]) == 0)
			return c->log_level = i, true;
	}
	if (!parse_uint(v, 0, 3, &n))
		return snprintf(err, ERR_MAX, "expected 0..3 or off|error|info|debug, got '%.64s'", v), false;
	c->log_level = (int)n;
	return true;
}

static bool set_log_file(struct laneshim_config *c, const char *v, char *err)
{
	if (!copy_string(c->log_file, sizeof(c->log_file), v))
		return snprintf(err, ERR_MAX, "path too long"), false;
	return true;
}

static bool set_deadline(struct laneshim_config *c, const char *v, char *err)
{
	unsigned long n;

	if (!parse_uint(v, 1, MAX_DEADLINE_MS, &n))
		return snprintf(err, ERR_MAX, "expected milliseconds 1..%d, got '%.64s'", MAX_DEADLINE_MS, v), false;
	c->deadline_ms = (uint32_t)n;
	return true;
}

/* A list adds to the excludes already known: a variable can exclude more, never less. */
static bool set_exclude(struct laneshim_config *c, const char *v, char *err)
{
	static const char seps[] = ", \t";
	bool ok = true;

	for (v += strspn(v, seps); *v != '\0'; v += strspn(v, seps)) {
		size_t len = strcspn(v, seps);
		struct laneshim_cidr cidr;

		if (!laneshim_cidr_parse(v, len, &cidr)) {
			if (ok)
				snprintf(err, ERR_MAX, "bad CIDR '%.*s'", (int)(len > 64 ? 64 : len), v);
			ok = false;
		} else if (c->exclude_count < LANESHIM_EXCLUDE_MAX) {
			c->exclude[c->exclude_count++] = cidr;
		} else if (ok) {
			snprintf(err, ERR_MAX, "more than %d prefixes", LANESHIM_EXCLUDE_MAX);
			ok = false;
		}
		v += len;
	}
	return ok;
}

/* Lists add up over file lines and variables; deny_programs wins over allow_programs (scope.c). */
static bool add_patterns(struct laneshim_patterns *list, const char *v, char *err)
{
	static const char seps[] = ", \t";
	bool ok = true;

	for (v += strspn(v, seps); *v != '\0'; v += strspn(v, seps)) {
		size_t len = strcspn(v, seps);

		if (!laneshim_glob_valid(v, len)) {
			if (ok)
				snprintf(err, ERR_MAX, "bad glob '%.*s' (unclosed '[')", (int)(len > 64 ? 64 : len), v);
			ok = false;
		} else if (list->used + len + 1 <= sizeof(list->text)) {
			memcpy(list->text + list->used, v, len);
			list->text[list->used + len] = '\0';
			list->used += (unsigned)len + 1;
			list->count++;
		} else if (ok) {
			snprintf(err, ERR_MAX, "more than %zu bytes of globs", sizeof(list->text));
			ok = false;
		}
		v += len;
	}
	return ok;
}

static bool set_allow_programs(struct laneshim_config *c, const char *v, char *err)
{
	return add_patterns(&c->allow_programs, v, err);
}

static bool set_deny_programs(struct laneshim_config *c, const char *v, char *err)
{
	return add_patterns(&c->deny_programs, v, err);
}

static bool set_default_excludes(struct laneshim_config *c, const char *v, char *err)
{
	if (!parse_bool(v, &c->default_excludes))
		return snprintf(err, ERR_MAX, "expected 1/true/yes or 0/false/no, got '%.64s'", v), false;
	return true;
}

static bool set_disable_file(struct laneshim_config *c, const char *v, char *err)
{
	if (*v != '/' || !copy_string(c->disable_file, sizeof(c->disable_file), v))
		return snprintf(err, ERR_MAX, "expected an absolute path, got '%.64s'", v), false;
	return true;
}

static bool set_agent(struct laneshim_config *c, const char *v, char *err)
{
	if (!copy_string(c->agent, sizeof(c->agent), v))
		return snprintf(err, ERR_MAX, "path too long"), false;
	return true;
}

static const struct option {
	const char *key;
	const char *env;
	setter_fn set;
} options[] = {
	{"broker", "LANESHIM_BROKER", set_broker},
	{"disable", "LANESHIM_DISABLE", set_disable},
	{"log", "LANESHIM_LOG", set_log},
	{"log_file", "LANESHIM_LOG_FILE", set_log_file},
	{"deadline_ms", "LANESHIM_DEADLINE_MS", set_deadline},
	{"include_loopback", "LANESHIM_INCLUDE_LOOPBACK", set_include_loopback},
	{"exclude", "LANESHIM_EXCLUDE", set_exclude},
	{"agent", "LANESHIM_AGENT", set_agent},
	{"allow_programs", "LANESHIM_ALLOW_PROGRAMS", set_allow_programs},
	{"deny_programs", "LANESHIM_DENY_PROGRAMS", set_deny_programs},
	{"default_excludes", "LANESHIM_DEFAULT_EXCLUDES", set_default_excludes},
	{"disable_file", "LANESHIM_DISABLE_FILE", set_disable_file},
	{"agent_start", "LANESHIM_AGENT_START", set_agent_start},
};
#define OPTIONS_COUNT (sizeof(options) / sizeof(options[0]))

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t\r");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static void parse_line(struct laneshim_config *c, const char *path, unsigned line, char *text)
{
	static char where[PATH_MAX + 16]; /* static: this may run on a small thread stack */
	char err[ERR_MAX];
	char *eq, *key, *value;
	size_t i;

	text = trim(text);
	if (*text == '\0' || *text == '#')
		return;
	snprintf(where, sizeof(where), "%s:%u", path, line);
	eq = strchr(text, '=');
	if (eq == NULL) {
		note(where, "expected 'key = value'");
		return;
	}
	*eq = '\0';
	key = trim(text);
	value = trim(eq + 1);
	for (i = 0; i < OPTIONS_COUNT && strcmp(key, options[i].key) != 0; i++)
		;
	if (i == OPTIONS_COUNT)
		note(where, "unknown key '%.64s'", key);
	else if (!options[i].set(c, value, err))
		note(where, "%s: %s", key, err);
}

/* Reads the file if it is a regular file (and, for setuid programs, one only root can change). */
static void read_file(struct laneshim_config *c, const char *path, bool secure)
{
	/* O_NONBLOCK: opening a FIFO must not block the host program. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t len = 0;
	struct stat st;
	unsigned line = 1;
	char *p;

	if (fd < 0) {
		if (errno != ENOENT)
			note(path, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		note(path, "not a regular file; ignored");
		goto out;
	}
	if (secure && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		note(path, "not owned by root or writable by others; ignored in a setuid program");
		goto out;
	}
	while (len < CONFIG_FILE_MAX) {
		ssize_t n = read(fd, file_text + len, CONFIG_FILE_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	file_text[len] = '\0';
	for (p = file_text; *p != '\0'; line++) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		parse_line(c, path, line, p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
out:
	laneshim_real_close(fd);
}

static void read_env(struct laneshim_config *c)
{
	char err[ERR_MAX];

	for (size_t i = 0; i < OPTIONS_COUNT; i++) {
		const char *v = getenv(options[i].env);

		/* An empty variable counts as unset, like most shells' `VAR= cmd` habits expect. */
		if (v != NULL && *v != '\0' && !options[i].set(c, v, err))
			note(options[i].env, "%s", err);
	}
}

/* The agent lives next to liblaneshim.so unless configured otherwise. */
static void default_agent(struct laneshim_config *c)
{
	Dl_info info;
	const char *slash = NULL;

	if (dladdr((void *)laneshim_config, &info) != 0 && info.dli_fname != NULL)
		slash = strrchr(info.dli_fname, '/');
	if (slash == NULL)
		snprintf(c->agent, sizeof(c->agent), "%s", AGENT_FILE);
	else
		snprintf(c->agent, sizeof(c->agent), "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname,
			 AGENT_FILE);
}

static void load(void)
{
	bool secure = getauxval(AT_SECURE) != 0;
	const char *path = secure ? NULL : getenv("LANESHIM_CONFIG");
	int saved = errno;
	static char exe[PATH_MAX], why[160]; /* static: this may run on a small thread stack */

	/* A hook called from a signal handler while we are here must not wait on config_once. */
	laneshim_guard++;
	copy_string(config.broker, sizeof(config.broker), DEFAULT_BROKER);
	config.deadline_ms = DEFAULT_DEADLINE_MS;
	config.default_excludes = true;
	read_file(&config, path != NULL && *path != '\0' ? path : DEFAULT_CONFIG, secure);
	if (!secure)
		read_env(&config);
	if (config.agent[0] == '\0')
		default_agent(&config);
	laneshim_log_setup(config.log_level, config.log_file);
	for (unsigned i = 0; i < notes_count && i < NOTES_MAX; i++)
		laneshim_log(LANESHIM_LOG_ERROR, "%s", notes[i]);
	if (notes_count > NOTES_MAX)
		laneshim_log(LANESHIM_LOG_ERROR, "%u more configuration problems", notes_count - NOTES_MAX);
	/* Decided once, here: the program cannot change without an exec, which reads the config anew. */
	config.out_of_scope = !laneshim_scope_program(&config, exe, sizeof(exe), why, sizeof(why));
	if (config.out_of_scope)
		laneshim_log(LANESHIM_LOG_INFO, "%s: not in scope (%s); passing every call through",
			     exe[0] != '\0' ? exe : "this program", why);
	laneshim_guard--;
	errno = saved;
}

const struct laneshim_config *laneshim_config(void)
{
	pthread_once(&config_once, load);
	return &config;
}
