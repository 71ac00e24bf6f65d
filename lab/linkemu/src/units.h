/* units.h - parses the numbers-with-units the command line takes: durations, rates, sizes, probabilities. */
#ifndef LANESHIM_LINKEMU_UNITS_H
#define LANESHIM_LINKEMU_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0, or -EINVAL with a reason a human can act on written to why. */

/* "20ms", "1.5s", "250us", "100ns"; a bare number is milliseconds. */
int laneshim_parse_duration(const char *s, uint64_t *ns, char *why, size_t whylen);

/* "1gbit", "100mbit", "64kbit", "1000000" (bit/s, SI prefixes); 0 or "unlimited" means no limit. */
int laneshim_parse_rate(const char *s, uint64_t *bits_per_s, char *why, size_t whylen);

/*
 * "8MB", "512k", "1500b", "1500" (bytes, binary prefixes as in tc(8)), or "2bdp": a multiple of the
 * direction's bandwidth-delay product, returned in bdp_multiple (then bytes is 0).
 */
int laneshim_parse_size(const char *s, uint64_t *bytes, double *bdp_multiple, char *why, size_t whylen);

/* "0.01%" or "0.0001": a probability in [0, 1]. */
int laneshim_parse_probability(const char *s, double *p, char *why, size_t whylen);

/* Unsigned decimal integer in [min, max]. */
int laneshim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *why, size_t whylen);

/* Human forms for the startup summary: "20ms", "1gbit", "8MiB". */
void laneshim_format_duration(uint64_t ns, char *buf, size_t len);
void laneshim_format_rate(uint64_t bits_per_s, char *buf, size_t len);
void laneshim_format_size(uint64_t bytes, char *buf, size_t len);

#endif
