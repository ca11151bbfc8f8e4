/* seccomp-threads: installs two seccomp filters from two threads, for
 * `seccomp-attest dump -- CMD` tests. The main thread installs filter A
 * (4 instructions: getppid -> ERRNO(1), else ALLOW) with prctl, then starts
 * a thread that installs filter B (getppid -> ERRNO(2)) on itself only
 * with seccomp(2); the main thread waits for it, prints "done" and exits 0.
 * After each install it appends a line to the marker file argv[1] (if
 * given), so a test can tell how far the program ran.
 * Built static (-static -pthread) by the Makefile's helpers target. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *marker;

/* A filter returning ERRNO(err) for getppid and ALLOW for everything else. */
static int install(unsigned err, int use_prctl) {
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	if (use_prctl)
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void mark(const char *what) {
	if (!marker)
		return;
	int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dprintf(fd, "%s\n", what);
		close(fd);
	}
}

static void *second(void *arg) {
	(void)arg;
	if (install(2, 0) != 0) {
		perror("seccomp (thread)");
		exit(1);
	}
	mark("after-second");
	return NULL;
}

int main(int argc, char **argv) {
	marker = argc > 1 ? argv[1] : NULL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("no_new_privs");
		return 1;
	}
	if (install(1, 1) != 0) {
		perror("prctl(PR_SET_SECCOMP)");
		return 1;
	}
	mark("after-first");
	pthread_t t;
	if (pthread_create(&t, NULL, second, NULL) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	pthread_join(t, NULL);
	printf("done\n");
	return 0;
}
