/*
 * seccomp-stack: a test program that attaches small, distinct seccomp
 * filters to itself and then waits, so that a reader can fetch them from a
 * live process (and from inside a container, where it is built static).
 *
 *   seccomp-stack [-n N] [-l] [-t] [-o DIR]   attach N filters (default 1),
 *        -l with SECCOMP_FILTER_FLAG_LOG, -t plus one more filter on a second
 *        thread only, -o write each attached program to DIR/I.bpf (I = its
 *        index in the thread's stack among the filters attached here,
 *        the thread's extra one last); then print "ready" and wait.
 *   seccomp-stack -T PID   PTRACE_SEIZE PID, print "ready" and wait: a tracer
 *        that holds PID so that other tracers are refused.
 *
 * Filter i denies only syscall number 0x3ff0+i (no architecture uses it)
 * with errno i+1, so the filters differ in their bytes and allow everything
 * the program needs. "ready" is printed only after every filter is attached:
 * the tests wait for that line instead of sleeping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNUSED_NR_BASE 0x3ff0

static const char *outdir;
static unsigned int flags;

static void die(const char *what)
{
	fprintf(stderr, "seccomp-stack: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void save(int index, const struct sock_filter *prog, size_t n)
{
	char path[4096];
	int fd;

	if (!outdir)
		return;
	snprintf(path, sizeof(path), "%s/%d.bpf", outdir, index);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	if (write(fd, prog, n * sizeof(*prog)) != (ssize_t)(n * sizeof(*prog)))
		die(path);
	close(fd);
}

/* attach installs filter i on the calling thread only (no TSYNC). */
static void attach(int i)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* seccomp_data.nr */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UNUSED_NR_BASE + i, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (i + 1)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = {
		.len = sizeof(prog) / sizeof(prog[0]),
		.filter = prog,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) != 0)
		die("seccomp(SECCOMP_SET_MODE_FILTER)");
	save(i, prog, fprog.len);
}

static int pipefd[2];
static int thread_index;

static void *thread_main(void *arg)
{
	char c = 'x';

	(void)arg;
	attach(thread_index);
	if (write(pipefd[1], &c, 1) != 1)
		die("write(pipe)");
	for (;;)
		pause();
	return NULL;
}

static int trace(pid_t pid)
{
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
		die("ptrace(PTRACE_SEIZE)");
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	int n = 1, with_thread = 0, opt, i;
	pthread_t th;
	char c;

	while ((opt = getopt(argc, argv, "n:lto:T:")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'l':
			flags |= SECCOMP_FILTER_FLAG_LOG;
			break;
		case 't':
			with_thread = 1;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'T':
			return trace(atoi(optarg));
		default:
			fprintf(stderr, "usage: %s [-n N] [-l] [-t] [-o DIR] | -T PID\n", argv[0]);
			return 2;
		}
	}

	/* Unprivileged callers (a container without CAP_SYS_ADMIN) need it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	for (i = 0; i < n; i++)
		attach(i);

	if (with_thread) {
		if (pipe(pipefd) != 0)
			die("pipe");
		thread_index = n;
		errno = pthread_create(&th, NULL, thread_main, NULL);
		if (errno != 0)
			die("pthread_create");
		if (read(pipefd[0], &c, 1) != 1)
			die("read(pipe)");
	}

	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
