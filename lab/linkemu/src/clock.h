/* clock.h - the one clock the emulator uses: CLOCK_MONOTONIC in nanoseconds. */
#ifndef LANESHIM_LINKEMU_CLOCK_H
#define LANESHIM_LINKEMU_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t laneshim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline struct timespec laneshim_timespec(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};

	return ts;
}

#endif
