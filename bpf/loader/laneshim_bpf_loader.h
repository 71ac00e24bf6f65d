/* laneshim_bpf_loader.h - the broker's door to libbpf: load, pin, attach, detach the lane path's programs, write its
 * maps and read its ring buffer. Called from C# (src/LaneShim.Broker/Bpf/BpfNative.cs); errors are negative errno. */
#ifndef LANESHIM_BPF_LOADER_H
#define LANESHIM_BPF_LOADER_H

#include "../laneshim_bpf.h"

#define LANESHIM_API __attribute__((visibility("default")))

/* The maps, by number (laneshim_bpf_update/delete/lookup). */
enum laneshim_bpf_map_id {
	LANESHIM_BPF_MAP_PREFIXES = 0,
	LANESHIM_BPF_MAP_RULES = 1,
	LANESHIM_BPF_MAP_CLASSES = 2,
	LANESHIM_BPF_MAP_CONFIG = 3,
	LANESHIM_BPF_MAP_VERDICTS = 4,
	LANESHIM_BPF_MAP_COUNT = 5,
};

struct laneshim_bpf;

/* Mounts bpffs at path unless one is there. 0, or -errno. */
LANESHIM_API int laneshim_bpf_ensure_bpffs(const char *path);

/* Opens and loads the object file; pins its maps under pin_dir (created; NULL: no pins). On failure *out is NULL
 * and err holds libbpf's reason. */
LANESHIM_API int laneshim_bpf_open(const char *object_path, const char *pin_dir, struct laneshim_bpf **out, char *err,
				   int err_len);

/* Attaches the three programs to the cgroup v2 directory as links owned by this process (they go when it dies).
 * Returns an attachment number >= 0, or -errno. */
LANESHIM_API int laneshim_bpf_attach(struct laneshim_bpf *h, const char *cgroup_path, char *err, int err_len);

/* Detaches one attachment. 0 or -errno. */
LANESHIM_API int laneshim_bpf_detach(struct laneshim_bpf *h, int attachment);

LANESHIM_API int laneshim_bpf_update(struct laneshim_bpf *h, int map, const void *key, const void *value);
LANESHIM_API int laneshim_bpf_delete(struct laneshim_bpf *h, int map, const void *key);
LANESHIM_API int laneshim_bpf_lookup(struct laneshim_bpf *h, int map, const void *key, void *value);

/* Waits up to timeout_ms for events; copies up to max of them. Returns how many, or -errno. */
LANESHIM_API int laneshim_bpf_poll(struct laneshim_bpf *h, struct laneshim_bpf_event *events, int max, int timeout_ms);

/* sizeof of the shared structs, for the C# side's layout check. */
LANESHIM_API int laneshim_bpf_sizeof(int which);

/* Detaches everything, unpins the maps, removes pin_dir and frees. */
LANESHIM_API void laneshim_bpf_close(struct laneshim_bpf *h);

#endif
