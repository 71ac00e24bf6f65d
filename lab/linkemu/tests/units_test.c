/* units_test.c - table-driven checks of the command-line unit parsers. */
#include "units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum kind { DURATION, RATE, SIZE, PROBABILITY };

struct unit_case {
	enum kind kind;
	const char *input;
	int ok;
	double want; /* ns, bit/s, bytes (or BDP multiple for "bdp"), probability */
};

static const struct unit_case cases[] = {
	{DURATION, "20ms", 1, 20e6},
	{DURATION, "20", 1, 20e6},
	{DURATION, "1.5s", 1, 1.5e9},
	{DURATION, "250us", 1, 250e3},
	{DURATION, "7ns", 1, 7},
	{DURATION, "0", 1, 0},
	{DURATION, "20 ms", 0, 0},
	{DURATION, "-1ms", 0, 0},
	{DURATION, "ms", 0, 0},
	{DURATION, "2h", 0, 0},
	{DURATION, "", 0, 0},
	{DURATION, "nan", 0, 0},
	{RATE, "1gbit", 1, 1e9},
	{RATE, "100mbit", 1, 100e6},
	{RATE, "1.5Gbit", 1, 1.5e9},
	{RATE, "64kbit", 1, 64e3},
	{RATE, "0", 1, 0},
	{RATE, "unlimited", 1, 0},
	{RATE, "1000000", 1, 1e6},
	{RATE, "1g", 1, 1e9},
	{RATE, "100mbps", 0, 0},
	{RATE, "10bps", 0, 0},
	{RATE, "5furlongs", 0, 0},
	{RATE, "999", 0, 0},
	{SIZE, "8MB", 1, 8388608},
	{SIZE, "512k", 1, 524288},
	{SIZE, "1500", 1, 1500},
	{SIZE, "1500b", 1, 1500},
	{SIZE, "1GiB", 1, 1073741824.0},
	{SIZE, "2bdp", 1, 2},
	{SIZE, "0bdp", 0, 0},
	{SIZE, "8MBs", 0, 0},
	{SIZE, "-5k", 0, 0},
	{PROBABILITY, "0.01%", 1, 1e-4},
	{PROBABILITY, "0.0001", 1, 1e-4},
	{PROBABILITY, "100%", 1, 1},
	{PROBABILITY, "1", 1, 1},
	{PROBABILITY, "2", 0, 0},
	{PROBABILITY, "101%", 0, 0},
	{PROBABILITY, "1 %", 0, 0},
	{PROBABILITY, "x", 0, 0},
};

int main(void)
{
	int n = (int)(sizeof(cases) / sizeof(cases[0])), failures = 0;

	for (int i = 0; i < n; i++) {
		const struct unit_case *c = &cases[i];
		char why[256] = "";
		uint64_t u = 0;
		double d = 0, got = 0;
		int err = 0;

		switch (c->kind) {
		case DURATION:
			err = laneshim_parse_duration(c->input, &u, why, sizeof(why));
			got = (double)u;
			break;
		case RATE:
			err = laneshim_parse_rate(c->input, &u, why, sizeof(why));
			got = (double)u;
			break;
		case SIZE:
			err = laneshim_parse_size(c->input, &u, &d, why, sizeof(why));
			got = d > 0 ? d : (double)u;
			break;
		case PROBABILITY:
			err = laneshim_parse_probability(c->input, &d, why, sizeof(why));
			got = d;
			break;
		}
		if ((err == 0) != c->ok || (c->ok && fabs(got - c->want) > 1e-9 * (c->want + 1))) {
			fprintf(stderr, "FAIL '%s': ok=%d got=%.12g (%s), want ok=%d %.12g\n", c->input, err == 0, got,
				why, c->ok, c->want);
			failures++;
		} else if (!c->ok && why[0] == '\0') {
			fprintf(stderr, "FAIL '%s': rejected without a reason\n", c->input);
			failures++;
		}
	}
	printf("units_test: %d cases, %d failed\n", n, failures);
	return failures == 0 ? 0 : 1;
}
