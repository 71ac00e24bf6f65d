/* hostile_agent.c - what an attacker would point LANESHIM_AGENT at: proves it was loaded by leaving <its path>.loaded.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void mark_loaded(void)
{
	Dl_info info;
	char path[4096];
	int fd;

	if (dladdr((void *)mark_loaded, &info) == 0 || info.dli_fname == NULL)
		return;
	snprintf(path, sizeof(path), "%s.loaded", info.dli_fname);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0)
		close(fd);
}
