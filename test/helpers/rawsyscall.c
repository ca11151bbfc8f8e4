/*
 * rawsyscall: issue one system call with exact 64-bit argument values, as
 * a finding of `seccomp-attest score` names them, and say what happened.
 *
 *   rawsyscall NR [ARG...]    NR and up to 6 ARGs, decimal or 0x... (64 bits)
 *
 * Prints "ret=R" on success, plus "domain=D" when R is a socket (its
 * SO_DOMAIN as the kernel recorded it, which shows what a truncated
 * argument became), or "ret=-1 errno=E (message)". Exit status 0 when the
 * call succeeded, 1 when it failed, 2 on bad usage. Built static so that it
 * runs in the busybox rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long parse(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0') {
		fprintf(stderr, "rawsyscall: %s: not a number\n", s);
		exit(2);
	}
	return (unsigned long)v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 8) {
		fprintf(stderr, "usage: rawsyscall NR [ARG...] (at most 6 arguments)\n");
		return 2;
	}
	long nr = (long)parse(argv[1]);
	unsigned long a[6] = {0};
	for (int i = 2; i < argc; i++)
		a[i - 2] = parse(argv[i]);
	/* syscall(2) passes each argument in a full 64-bit register. */
	long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0) {
		int e = errno;
		printf("ret=-1 errno=%d (%s)\n", e, strerror(e));
		return 1;
	}
	printf("ret=%ld", ret);
	int domain;
	socklen_t len = sizeof(domain);
	if (getsockopt((int)ret, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0)
		printf(" domain=%d", domain);
	printf("\n");
	return 0;
}
