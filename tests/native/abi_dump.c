/* abi_dump.c - prints the layout and constants of laneshim_abi.h as name=value lines, for the C# mirror test. */
#include <stddef.h>
#include <stdio.h>

#include "laneshim_abi.h"

#define SIZE(type)          printf("sizeof.%s=%zu\n", #type, sizeof(type))
#define OFFSET(type, field) printf("offsetof.%s.%s=%zu\n", #type, #field, offsetof(type, field))
#define CONSTANT(name)      printf("%s=%lld\n", #name, (long long)(name))

int main(void)
{
	SIZE(laneshim_agent_config);
	OFFSET(laneshim_agent_config, abi_version);
	OFFSET(laneshim_agent_config, deadline_ms);
	OFFSET(laneshim_agent_config, log_level);
	OFFSET(laneshim_agent_config, log_fd);
	OFFSET(laneshim_agent_config, flags);
	OFFSET(laneshim_agent_config, reserved);
	OFFSET(laneshim_agent_config, broker);
	OFFSET(laneshim_agent_config, program);

	SIZE(laneshim_flow);
	OFFSET(laneshim_flow, fd);
	OFFSET(laneshim_flow, direction);
	OFFSET(laneshim_flow, flags);
	OFFSET(laneshim_flow, family);
	OFFSET(laneshim_flow, local_port);
	OFFSET(laneshim_flow, remote_port);
	OFFSET(laneshim_flow, reserved);
	OFFSET(laneshim_flow, local_addr);
	OFFSET(laneshim_flow, remote_addr);
	OFFSET(laneshim_flow, app_sndbuf);
	OFFSET(laneshim_flow, app_rcvbuf);
	OFFSET(laneshim_flow, budget_us);

	SIZE(laneshim_outcome);
	OFFSET(laneshim_outcome, applied);
	OFFSET(laneshim_outcome, sndbuf);
	OFFSET(laneshim_outcome, rcvbuf);
	OFFSET(laneshim_outcome, tos);
	OFFSET(laneshim_outcome, pacing_rate);
	OFFSET(laneshim_outcome, mark);
	OFFSET(laneshim_outcome, reserved);
	OFFSET(laneshim_outcome, congestion);

	CONSTANT(LANESHIM_ABI_VERSION);

	CONSTANT(LANESHIM_OK);
	CONSTANT(LANESHIM_NO_LANE);
	CONSTANT(LANESHIM_E_UNAVAILABLE);
	CONSTANT(LANESHIM_E_DEADLINE);
	CONSTANT(LANESHIM_E_BAD_REPLY);
	CONSTANT(LANESHIM_E_INVALID);
	CONSTANT(LANESHIM_E_INTERNAL);
	CONSTANT(LANESHIM_E_ABI);
	CONSTANT(LANESHIM_E_NOT_READY);

	CONSTANT(LANESHIM_DIR_OUTBOUND);
	CONSTANT(LANESHIM_DIR_INBOUND);
	CONSTANT(LANESHIM_DIR_LISTEN);

	CONSTANT(LANESHIM_FLOW_APP_SNDBUF);
	CONSTANT(LANESHIM_FLOW_APP_RCVBUF);
	CONSTANT(LANESHIM_FLOW_NONBLOCK);
	CONSTANT(LANESHIM_FLOW_LATE);

	CONSTANT(LANESHIM_INIT_INLINE);
	CONSTANT(LANESHIM_LOG_OFF);
	CONSTANT(LANESHIM_LOG_ERROR);
	CONSTANT(LANESHIM_LOG_INFO);
	CONSTANT(LANESHIM_LOG_DEBUG);

	CONSTANT(LANESHIM_SET_SNDBUF);
	CONSTANT(LANESHIM_SET_RCVBUF);
	CONSTANT(LANESHIM_SET_CONGESTION);
	CONSTANT(LANESHIM_SET_PACING);
	CONSTANT(LANESHIM_SET_TOS);
	CONSTANT(LANESHIM_SET_MARK);
	CONSTANT(LANESHIM_SET_NOTSENT_LOWAT);
	CONSTANT(LANESHIM_SET_FROM_CACHE);

	CONSTANT(LANESHIM_CC_NAME_MAX);
	return 0;
}
