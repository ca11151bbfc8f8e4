package record

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp user notification ABI (include/uapi/linux/seccomp.h).
// golang.org/x/sys/unix has the ioctl numbers and the CONTINUE flag but
// not the structures; their sizes are part of the ioctl numbers (0x50 and
// 0x18), which a test checks.

// seccompData is struct seccomp_data: what the filter saw.
type seccompData struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// seccompNotif is struct seccomp_notif, filled by SECCOMP_IOCTL_NOTIF_RECV.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

// seccompNotifResp is struct seccomp_notif_resp, SECCOMP_IOCTL_NOTIF_SEND's
// argument.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// seccompIoctlNotifSetFlags and seccompUserNotifFdSyncWakeUp (Linux 6.6)
// ask the kernel to run the woken task on the listener's CPU, which makes
// a notification's round trip cheaper. Older kernels refuse the ioctl;
// recording works the same without it.
const (
	seccompIoctlNotifSetFlags    = unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS
	seccompUserNotifFdSyncWakeUp = unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
)

// errListenerStopped is returned by followListener when it was told to
// stop while the workload still ran.
var errListenerStopped = errors.New("the recorder stopped before the workload ended")

// followListener answers every notification of the seccomp listener fd
// after passing it to answer: SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel
// then runs the syscall as if the filter had allowed it) when answer
// returns 0, else the call fails with that errno; until the filter has no
// task left (nil) or stopFd becomes readable (errListenerStopped).
//
// A blocked SECCOMP_IOCTL_NOTIF_RECV is not woken when the filter's last
// task exits (only poll sees that, as POLLHUP), so the descriptor is
// polled before each receive.
func followListener(fd, stopFd int, answer func(*seccompData) unix.Errno) error {
	_ = ioctlPtr(fd, seccompIoctlNotifSetFlags, seccompUserNotifFdSyncWakeUp)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(stopFd), Events: unix.POLLIN}}
	var (
		n       seccompNotif
		resp    seccompNotifResp
		pending bool // n received, not answered
	)
	defer func() {
		// A panic in answer must not leave the task waiting for an
		// answer nobody will send (a task holding its own copy of the
		// listener, as runc's init does, would wait forever): it goes on.
		if pending {
			resp = seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
			_ = ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		}
	}()
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("poll seccomp listener: %w", err)
		}
		if fds[1].Revents != 0 {
			return errListenerStopped
		}
		ev := fds[0].Revents
		if ev&unix.POLLIN == 0 {
			if ev&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
				return nil
			}
			continue
		}
		// The kernel refuses a receive buffer that is not zeroed.
		n = seccompNotif{}
		if err := ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n))); err != nil {
			// ENOENT: the task was killed or interrupted by a signal
			// between poll and receive; its syscall will be notified
			// again if it is restarted.
			if err == unix.ENOENT || err == unix.EINTR {
				continue
			}
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %w", err)
		}
		pending = true
		resp = seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		if e := answer(&n.Data); e != 0 {
			resp = seccompNotifResp{ID: n.ID, Error: -int32(e)}
		}
		// ENOENT here means the task was interrupted by a signal while
		// waiting: the call was still made and recorded, and is notified
		// again if restarted.
		err := ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		pending = false
		if err != nil && err != unix.ENOENT {
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_SEND: %w", err)
		}
	}
}

// rawIoctl is the ioctl system call (a test makes it fail EINTR).
var rawIoctl = func(fd int, req uint, arg uintptr) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), arg)
	return e
}

func ioctlPtr(fd int, req uint, arg uintptr) error {
	for {
		e := rawIoctl(fd, req, arg)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			// A signal interrupted the wait for the notification (RECV)
			// or for the filter's notify_lock (RECV, SEND: the kernel's
			// mutex_lock_interruptible, contended by the notifying
			// tasks): nothing was done, and retrying is safe. Giving up
			// on SEND instead dropped the whole listener.
			continue
		}
		return e
	}
}
