/* setuid_probe.c - a setuid-root program for the secure-execution test: connects, reports on stdout, exits 3. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_EXIT 3

/* Whether liblaneshim.so is mapped here: said on stderr so stdout is the same with and without it. */
static void report_shim(void)
{
	char line[4096];
	FILE *maps = fopen("/proc/self/maps", "re");
	int found = 0;

	while (maps != NULL && fgets(line, sizeof(line), maps) != NULL)
		found |= strstr(line, "/liblaneshim.so") != NULL;
	if (maps != NULL)
		fclose(maps);
	fprintf(stderr, "probe: liblaneshim.so %s\n", found ? "loaded" : "absent");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	if (argc != 2)
		return 2;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	printf("ruid=%d euid=%d secure=%lu connect=%s\n", (int)getuid(), (int)geteuid(), getauxval(AT_SECURE),
	       rc == 0 ? "ok" : strerror(errno));
	report_shim();
	close(fd);
	return PROBE_EXIT;
}
