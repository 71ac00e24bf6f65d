/* packet_ring_test.c - checks the packet ring against a plain FIFO model under random push/pop sequences. */
#include "packet_ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct model_entry {
	uint32_t len;
	uint64_t due;
	unsigned char fill;
};

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
			return;                                              \
		}                                                            \
	} while (0)

struct ring_case {
	const char *name;
	size_t cap;
	size_t max_len;
	uint32_t min_len, max_pkt;
	int push_percent; /* chance of a push rather than a pop at each step */
	int steps;
};

static void run_case(const struct ring_case *tc, unsigned seed)
{
	struct laneshim_packet_ring r;
	struct model_entry *model = calloc(1000000, sizeof(*model));
	size_t mhead = 0, mtail = 0;
	uint64_t due = 0;
	int pushes = 0, fulls = 0;

	srand(seed);
	CHECK(laneshim_packet_ring_init(&r, tc->cap, tc->max_len) == 0, "%s: init", tc->name);
	for (int step = 0; step < tc->steps; step++) {
		if (rand() % 100 < tc->push_percent) {
			unsigned char *slot = laneshim_packet_ring_reserve(&r);
			uint32_t len = tc->min_len + (uint32_t)rand() % (tc->max_pkt - tc->min_len + 1);
			unsigned char fill = (unsigned char)rand();

			if (slot == NULL) {
				/* An empty ring always has room for one max_len record. */
				CHECK(r.used > 0, "%s: reserve failed on an empty ring", tc->name);
				fulls++;
				continue;
			}
			/* Every third reservation is abandoned, like a dropped packet. */
			if (rand() % 3 == 0)
				continue;
			memset(slot, fill, len);
			laneshim_packet_ring_commit(&r, len, ++due);
			model[mtail++] = (struct model_entry){len, due, fill};
			pushes++;
			CHECK(r.used <= r.cap, "%s: used %zu > cap %zu", tc->name, r.used, r.cap);
		} else {
			const struct laneshim_packet *p = laneshim_packet_ring_peek(&r);

			if (mhead == mtail) {
				CHECK(p == NULL, "%s: ring has a packet the model does not", tc->name);
				continue;
			}
			CHECK(p != NULL, "%s: ring empty, model has %zu", tc->name, mtail - mhead);
			CHECK(p->len == model[mhead].len && p->due_ns == model[mhead].due,
			      "%s: step %d got len %u due %llu, want len %u due %llu", tc->name, step, p->len,
			      (unsigned long long)p->due_ns, model[mhead].len, (unsigned long long)model[mhead].due);
			for (uint32_t i = 0; i < p->len; i++)
				CHECK(p->data[i] == model[mhead].fill, "%s: data corrupted at byte %u", tc->name, i);
			laneshim_packet_ring_pop(&r);
			mhead++;
		}
		CHECK(r.packets == mtail - mhead, "%s: packets %llu, model %zu", tc->name,
		      (unsigned long long)r.packets, mtail - mhead);
	}
	while (mhead < mtail) {
		const struct laneshim_packet *p = laneshim_packet_ring_peek(&r);

		CHECK(p != NULL && p->due_ns == model[mhead].due, "%s: drain order", tc->name);
		laneshim_packet_ring_pop(&r);
		mhead++;
	}
	CHECK(laneshim_packet_ring_peek(&r) == NULL && r.used == 0, "%s: not empty after drain (used %zu)", tc->name,
	      r.used);
	CHECK(pushes > 0 && (tc->push_percent < 60 || fulls > 0), "%s: %d pushes, %d fulls: case too weak", tc->name,
	      pushes, fulls);
	laneshim_packet_ring_free(&r);
	free(model);
}

int main(void)
{
	static const struct ring_case cases[] = {
		{"small packets, mostly empty", 1 << 16, 1500, 40, 100, 50, 200000},
		{"jumbo packets, often full", 1 << 16, 9000, 1000, 9000, 70, 200000},
		{"mixed sizes, wraps a lot", 40000, 9000, 40, 9000, 65, 200000},
		{"exactly two records", 2 * ((16 + 9000 + 15) & ~15), 9000, 9000, 9000, 70, 100000},
		{"one record", (16 + 1500 + 15) & ~15, 1500, 1, 1500, 60, 100000},
	};
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	for (int i = 0; i < n; i++)
		for (unsigned seed = 1; seed <= 5; seed++)
			run_case(&cases[i], seed);
	printf("packet_ring_test: %d cases x 5 seeds, %d failed\n", n, failures);
	return failures == 0 ? 0 : 1;
}
