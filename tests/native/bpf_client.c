// bpf_client.c - a client that never calls libc's connect through a shim (built -static): connects, prints what
// the kernel says of its socket, sends, keeps the flow alive a while with small writes, prints again, closes.
// Usage: bpf_client HOST PORT SECONDS BYTES
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void report(int s, const char *when)
{
	char cc[16] = {0};
	socklen_t l = sizeof cc;
	getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, &l);
	int sndbuf = 0, tos = 0;
	l = sizeof sndbuf;
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, &l);
	unsigned long long pacing = 0;
	l = sizeof pacing;
	getsockopt(s, SOL_SOCKET, SO_MAX_PACING_RATE, &pacing, &l);
	l = sizeof tos;
	getsockopt(s, IPPROTO_IP, IP_TOS, &tos, &l);
	struct sockaddr_in local;
	l = sizeof local;
	getsockname(s, (struct sockaddr *)&local, &l);
	printf("%s cc=%s sndbuf=%d pacing=%llu tos=%d port=%d\n", when, cc, sndbuf, pacing, tos, ntohs(local.sin_port));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bpf_client HOST PORT SECONDS BYTES\n");
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("bpf_client: connect");
		return 1;
	}
	report(s, "connect");
	static char chunk[65536];
	long long left = atoll(argv[4]);
	while (left > 0) {
		ssize_t n = send(s, chunk, left < (long long)sizeof chunk ? (size_t)left : sizeof chunk, 0);
		if (n <= 0) {
			perror("bpf_client: send");
			return 1;
		}
		left -= n;
	}
	struct timespec tick = {0, 50 * 1000 * 1000};
	for (int i = 0; i < atoi(argv[3]) * 20; i++) {
		send(s, chunk, 100, 0);
		nanosleep(&tick, NULL);
	}
	report(s, "later");
	shutdown(s, SHUT_WR);
	while (recv(s, chunk, sizeof chunk, 0) > 0) {
	}
	close(s);
	return 0;
}
