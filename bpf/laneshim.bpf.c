// laneshim.bpf.c - the kernel lane path: sock_ops applies a flow's lane from the maps before its SYN (or on accept),
// cgroup programs note who made each socket and which lane options user space set, and a ring buffer tells the broker.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "laneshim_bpf.h"

#define AF_INET            2
#define AF_INET6           10
#define SOCK_STREAM        1
#define IPPROTO_TCP        6
#define IPPROTO_MPTCP      262
#define SOL_SOCKET         1
#define SOL_IP             0
#define SOL_IPV6           41
#define SOL_TCP            6
#define SO_SNDBUF          7
#define SO_RCVBUF          8
#define SO_PRIORITY        12
#define SO_SNDBUFFORCE     32
#define SO_RCVBUFFORCE     33
#define SO_MARK            36
#define SO_MAX_PACING_RATE 47
#define IP_TOS             1
#define IPV6_TCLASS        67
#define TCP_CONGESTION     13
#define TCP_NOTSENT_LOWAT  25
#define TCP_CLOSE          7

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, LANESHIM_BPF_MAX_PREFIXES);
	__type(key, struct laneshim_bpf_prefix_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} laneshim_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LANESHIM_BPF_MAX_RULES);
	__type(key, __u32);
	__type(value, struct laneshim_bpf_rule);
} laneshim_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LANESHIM_BPF_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct laneshim_bpf_class);
} laneshim_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct laneshim_bpf_config);
} laneshim_config SEC(".maps");

/* socket cookie -> the broker's admission verdict, read at the socket's next RTT sample */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} laneshim_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct laneshim_bpf_sk_note);
} laneshim_notes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LANESHIM_BPF_RING_BYTES);
} laneshim_events SEC(".maps");

static __always_inline struct laneshim_bpf_config *config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&laneshim_config, &zero);
}

/* The socket's addresses as IPv6 (IPv4 mapped into ::ffff:0:0/96). Every field is read unconditionally: a load
 * under a branch lets the compiler merge context pointers, which the verifier refuses. */
struct addrs {
	__u8 local[16];
	__u8 remote[16];
};

static __always_inline void map_address(__u8 *out, __u32 family, __u32 ip4, __u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	if (family == AF_INET) {
		__builtin_memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		__builtin_memcpy(&out[12], &ip4, 4);
	} else {
		__builtin_memcpy(&out[0], &w0, 4);
		__builtin_memcpy(&out[4], &w1, 4);
		__builtin_memcpy(&out[8], &w2, 4);
		__builtin_memcpy(&out[12], &w3, 4);
	}
}

static __always_inline void read_addrs(struct bpf_sock_ops *skops, struct addrs *a)
{
	volatile __u32 family = skops->family;
	volatile __u32 r4 = skops->remote_ip4, r0 = skops->remote_ip6[0], r1 = skops->remote_ip6[1],
		       r2 = skops->remote_ip6[2], r3 = skops->remote_ip6[3];
	volatile __u32 l4 = skops->local_ip4, l0 = skops->local_ip6[0], l1 = skops->local_ip6[1],
		       l2 = skops->local_ip6[2], l3 = skops->local_ip6[3];
	map_address(a->remote, family, r4, r0, r1, r2, r3);
	map_address(a->local, family, l4, l0, l1, l2, l3);
}

static __always_inline void remote_key(struct bpf_sock_ops *skops, struct laneshim_bpf_prefix_key *key)
{
	struct addrs a;
	read_addrs(skops, &a);
	key->prefixlen = 128;
	__builtin_memcpy(key->addr, a.remote, 16);
}

static __always_inline void fill_addresses(struct bpf_sock_ops *skops, struct laneshim_bpf_event *e)
{
	struct addrs a;
	read_addrs(skops, &a);
	__builtin_memcpy(e->remote, a.remote, 16);
	__builtin_memcpy(e->local, a.local, 16);
	e->family = skops->family;
	e->local_port = (__u16)skops->local_port;
	e->remote_port = (__u16)bpf_ntohl(skops->remote_port);
}

static __always_inline int port_matches(struct laneshim_bpf_rule *r, __u16 port)
{
	if (r->port_range_count == 0)
		return 1;
#pragma unroll
	for (int i = 0; i < LANESHIM_BPF_PORT_RANGES; i++) {
		if (i < r->port_range_count && port >= r->port_lo[i] && port <= r->port_hi[i])
			return 1;
	}
	return 0;
}

static __always_inline int uid_matches(struct laneshim_bpf_rule *r, __u32 uid)
{
	if (r->uid_range_count == 0)
		return 1;
#pragma unroll
	for (int i = 0; i < LANESHIM_BPF_UID_RANGES; i++) {
		if (i < r->uid_range_count && uid >= r->uid_lo[i] && uid <= r->uid_hi[i])
			return 1;
	}
	return 0;
}

/* The first rule, in policy order, among those whose dst matched (mask), that matches port, direction and uid. */
static __always_inline int decide(__u64 mask, __u32 rule_count, __u16 port, __u32 direction, __u32 uid, __u32 *action,
				  __u32 *class_index)
{
	for (__u32 i = 0; i < LANESHIM_BPF_MAX_RULES; i++) {
		if (i >= rule_count)
			break;
		if (!(mask & (1ull << i)))
			continue;
		__u32 k = i;
		struct laneshim_bpf_rule *r = bpf_map_lookup_elem(&laneshim_rules, &k);
		if (!r)
			break;
		if (!(r->directions & direction) || !port_matches(r, port) || !uid_matches(r, uid))
			continue;
		*action = r->action;
		*class_index = r->class_index;
		return (int)i;
	}
	return -1;
}

static __always_inline __u32 apply_class(struct bpf_sock_ops *skops, struct laneshim_bpf_class *c, int listening)
{
	__u32 applied = 0;
	int v;
	if (c->rcvbuf) {
		v = (int)c->rcvbuf;
		if (bpf_setsockopt(skops, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_RCVBUF;
	}
	if (listening)
		return applied; /* a listener needs only the receive buffer: it fixes the accepted flows' window scale
				 */
	if (c->sndbuf) {
		v = (int)c->sndbuf;
		if (bpf_setsockopt(skops, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_SNDBUF;
	}
	if (c->cc[0]) {
		char cc[LANESHIM_BPF_CC_LEN];
		__builtin_memcpy(cc, c->cc, sizeof(cc));
		cc[LANESHIM_BPF_CC_LEN - 1] = 0;
		if (bpf_setsockopt(skops, SOL_TCP, TCP_CONGESTION, cc, sizeof(cc)) == 0)
			applied |= LANESHIM_BPF_APPLIED_CC;
	}
	if (c->pacing) {
		v = (int)c->pacing;
		if (bpf_setsockopt(skops, SOL_SOCKET, SO_MAX_PACING_RATE, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_PACING;
	}
	if (c->flags & LANESHIM_BPF_CLASS_TOS) {
		v = (int)c->tos;
		int r = skops->family == AF_INET6 ? bpf_setsockopt(skops, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v)) : -1;
		if (r != 0)
			r = bpf_setsockopt(skops, SOL_IP, IP_TOS, &v, sizeof(v));
		if (r == 0)
			applied |= LANESHIM_BPF_APPLIED_TOS;
	}
	if (c->flags & LANESHIM_BPF_CLASS_MARK) {
		v = (int)c->mark;
		if (bpf_setsockopt(skops, SOL_SOCKET, SO_MARK, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_MARK;
	}
	if (c->flags & LANESHIM_BPF_CLASS_PRIORITY) {
		v = (int)c->priority;
		if (bpf_setsockopt(skops, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_PRIORITY;
	}
	if (c->lowat) {
		v = (int)c->lowat;
		if (bpf_setsockopt(skops, SOL_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)) == 0)
			applied |= LANESHIM_BPF_APPLIED_LOWAT;
	}
	return applied;
}

/* A refused flow goes back to what it would have had without a lane (buffers stay: the kernel cannot unlock them). */
static __always_inline void revert(struct bpf_sock_ops *skops, struct laneshim_bpf_sk_note *note)
{
	struct laneshim_bpf_config *cfg = config();
	int v;
	if ((note->applied & LANESHIM_BPF_APPLIED_CC) && cfg && cfg->default_cc[0]) {
		char cc[LANESHIM_BPF_CC_LEN];
		__builtin_memcpy(cc, cfg->default_cc, sizeof(cc));
		cc[LANESHIM_BPF_CC_LEN - 1] = 0;
		bpf_setsockopt(skops, SOL_TCP, TCP_CONGESTION, cc, sizeof(cc));
	}
	if (note->applied & LANESHIM_BPF_APPLIED_PACING) {
		v = -1; /* ~0U: unlimited */
		bpf_setsockopt(skops, SOL_SOCKET, SO_MAX_PACING_RATE, &v, sizeof(v));
	}
	if (note->applied & LANESHIM_BPF_APPLIED_TOS) {
		v = 0;
		if (skops->family != AF_INET6 || bpf_setsockopt(skops, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v)) != 0)
			bpf_setsockopt(skops, SOL_IP, IP_TOS, &v, sizeof(v));
	}
	if (note->applied & LANESHIM_BPF_APPLIED_MARK) {
		v = 0;
		bpf_setsockopt(skops, SOL_SOCKET, SO_MARK, &v, sizeof(v));
	}
	if (note->applied & LANESHIM_BPF_APPLIED_PRIORITY) {
		v = 0;
		bpf_setsockopt(skops, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v));
	}
	if (note->applied & LANESHIM_BPF_APPLIED_LOWAT) {
		v = 0;
		bpf_setsockopt(skops, SOL_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
	}
	note->applied = 0;
}

static __always_inline struct laneshim_bpf_event *reserve(__u32 kind, struct bpf_sock_ops *skops,
							  struct laneshim_bpf_sk_note *note)
{
	struct laneshim_bpf_event *e = bpf_ringbuf_reserve(&laneshim_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->cookie = bpf_get_socket_cookie(skops);
	fill_addresses(skops, e);
	e->class_index = -1;
	e->rule_index = -1;
	if (note) {
		e->pid = note->pid;
		e->uid = note->uid;
		e->gid = note->gid;
		e->user_set = note->user_set;
		e->applied = note->applied;
		e->class_index = note->class_index;
		__builtin_memcpy(e->comm, note->comm, sizeof(e->comm));
	}
	return e;
}

static __always_inline int open_flow(struct bpf_sock_ops *skops, __u32 kind, __u32 direction)
{
	struct laneshim_bpf_config *cfg = config();
	if (!cfg || !cfg->enabled)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;
	struct laneshim_bpf_sk_note *note = bpf_sk_storage_get(&laneshim_notes, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!note)
		return 1;
	if (note->started_ns == 0 || kind != LANESHIM_BPF_EVENT_LISTEN)
		note->started_ns = bpf_ktime_get_ns();
	note->applied = 0;
	note->class_index = -1;

	__u32 flags = 0, action = 0, class_index = 0;
	int rule = -1;
	__u64 mask = cfg->no_dst_mask;
	__u16 port = (__u16)skops->local_port;
	if (direction != LANESHIM_BPF_DIR_LISTEN) {
		struct laneshim_bpf_prefix_key key;
		remote_key(skops, &key);
		__u64 *m = bpf_map_lookup_elem(&laneshim_prefixes, &key);
		mask = m ? *m : cfg->no_dst_mask;
		if (direction == LANESHIM_BPF_DIR_OUT)
			port = (__u16)bpf_ntohl(skops->remote_port);
	}
	if (note->user_set) {
		flags |= LANESHIM_BPF_FLAG_USER_TUNED; /* the agent (or the program) tuned it: never fight it */
	} else {
		rule = decide(mask, cfg->rule_count, port, direction, note->uid, &action, &class_index);
		if (rule >= 0 && action == LANESHIM_BPF_ACTION_CLASS && class_index < LANESHIM_BPF_MAX_CLASSES) {
			__u32 ci = class_index;
			struct laneshim_bpf_class *c = bpf_map_lookup_elem(&laneshim_classes, &ci);
			if (c && (direction != LANESHIM_BPF_DIR_LISTEN || (c->flags & LANESHIM_BPF_CLASS_BULK))) {
				flags |= LANESHIM_BPF_FLAG_MATCHED;
				note->class_index = (__s32)class_index;
				note->applied = apply_class(skops, c, direction == LANESHIM_BPF_DIR_LISTEN);
				note->cookie = bpf_get_socket_cookie(skops);
			}
		} else if (rule >= 0 && action == LANESHIM_BPF_ACTION_DENY) {
			flags |= LANESHIM_BPF_FLAG_DENIED;
		} else if (rule >= 0) {
			flags |= LANESHIM_BPF_FLAG_USERSPACE;
		}
	}
	if (direction != LANESHIM_BPF_DIR_LISTEN) {
		/* STATE_CB for the close report; RTT_CB until the broker's admission verdict arrives */
		__u32 cb = BPF_SOCK_OPS_STATE_CB_FLAG;
		if (note->applied)
			cb |= BPF_SOCK_OPS_RTT_CB_FLAG;
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | cb);
	}
	struct laneshim_bpf_event *e = reserve(kind, skops, note);
	if (e) {
		e->flags = flags;
		e->rule_index = rule;
		bpf_ringbuf_submit(e, 0);
	}
	return 1;
}

static __always_inline int check_verdict(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	__u32 *verdict = bpf_map_lookup_elem(&laneshim_verdicts, &cookie);
	if (!verdict)
		return 1;
	__u32 v = *verdict;
	bpf_map_delete_elem(&laneshim_verdicts, &cookie);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_RTT_CB_FLAG);
	struct bpf_sock *sk = skops->sk;
	if (v != LANESHIM_BPF_VERDICT_REFUSED || !sk)
		return 1;
	struct laneshim_bpf_sk_note *note = bpf_sk_storage_get(&laneshim_notes, sk, 0, 0);
	if (!note)
		return 1;
	revert(skops, note);
	struct laneshim_bpf_event *e = reserve(LANESHIM_BPF_EVENT_VERDICT, skops, note);
	if (e) {
		e->flags = LANESHIM_BPF_FLAG_REVERTED;
		bpf_ringbuf_submit(e, 0);
	}
	return 1;
}

static __always_inline int close_flow(struct bpf_sock_ops *skops)
{
	if (skops->args[1] != TCP_CLOSE)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;
	struct laneshim_bpf_sk_note *note = bpf_sk_storage_get(&laneshim_notes, sk, 0, 0);
	__u64 cookie = bpf_get_socket_cookie(skops);
	bpf_map_delete_elem(&laneshim_verdicts, &cookie);
	struct laneshim_bpf_event *e = reserve(LANESHIM_BPF_EVENT_CLOSE, skops, note);
	if (!e)
		return 1;
	e->srtt_us = skops->srtt_us >> 3;
	e->total_retrans = skops->total_retrans;
	e->snd_cwnd = skops->snd_cwnd;
	e->mss = skops->mss_cache;
	e->rate_delivered = skops->rate_delivered;
	e->rate_interval_us = skops->rate_interval_us;
	e->segs_out = skops->segs_out;
	e->data_segs_out = skops->data_segs_out;
	e->bytes_acked = skops->bytes_acked;
	e->bytes_received = skops->bytes_received;
	struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
	if (tp)
		e->min_rtt_us = tp->rtt_min;
	if (note && note->started_ns)
		e->duration_ns = bpf_ktime_get_ns() - note->started_ns;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("sockops")
int laneshim_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		return open_flow(skops, LANESHIM_BPF_EVENT_CONNECT, LANESHIM_BPF_DIR_OUT);
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		return open_flow(skops, LANESHIM_BPF_EVENT_ACCEPT, LANESHIM_BPF_DIR_IN);
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		return open_flow(skops, LANESHIM_BPF_EVENT_LISTEN, LANESHIM_BPF_DIR_LISTEN);
	case BPF_SOCK_OPS_RTT_CB:
		return check_verdict(skops);
	case BPF_SOCK_OPS_STATE_CB:
		return close_flow(skops);
	}
	return 1;
}

/* Who made the socket: sock_ops runs where the current task may be anyone (softirq), so note it at socket(). */
SEC("cgroup/sock_create")
int laneshim_sock_create(struct bpf_sock *sk)
{
	if (sk->type != SOCK_STREAM || (sk->protocol != IPPROTO_TCP && sk->protocol != IPPROTO_MPTCP))
		return 1;
	struct laneshim_bpf_sk_note *note = bpf_sk_storage_get(&laneshim_notes, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!note)
		return 1;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	note->pid = (__u32)(pid_tgid >> 32);
	note->uid = (__u32)uid_gid;
	note->gid = (__u32)(uid_gid >> 32);
	note->class_index = -1;
	bpf_get_current_comm(note->comm, sizeof(note->comm));
	return 1;
}

/* The agent tunes its sockets from user space; noting its calls lets sock_ops leave such a socket alone. Plain
 * SO_SNDBUF/SO_RCVBUF are not noted: a legacy program's small buffer must not keep its flow off the lane. */
SEC("cgroup/setsockopt")
int laneshim_setsockopt(struct bpf_sockopt *ctx)
{
	__u32 bit = 0;
	int level = ctx->level, name = ctx->optname;
	if (level == SOL_TCP && name == TCP_CONGESTION)
		bit = LANESHIM_BPF_USER_CC;
	else if (level == SOL_TCP && name == TCP_NOTSENT_LOWAT)
		bit = LANESHIM_BPF_USER_LOWAT;
	else if (level == SOL_SOCKET && name == SO_MAX_PACING_RATE)
		bit = LANESHIM_BPF_USER_PACING;
	else if (level == SOL_SOCKET && name == SO_MARK)
		bit = LANESHIM_BPF_USER_MARK;
	else if (level == SOL_SOCKET && name == SO_PRIORITY)
		bit = LANESHIM_BPF_USER_PRIORITY;
	else if (level == SOL_SOCKET && (name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE))
		bit = LANESHIM_BPF_USER_BUFFORCE;
	else if ((level == SOL_IP && name == IP_TOS) || (level == SOL_IPV6 && name == IPV6_TCLASS))
		bit = LANESHIM_BPF_USER_TOS;
	if (!bit)
		return 1;
	struct bpf_sock *sk = ctx->sk;
	if (!sk || sk->type != SOCK_STREAM)
		return 1;
	/* The hook runs for the socket's cgroup whoever calls: the broker's own calls on a duplicate are not user
	 * space's. */
	struct laneshim_bpf_config *cfg = config();
	if (cfg && cfg->broker_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) == cfg->broker_tgid)
		return 1;
	struct laneshim_bpf_sk_note *note = bpf_sk_storage_get(&laneshim_notes, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!note)
		return 1;
	note->user_set |= bit;
	if (note->applied && note->cookie) {
		/* An agent that missed its deadline applies its grant after connect(): its values win, and the broker
		 * must end the lease it opened from the kernel's report so the flow keeps exactly one. */
		note->applied = 0;
		struct laneshim_bpf_event *e = bpf_ringbuf_reserve(&laneshim_events, sizeof(*e), 0);
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->kind = LANESHIM_BPF_EVENT_USER;
			e->flags = LANESHIM_BPF_FLAG_USER_TUNED;
			e->cookie = note->cookie;
			e->pid = note->pid;
			e->uid = note->uid;
			e->user_set = note->user_set;
			e->class_index = note->class_index;
			e->rule_index = -1;
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 1;
}
