/* laneshim_bpf.h - the layout of the BPF lane path's maps and ring-buffer events, shared by the kernel program,
 * the loader library and (mirrored in src/LaneShim.Broker/Bpf/BpfLayout.cs, checked by a test) the broker. */
#ifndef LANESHIM_BPF_H
#define LANESHIM_BPF_H

#include <linux/types.h>

#define LANESHIM_BPF_MAX_RULES    64 /* rules the kernel evaluates, in policy order (a 64-bit mask per prefix) */
#define LANESHIM_BPF_MAX_CLASSES  64
#define LANESHIM_BPF_MAX_PREFIXES 4096
#define LANESHIM_BPF_PORT_RANGES  8
#define LANESHIM_BPF_UID_RANGES   4
#define LANESHIM_BPF_CC_LEN       16
#define LANESHIM_BPF_COMM_LEN     16
#define LANESHIM_BPF_RING_BYTES   (1 << 20)

/* laneshim_bpf_rule.action */
#define LANESHIM_BPF_ACTION_CLASS 1 /* the flow gets class_index */
#define LANESHIM_BPF_ACTION_DENY  2 /* a deny line: the kernel leaves the socket alone */
/* the rule needs per-call identity (program, gid, principal): only the broker decides */
#define LANESHIM_BPF_ACTION_USERSPACE 3

/* laneshim_bpf_rule.directions */
#define LANESHIM_BPF_DIR_OUT    (1u << 0)
#define LANESHIM_BPF_DIR_IN     (1u << 1)
#define LANESHIM_BPF_DIR_LISTEN (1u << 2)

/* laneshim_bpf_class.flags */
#define LANESHIM_BPF_CLASS_TOS      (1u << 0)
#define LANESHIM_BPF_CLASS_MARK     (1u << 1)
#define LANESHIM_BPF_CLASS_PRIORITY (1u << 2)
#define LANESHIM_BPF_CLASS_BULK     (1u << 3)

/* laneshim_bpf_sk_note.user_set: lane options user space set on the socket (the agent, or the program itself) */
#define LANESHIM_BPF_USER_CC       (1u << 0)
#define LANESHIM_BPF_USER_PACING   (1u << 1)
#define LANESHIM_BPF_USER_TOS      (1u << 2)
#define LANESHIM_BPF_USER_MARK     (1u << 3)
#define LANESHIM_BPF_USER_PRIORITY (1u << 4)
#define LANESHIM_BPF_USER_BUFFORCE (1u << 5)
#define LANESHIM_BPF_USER_LOWAT    (1u << 6)

/* laneshim_bpf_event.applied and laneshim_bpf_sk_note.applied: what bpf_setsockopt set */
#define LANESHIM_BPF_APPLIED_SNDBUF   (1u << 0)
#define LANESHIM_BPF_APPLIED_RCVBUF   (1u << 1)
#define LANESHIM_BPF_APPLIED_CC       (1u << 2)
#define LANESHIM_BPF_APPLIED_PACING   (1u << 3)
#define LANESHIM_BPF_APPLIED_TOS      (1u << 4)
#define LANESHIM_BPF_APPLIED_MARK     (1u << 5)
#define LANESHIM_BPF_APPLIED_PRIORITY (1u << 6)
#define LANESHIM_BPF_APPLIED_LOWAT    (1u << 7)

/* laneshim_bpf_event.kind */
#define LANESHIM_BPF_EVENT_CONNECT 1 /* TCP_CONNECT_CB: before the SYN leaves */
#define LANESHIM_BPF_EVENT_ACCEPT  2 /* PASSIVE_ESTABLISHED_CB: an accepted socket */
#define LANESHIM_BPF_EVENT_LISTEN  3 /* TCP_LISTEN_CB */
#define LANESHIM_BPF_EVENT_CLOSE   4 /* STATE_CB into TCP_CLOSE, with the flow's stats */
#define LANESHIM_BPF_EVENT_VERDICT 5 /* the socket saw the broker's verdict (refused: reverted) */
#define LANESHIM_BPF_EVENT_USER    6 /* user space (a late agent) set lane options on a socket the kernel had tuned */

/* laneshim_bpf_event.flags */
#define LANESHIM_BPF_FLAG_USER_TUNED (1u << 0) /* user space (the agent) tuned it: the kernel left it alone */
#define LANESHIM_BPF_FLAG_MATCHED    (1u << 1) /* a rule gave it a class */
#define LANESHIM_BPF_FLAG_DENIED     (1u << 2) /* a deny rule matched */
#define LANESHIM_BPF_FLAG_USERSPACE  (1u << 3) /* a rule needing per-call identity came first */
#define LANESHIM_BPF_FLAG_REVERTED   (1u << 4) /* VERDICT: refused by admission, the lane's settings were taken back */

/* the verdicts map's values */
#define LANESHIM_BPF_VERDICT_ADMITTED 1
#define LANESHIM_BPF_VERDICT_REFUSED  2

/* Key of the prefixes LPM trie: an IPv6 address, IPv4 as ::ffff:a.b.c.d (prefixlen 96 + n). */
struct laneshim_bpf_prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* One policy rule the kernel evaluates. A prefix's value is the mask of rules whose dst covers it (bit i = rule i). */
struct laneshim_bpf_rule {
	__u32 action;
	__u32 class_index;
	__u32 directions;
	__u32 port_range_count; /* 0: any port */
	__u32 uid_range_count;  /* 0: any uid */
	__u32 line;             /* the policy line, for reports */
	__u16 port_lo[LANESHIM_BPF_PORT_RANGES];
	__u16 port_hi[LANESHIM_BPF_PORT_RANGES];
	__u32 uid_lo[LANESHIM_BPF_UID_RANGES];
	__u32 uid_hi[LANESHIM_BPF_UID_RANGES];
};

/* The settings of one lane class, as the broker sized them (0 leaves the kernel's value). */
struct laneshim_bpf_class {
	__u32 sndbuf;
	__u32 rcvbuf;
	__u32 pacing; /* SO_MAX_PACING_RATE in bytes/s: a 4-byte int, as bpf_setsockopt wants it */
	__u32 mark;
	__u32 priority;
	__u32 lowat;
	__u32 tos;   /* the TOS byte (DSCP << 2) */
	__u32 flags; /* LANESHIM_BPF_CLASS_* */
	char cc[LANESHIM_BPF_CC_LEN];
};

/* Global settings: index 0 of the config array. */
struct laneshim_bpf_config {
	__u32 enabled;
	__u32 rule_count;
	__u64 no_dst_mask; /* rules without a dst matcher: the only ones a listening socket can match */
	char default_cc[LANESHIM_BPF_CC_LEN]; /* what a refused socket goes back to */
	__u32 broker_tgid; /* the broker's own setsockopt calls (FORCE buffers) are not user space's */
	__u32 reserved;
};

/* Per-socket storage (cloned to accepted sockets): who made it, what user space set, what the kernel applied. */
struct laneshim_bpf_sk_note {
	__u32 pid;
	__u32 uid;
	__u32 gid;
	__u32 user_set;
	__u32 applied;
	__s32 class_index;
	__u64 started_ns;
	__u64 cookie; /* set when the kernel tuned the socket: the setsockopt program reports a takeover with it */
	char comm[LANESHIM_BPF_COMM_LEN];
};

/* One ring-buffer record. Addresses are IPv6 (IPv4 mapped), ports in host order. */
struct laneshim_bpf_event {
	__u32 kind;
	__u32 flags;
	__u64 cookie;
	__u64 cgroup_id;
	__u8 local[16];
	__u8 remote[16];
	__u16 local_port;
	__u16 remote_port;
	__u32 family;
	__u32 pid;
	__u32 uid;
	__u32 gid;
	__s32 class_index;
	__s32 rule_index;
	__u32 applied;
	__u32 user_set;
	/* CLOSE only */
	__u32 srtt_us;
	__u32 min_rtt_us;
	__u32 total_retrans;
	__u32 snd_cwnd;
	__u32 mss;
	__u32 rate_delivered;   /* packets delivered in the last rate sample */
	__u32 rate_interval_us; /* over this interval */
	__u32 segs_out;
	__u32 data_segs_out;
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 duration_ns;
	char comm[LANESHIM_BPF_COMM_LEN];
};

#endif
