/* Writes testdata/libseccomp-x86_64-x32-i386.bpf with libseccomp 2.5.4:
 *   gcc libseccomp-x86_64-x32-i386.c -lseccomp && ./a.out libseccomp-x86_64-x32-i386.bpf */
#include <seccomp.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  seccomp_arch_add(ctx, SCMP_ARCH_X32);
  seccomp_arch_add(ctx, SCMP_ARCH_X86);
  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 0);
  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0);
  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, 40));
  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xff, 8));
  seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ptrace), 0);
  int fd = open(argv[1], O_WRONLY|O_CREAT|O_TRUNC, 0644);
  return seccomp_export_bpf(ctx, fd);
}
