// laneshim_bpf_loader.c - libbpf for the broker: the lane path's object loaded, its maps pinned and written, its
// programs attached to cgroups as links, its ring buffer drained into a caller's array.
#define _GNU_SOURCE
#include "laneshim_bpf_loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define MAX_ATTACHMENTS 64
#define PROGRAMS        3

static const char *const map_names[LANESHIM_BPF_MAP_COUNT] = {
	"laneshim_prefixes", "laneshim_rules", "laneshim_classes", "laneshim_config", "laneshim_verdicts",
};
static const char *const program_names[PROGRAMS] = {"laneshim_sockops", "laneshim_sock_create", "laneshim_setsockopt"};

struct laneshim_bpf {
	struct bpf_object *obj;
	struct ring_buffer *ring;
	int map_fds[LANESHIM_BPF_MAP_COUNT];
	struct bpf_link *links[MAX_ATTACHMENTS][PROGRAMS];
	char pin_dir[256];
	/* the poll callback's destination */
	struct laneshim_bpf_event *out;
	int out_max;
	int out_count;
};

static __thread char *log_buf;
static __thread int log_len;

static int print_to_buffer(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !log_buf || log_len <= 1)
		return 0;
	size_t used = strlen(log_buf);
	if (used + 1 >= (size_t)log_len)
		return 0;
	return vsnprintf(log_buf + used, (size_t)log_len - used, fmt, args);
}

static void set_err(char *err, int err_len, const char *fmt, ...)
{
	if (!err || err_len <= 0)
		return;
	size_t used = strlen(err);
	if (used + 1 >= (size_t)err_len)
		return;
	va_list args;
	va_start(args, fmt);
	vsnprintf(err + used, (size_t)err_len - used, fmt, args);
	va_end(args);
}

int laneshim_bpf_ensure_bpffs(const char *path)
{
	struct statfs fs;
	if (statfs(path, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (mount("bpf", path, "bpf", 0, "mode=0700") != 0)
		return -errno;
	return 0;
}

static void unpin_all(struct laneshim_bpf *h)
{
	if (!h->pin_dir[0])
		return;
	char path[512];
	struct bpf_map *map;
	bpf_object__for_each_map(map, h->obj)
	{
		if (strncmp(bpf_map__name(map), "laneshim_", 9) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->pin_dir, bpf_map__name(map));
		unlink(path);
	}
	rmdir(h->pin_dir);
}

int laneshim_bpf_open(const char *object_path, const char *pin_dir, struct laneshim_bpf **out, char *err, int err_len)
{
	*out = NULL;
	if (err && err_len > 0)
		err[0] = 0;
	struct laneshim_bpf *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	log_buf = err;
	log_len = err_len;
	libbpf_print_fn_t old = libbpf_set_print(print_to_buffer);
	int rc;
	h->obj = bpf_object__open_file(object_path, NULL);
	if (!h->obj) {
		rc = -errno;
		set_err(err, err_len, "cannot open %s: %s", object_path, strerror(-rc));
		goto fail;
	}
	rc = bpf_object__load(h->obj);
	if (rc) {
		set_err(err, err_len, "cannot load %s: %s", object_path, strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < LANESHIM_BPF_MAP_COUNT; i++) {
		h->map_fds[i] = bpf_object__find_map_fd_by_name(h->obj, map_names[i]);
		if (h->map_fds[i] < 0) {
			rc = -ENOENT;
			set_err(err, err_len, "%s has no map %s", object_path, map_names[i]);
			goto fail;
		}
	}
	struct bpf_map *events = bpf_object__find_map_by_name(h->obj, "laneshim_events");
	if (!events) {
		rc = -ENOENT;
		set_err(err, err_len, "%s has no map laneshim_events", object_path);
		goto fail;
	}
	if (pin_dir && pin_dir[0]) {
		snprintf(h->pin_dir, sizeof(h->pin_dir), "%s", pin_dir);
		if (mkdir(pin_dir, 0700) != 0 && errno != EEXIST) {
			rc = -errno;
			set_err(err, err_len, "cannot create %s: %s", pin_dir, strerror(errno));
			h->pin_dir[0] = 0;
			goto fail;
		}
		char path[512];
		struct bpf_map *map;
		bpf_object__for_each_map(map, h->obj)
		{
			if (strncmp(bpf_map__name(map), "laneshim_", 9) != 0)
				continue; /* .rodata and friends */
			snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
			rc = bpf_map__pin(map, path);
			if (rc) {
				set_err(err, err_len, "cannot pin %s: %s", path, strerror(-rc));
				goto fail;
			}
		}
	}
	libbpf_set_print(old);
	log_buf = NULL;
	*out = h;
	return 0;
fail:
	libbpf_set_print(old);
	log_buf = NULL;
	unpin_all(h);
	bpf_object__close(h->obj);
	free(h);
	return rc < 0 ? rc : -EINVAL;
}

int laneshim_bpf_attach(struct laneshim_bpf *h, const char *cgroup_path, char *err, int err_len)
{
	if (err && err_len > 0)
		err[0] = 0;
	int slot = -1;
	for (int i = 0; i < MAX_ATTACHMENTS; i++) {
		if (!h->links[i][0]) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		set_err(err, err_len, "more than %d cgroups attached", MAX_ATTACHMENTS);
		return -ENOSPC;
	}
	int cg = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int e = errno;
		set_err(err, err_len, "cannot open cgroup %s: %s", cgroup_path, strerror(e));
		return -e;
	}
	int rc = 0;
	for (int p = 0; p < PROGRAMS; p++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(h->obj, program_names[p]);
		struct bpf_link *link = prog ? bpf_program__attach_cgroup(prog, cg) : NULL;
		if (!link) {
			rc = prog ? -errno : -ENOENT;
			set_err(err, err_len, "cannot attach %s to %s: %s", program_names[p], cgroup_path,
				strerror(-rc));
			for (int q = 0; q < p; q++) {
				bpf_link__destroy(h->links[slot][q]);
				h->links[slot][q] = NULL;
			}
			break;
		}
		h->links[slot][p] = link;
	}
	close(cg);
	return rc < 0 ? rc : slot;
}

int laneshim_bpf_detach(struct laneshim_bpf *h, int attachment)
{
	if (attachment < 0 || attachment >= MAX_ATTACHMENTS || !h->links[attachment][0])
		return -ENOENT;
	for (int p = 0; p < PROGRAMS; p++) {
		bpf_link__destroy(h->links[attachment][p]);
		h->links[attachment][p] = NULL;
	}
	return 0;
}

static int map_fd(struct laneshim_bpf *h, int map)
{
	return map >= 0 && map < LANESHIM_BPF_MAP_COUNT ? h->map_fds[map] : -1;
}

int laneshim_bpf_update(struct laneshim_bpf *h, int map, const void *key, const void *value)
{
	int fd = map_fd(h, map);
	if (fd < 0)
		return -EINVAL;
	return bpf_map_update_elem(fd, key, value, BPF_ANY) ? -errno : 0;
}

int laneshim_bpf_delete(struct laneshim_bpf *h, int map, const void *key)
{
	int fd = map_fd(h, map);
	if (fd < 0)
		return -EINVAL;
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

int laneshim_bpf_lookup(struct laneshim_bpf *h, int map, const void *key, void *value)
{
	int fd = map_fd(h, map);
	if (fd < 0)
		return -EINVAL;
	return bpf_map_lookup_elem(fd, key, value) ? -errno : 0;
}

// Copies one record; once the array is full it stops the drain (the record that filled it is already consumed).
static int take_event(void *ctx, void *data, size_t size)
{
	struct laneshim_bpf *h = ctx;
	if (h->out_count >= h->out_max)
		return -E2BIG;
	size_t n = size < sizeof(struct laneshim_bpf_event) ? size : sizeof(struct laneshim_bpf_event);
	memset(&h->out[h->out_count], 0, sizeof(struct laneshim_bpf_event));
	memcpy(&h->out[h->out_count], data, n);
	h->out_count++;
	return h->out_count >= h->out_max ? -E2BIG : 0;
}

int laneshim_bpf_poll(struct laneshim_bpf *h, struct laneshim_bpf_event *events, int max, int timeout_ms)
{
	if (max <= 0)
		return -EINVAL;
	if (!h->ring) {
		struct bpf_map *map = bpf_object__find_map_by_name(h->obj, "laneshim_events");
		if (!map)
			return -ENOENT;
		h->ring = ring_buffer__new(bpf_map__fd(map), take_event, h, NULL);
		if (!h->ring)
			return -errno;
	}
	h->out = events;
	h->out_max = max;
	h->out_count = 0;
	int rc = ring_buffer__poll(h->ring, timeout_ms);
	int count = h->out_count;
	h->out = NULL;
	if (rc < 0 && rc != -E2BIG && rc != -EINTR)
		return rc;
	return count;
}

int laneshim_bpf_sizeof(int which)
{
	switch (which) {
	case 0:
		return sizeof(struct laneshim_bpf_prefix_key);
	case 1:
		return sizeof(struct laneshim_bpf_rule);
	case 2:
		return sizeof(struct laneshim_bpf_class);
	case 3:
		return sizeof(struct laneshim_bpf_config);
	case 4:
		return sizeof(struct laneshim_bpf_event);
	case 5:
		return sizeof(struct laneshim_bpf_sk_note);
	}
	return -EINVAL;
}

void laneshim_bpf_close(struct laneshim_bpf *h)
{
	if (!h)
		return;
	for (int i = 0; i < MAX_ATTACHMENTS; i++)
		laneshim_bpf_detach(h, i);
	ring_buffer__free(h->ring);
	unpin_all(h);
	bpf_object__close(h->obj);
	free(h);
}
