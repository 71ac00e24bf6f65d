/* floor_minimal.c - the least a preload library can be: one symbol, no libc, no code run at load, two mappings. */
int laneshim_bench_floor_minimal;
