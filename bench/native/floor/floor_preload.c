/* floor_preload.c - a preload library that does nothing, linked like the shim: the cost of any LD_PRELOAD on this host.
 */
int laneshim_bench_floor_marker(void);

int laneshim_bench_floor_marker(void)
{
	return 0;
}
