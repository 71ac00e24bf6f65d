/* laneshim_abi.h - the one contract between the C shim (liblaneshim.so) and the NativeAOT agent. */
#ifndef LANESHIM_ABI_H
#define LANESHIM_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change to a struct layout, constant or export below. */
#define LANESHIM_ABI_VERSION 2

/* Results of agent exports. >= 0: the call worked; < 0: fail open. */
#define LANESHIM_OK            0    /* a lane was granted and applied */
#define LANESHIM_NO_LANE       1    /* the broker answered "no lane" (denied, no rule): connect as usual */
#define LANESHIM_E_UNAVAILABLE (-1) /* broker unreachable */
#define LANESHIM_E_DEADLINE    (-2) /* broker did not answer within the deadline */
#define LANESHIM_E_BAD_REPLY   (-3) /* broker answered with something that is not a valid reply */
#define LANESHIM_E_INVALID     (-4) /* bad argument from the shim */
#define LANESHIM_E_INTERNAL    (-5) /* bug or exception inside the agent */
#define LANESHIM_E_ABI         (-6) /* shim and agent disagree on LANESHIM_ABI_VERSION */
#define LANESHIM_E_NOT_READY   (-7) /* agent not initialised, or unusable in this process (after fork) */

/* laneshim_flow.direction */
#define LANESHIM_DIR_OUTBOUND 1 /* connect() */
#define LANESHIM_DIR_INBOUND  2 /* accept()/accept4() */
#define LANESHIM_DIR_LISTEN   3 /* listen(): receive buffer before the SYN of accepted flows */

/* laneshim_flow.flags */
#define LANESHIM_FLOW_APP_SNDBUF 0x1u /* app_sndbuf holds what the program asked for */
#define LANESHIM_FLOW_APP_RCVBUF 0x2u /* app_rcvbuf holds what the program asked for */
#define LANESHIM_FLOW_NONBLOCK   0x4u /* the socket is O_NONBLOCK */
/* The agent was not ready in time: the socket is already connected, accepted or listening; apply what still can be. */
#define LANESHIM_FLOW_LATE 0x8u

/* laneshim_agent_config.flags */
#define LANESHIM_INIT_INLINE \
	0x1u /* init runs on a program's thread inside its first eligible call: stay within the deadline */

/* laneshim_agent_config.log_level */
#define LANESHIM_LOG_OFF   0
#define LANESHIM_LOG_ERROR 1
#define LANESHIM_LOG_INFO  2
#define LANESHIM_LOG_DEBUG 3

/* laneshim_outcome.applied: which settings the kernel accepted */
#define LANESHIM_SET_SNDBUF        0x01u
#define LANESHIM_SET_RCVBUF        0x02u
#define LANESHIM_SET_CONGESTION    0x04u
#define LANESHIM_SET_PACING        0x08u
#define LANESHIM_SET_TOS           0x10u
#define LANESHIM_SET_MARK          0x20u
#define LANESHIM_SET_NOTSENT_LOWAT 0x40u
#define LANESHIM_SET_FROM_CACHE    0x80u /* the grant came from the agent's cache: no round trip */

#define LANESHIM_CC_NAME_MAX 16 /* TCP_CA_NAME_MAX */

/* Passed once to laneshim_agent_init. Strings are NUL-terminated and owned by the shim. */
typedef struct laneshim_agent_config {
	uint32_t abi_version; /* LANESHIM_ABI_VERSION */
	uint32_t deadline_ms; /* the most a broker call may add to connect() */
	int32_t log_level;    /* LANESHIM_LOG_* */
	int32_t log_fd;       /* where to log; -1: stderr */
	uint32_t flags;       /* LANESHIM_INIT_* */
	uint32_t reserved;
	const char *broker;  /* "unix:/path" or "http://host:port" */
	const char *program; /* the host program's executable path */
} laneshim_agent_config;

/* One TCP flow as the shim sees it. Addresses in network byte order, ports in host byte order. */
typedef struct laneshim_flow {
	int32_t fd;
	int32_t direction;    /* LANESHIM_DIR_* */
	uint32_t flags;       /* LANESHIM_FLOW_* */
	uint16_t family;      /* the socket's domain: AF_INET or AF_INET6 (v4-mapped addresses stay as given) */
	uint16_t local_port;  /* 0 when not bound yet */
	uint16_t remote_port; /* 0 for LANESHIM_DIR_LISTEN */
	uint16_t reserved;
	uint8_t local_addr[16]; /* IPv4 uses the first 4 bytes */
	uint8_t remote_addr[16];
	int32_t app_sndbuf; /* valid with LANESHIM_FLOW_APP_SNDBUF */
	int32_t app_rcvbuf; /* valid with LANESHIM_FLOW_APP_RCVBUF */
	uint32_t budget_us; /* what is left of the deadline when the agent is called (loading it counts) */
} laneshim_flow;

/* What the agent did to the socket, read back from the kernel. */
typedef struct laneshim_outcome {
	uint32_t applied;     /* LANESHIM_SET_* */
	int32_t sndbuf;       /* getsockopt(SO_SNDBUF) after applying */
	int32_t rcvbuf;       /* getsockopt(SO_RCVBUF) after applying */
	uint32_t tos;         /* DSCP << 2 as set in IP_TOS / IPV6_TCLASS */
	uint64_t pacing_rate; /* SO_MAX_PACING_RATE in bytes per second; 0: none */
	uint32_t mark;        /* SO_MARK; 0: none */
	uint32_t reserved;
	char congestion[LANESHIM_CC_NAME_MAX];
} laneshim_outcome;

/*
 * Exports of liblaneshim-agent.so. Every one returns a LANESHIM_* code and never lets an
 * exception, a signal or an exit escape. They may block for at most config.deadline_ms.
 */
typedef int32_t (*laneshim_agent_init_fn)(const laneshim_agent_config *config);
typedef int32_t (*laneshim_agent_prepare_socket_fn)(const laneshim_flow *flow, laneshim_outcome *outcome);
typedef int32_t (*laneshim_agent_notify_connected_fn)(int32_t fd, int32_t connect_errno);
typedef int32_t (*laneshim_agent_notify_closed_fn)(int32_t fd);
typedef int32_t (*laneshim_agent_exiting_fn)(void);
typedef int32_t (*laneshim_agent_serve_fn)(void);
typedef int32_t (*laneshim_agent_will_serve_fn)(void);

int32_t laneshim_agent_init(const laneshim_agent_config *config);
int32_t laneshim_agent_prepare_socket(const laneshim_flow *flow, laneshim_outcome *outcome);
int32_t laneshim_agent_notify_connected(int32_t fd, int32_t connect_errno);
/*
 * The last descriptor of a socket the agent prepared is about to close (close, close_range, dup2/dup3 over
 * it): called before the real close, so the socket can still be read (TCP_INFO). Never blocks on the broker.
 */
int32_t laneshim_agent_notify_closed(int32_t fd);
/*
 * Optional. The process that loaded the agent is exiting (exit(), or return from main): queued flow reports may be
 * sent, within a small bound (300 ms). Called from the shim's atexit handler, never in a forked child (whose .NET
 * runtime is unusable) and not at all on _exit() or a fatal signal.
 */
int32_t laneshim_agent_exiting(void);
/*
 * Optional. Runs the agent's background work (lease renewals, flow reports) on the calling thread, which the shim
 * starts for the agent with every signal blocked but faults and the runtime's SIGRTMIN; the agent starts no thread of
 * its own besides its runtime's finalizer. Returns only if the agent cannot serve.
 */
int32_t laneshim_agent_serve(void);
/*
 * Optional. Called on the loader thread right after laneshim_agent_init when that thread will call
 * laneshim_agent_serve (after serving late flows, at most LATE_LINGER_MS): the agent then starts no service thread of
 * its own for a lease granted in between. Not called when the agent started inline.
 */
int32_t laneshim_agent_will_serve(void);

#ifdef __cplusplus
}
#endif

#endif /* LANESHIM_ABI_H */
