/* stats_file.h - the --stats JSON file: per-direction counters, replaced atomically. */
#ifndef LANESHIM_LINKEMU_STATS_FILE_H
#define LANESHIM_LINKEMU_STATS_FILE_H

#include "link_direction.h"
#include "options.h"

/* Writes path.tmp and renames it over path, so readers never see half a file. Returns 0 or -errno. */
int laneshim_stats_write(const char *path, const struct laneshim_options *o, const struct laneshim_link_direction *ab,
			 const struct laneshim_link_direction *ba, uint64_t started_ns, int final);

#endif
