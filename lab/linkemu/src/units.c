/* units.c - number-with-unit parsing for the command line; strict, so a typo is an error, not a surprise. */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	double scale;
};

/* Splits "12.5ms" into 12.5 and "ms"; rejects empty, negative, NaN and infinite numbers. */
static int split_number(const char *s, double *value, const char **suffix, char *why, size_t whylen)
{
	char *end;

	if (s == NULL || *s == '\0') {
		snprintf(why, whylen, "empty value");
		return -EINVAL;
	}
	errno = 0;
	*value = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(*value) || *value < 0 || *s == '-' || *s == '+') {
		snprintf(why, whylen, "'%s' is not a non-negative number", s);
		return -EINVAL;
	}
	*suffix = end;
	return 0;
}

static int scale_by_unit(const char *s, const struct unit *units, size_t n, double value, const char *suffix,
			 double *out, const char *kind, const char *valid, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(suffix, units[i].name) == 0) {
			*out = value * units[i].scale;
			return 0;
		}
	}
	snprintf(why, whylen, "'%s': unknown %s unit '%s' (use %s)", s, kind, suffix, valid);
	return -EINVAL;
}

int laneshim_parse_duration(const char *s, uint64_t *ns, char *why, size_t whylen)
{
	static const struct unit units[] = {
		{"", 1e6}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9},
	};
	const char *suffix;
	double value, scaled;
	int err;

	err = split_number(s, &value, &suffix, why, whylen);
	if (err)
		return err;
	err = scale_by_unit(s, units, sizeof(units) / sizeof(units[0]), value, suffix, &scaled, "time",
			    "ns, us, ms or s", why, whylen);
	if (err)
		return err;
	/* An hour of one-way delay is not a link; it is also where the packet buffer stops being sane. */
	if (scaled > 3600e9) {
		snprintf(why, whylen, "'%s' is longer than an hour", s);
		return -EINVAL;
	}
	*ns = (uint64_t)(scaled + 0.5);
	return 0;
}

int laneshim_parse_rate(const char *s, uint64_t *bits_per_s, char *why, size_t whylen)
{
	static const struct unit units[] = {
		{"", 1},       {"bit", 1}, {"k", 1e3},    {"kbit", 1e3}, {"m", 1e6},
		{"mbit", 1e6}, {"g", 1e9}, {"gbit", 1e9}, {"t", 1e12},   {"tbit", 1e12},
	};
	const char *suffix;
	double value, scaled;
	size_t slen;
	int err;

	if (s != NULL && (strcasecmp(s, "unlimited") == 0 || strcasecmp(s, "none") == 0)) {
		*bits_per_s = 0;
		return 0;
	}
	err = split_number(s, &value, &suffix, why, whylen);
	if (err)
		return err;
	/* tc(8) reads "mbps" as megabytes per second, most people as megabits: refuse to guess. */
	slen = strlen(suffix);
	if (slen >= 3 && strcasecmp(suffix + slen - 3, "bps") == 0) {
		snprintf(why, whylen, "'%s': '%s' is ambiguous (bits or bytes?); write the rate in bits, e.g. 100mbit",
			 s, suffix);
		return -EINVAL;
	}
	err = scale_by_unit(s, units, sizeof(units) / sizeof(units[0]), value, suffix, &scaled, "rate",
			    "bit, kbit, mbit, gbit or tbit", why, whylen);
	if (err)
		return err;
	if (scaled > 1e13) {
		snprintf(why, whylen, "'%s' is above 10 tbit", s);
		return -EINVAL;
	}
	if (scaled != 0 && scaled < 1000) {
		snprintf(why, whylen, "'%s' is below 1 kbit (use 0 for unlimited)", s);
		return -EINVAL;
	}
	*bits_per_s = (uint64_t)(scaled + 0.5);
	return 0;
}

int laneshim_parse_size(const char *s, uint64_t *bytes, double *bdp_multiple, char *why, size_t whylen)
{
	static const struct unit units[] = {
		{"", 1},
		{"b", 1},
		{"k", 1024},
		{"kb", 1024},
		{"kib", 1024},
		{"m", 1048576},
		{"mb", 1048576},
		{"mib", 1048576},
		{"g", 1073741824.0},
		{"gb", 1073741824.0},
		{"gib", 1073741824.0},
	};
	const char *suffix;
	double value, scaled;
	int err;

	err = split_number(s, &value, &suffix, why, whylen);
	if (err)
		return err;
	if (strcasecmp(suffix, "bdp") == 0) {
		if (value <= 0 || value > 1000) {
			snprintf(why, whylen, "'%s': the BDP multiple must be in (0, 1000]", s);
			return -EINVAL;
		}
		*bytes = 0;
		*bdp_multiple = value;
		return 0;
	}
	err = scale_by_unit(s, units, sizeof(units) / sizeof(units[0]), value, suffix, &scaled, "size",
			    "b, k, m, g (1024-based) or bdp", why, whylen);
	if (err)
		return err;
	if (scaled > 64 * 1073741824.0) {
		snprintf(why, whylen, "'%s' is above 64 GiB", s);
		return -EINVAL;
	}
	*bytes = (uint64_t)(scaled + 0.5);
	*bdp_multiple = 0;
	return 0;
}

int laneshim_parse_probability(const char *s, double *p, char *why, size_t whylen)
{
	const char *suffix;
	double value;
	int err;

	err = split_number(s, &value, &suffix, why, whylen);
	if (err)
		return err;
	if (strcmp(suffix, "%") == 0) {
		value /= 100;
	} else if (*suffix != '\0') {
		snprintf(why, whylen, "'%s': write a percentage (0.01%%) or a fraction (0.0001)", s);
		return -EINVAL;
	}
	if (value > 1) {
		snprintf(why, whylen, "'%s' is above 100%%", s);
		return -EINVAL;
	}
	*p = value;
	return 0;
}

int laneshim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *why, size_t whylen)
{
	unsigned long long x;
	char *end;

	if (s == NULL || *s < '0' || *s > '9') {
		snprintf(why, whylen, "'%s' is not an unsigned integer", s ? s : "");
		return -EINVAL;
	}
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || x < min || x > max) {
		snprintf(why, whylen, "'%s' is not an integer in [%llu, %llu]", s, (unsigned long long)min,
			 (unsigned long long)max);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

void laneshim_format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000000 == 0 && ns != 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000));
	else if (ns % 1000000 == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
	else if (ns % 1000 == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

void laneshim_format_rate(uint64_t bps, char *buf, size_t len)
{
	if (bps == 0)
		snprintf(buf, len, "unlimited");
	else if (bps % 1000000000 == 0)
		snprintf(buf, len, "%llugbit", (unsigned long long)(bps / 1000000000));
	else if (bps % 1000000 == 0)
		snprintf(buf, len, "%llumbit", (unsigned long long)(bps / 1000000));
	else if (bps % 1000 == 0)
		snprintf(buf, len, "%llukbit", (unsigned long long)(bps / 1000));
	else
		snprintf(buf, len, "%llubit", (unsigned long long)bps);
}

void laneshim_format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= 1048576 && bytes % 1048576 == 0)
		snprintf(buf, len, "%lluMiB", (unsigned long long)(bytes / 1048576));
	else if (bytes >= 1048576)
		snprintf(buf, len, "%.2fMiB", bytes / 1048576.0);
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%lluKiB", (unsigned long long)(bytes / 1024));
	else if (bytes >= 1024)
		snprintf(buf, len, "%.2fKiB", bytes / 1024.0);
	else
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
}
