/* rng.h - a small seeded generator (SplitMix64) so a --seed replays the same loss pattern. */
#ifndef LANESHIM_LINKEMU_RNG_H
#define LANESHIM_LINKEMU_RNG_H

#include <stdint.h>

struct laneshim_rng {
	uint64_t state;
};

static inline uint64_t laneshim_rng_next(struct laneshim_rng *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Independent streams per direction from one user seed. */
static inline void laneshim_rng_seed(struct laneshim_rng *g, uint64_t seed, uint64_t stream)
{
	struct laneshim_rng mix = {seed ^ (stream * 0xd1342543de82ef95u)};

	g->state = laneshim_rng_next(&mix);
}

#endif
