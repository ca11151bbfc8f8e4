/*
 * record-workload: make marker system calls from every kind of task a
 * recorder must follow, so a test can check that each was recorded:
 *
 *   getpgrp  (x86_64 111)  from a forked, short-lived child
 *   sysinfo  (x86_64 99)   from a second thread
 *   getpid   (x32 39)      through the x32 ABI (nr | 0x40000000)
 *   getpid   (i386 20)     through int $0x80, the i386 ABI
 *   socket(AF_UNIX, SOCK_STREAM, 0)
 *   times    (x86_64 100)  from the program this one execs (itself, "exec")
 *
 * None of them is made by a libc or a runtime on its own. The x32 call
 * fails with ENOSYS on kernels without x32 support; seccomp sees it
 * before that. Prints "done" from the exec'd program, exit status 0 when
 * every step could be made. Built static so that it runs in the busybox
 * rootfs.
 *
 *   record-workload getpid N   N getpid calls; prints loop_ns=T, the time
 *                              they took (bench/record.sh)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
	(void)arg;
	char info[256]; /* larger than struct sysinfo */
	syscall(SYS_sysinfo, info);
	return NULL;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: not a syscall seccomp sees */
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* i386_getpid makes getpid through the i386 ABI (int $0x80, number 20 in
 * eax), which seccomp sees under AUDIT_ARCH_I386; the kernel runs it when
 * it has IA32 emulation (CONFIG_IA32_EMULATION). */
static void i386_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	(void)ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "getpid") == 0) {
		long n = atol(argv[2]);
		long long t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		printf("loop_ns=%lld\n", now_ns() - t0);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		syscall(SYS_times, NULL);
		printf("done\n");
		return 0;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		syscall(SYS_getpgrp);
		_exit(0);
	}
	int status;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "record-workload: child failed\n");
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) {
		fprintf(stderr, "record-workload: thread failed\n");
		return 1;
	}
	syscall(0x40000000 | 39);
	i386_getpid();
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0) {
		perror("socket");
		return 1;
	}
	close(s);
	execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
	perror("exec");
	return 1;
}
