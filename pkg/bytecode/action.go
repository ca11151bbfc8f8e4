package bytecode

import "fmt"

// Action is a seccomp filter return value: the action in the high 16 bits
// (SECCOMP_RET_ACTION_FULL) and its data in the low 16 bits.
type Action uint32

// Action values (linux/seccomp.h).
const (
	ActKillProcess Action = 0x80000000
	ActKillThread  Action = 0x00000000
	ActTrap        Action = 0x00030000
	ActErrno       Action = 0x00050000
	ActUserNotif   Action = 0x7fc00000
	ActTrace       Action = 0x7ff00000
	ActLog         Action = 0x7ffc0000
	ActAllow       Action = 0x7fff0000

	actionMask Action = 0xffff0000
	dataMask   Action = 0x0000ffff
)

// maxErrno is MAX_ERRNO: the kernel caps SECCOMP_RET_ERRNO data at this value.
const maxErrno = 4095

// Kind returns the action without its data (SECCOMP_RET_ACTION_FULL).
func (a Action) Kind() Action { return a & actionMask }

// Data returns the 16-bit data of the action (errno, trap or trace value).
func (a Action) Data() uint16 { return uint16(a & dataMask) }

// actionKinds are the actions the kernel defines, with their names as in
// seccomp-tools and the OCI specification (without the SCMP_ACT_ prefix).
var actionKinds = [...]struct {
	kind Action
	name string
}{
	{ActKillProcess, "KILL_PROCESS"},
	{ActKillThread, "KILL_THREAD"},
	{ActTrap, "TRAP"},
	{ActErrno, "ERRNO"},
	{ActUserNotif, "USER_NOTIF"},
	{ActTrace, "TRACE"},
	{ActLog, "LOG"},
	{ActAllow, "ALLOW"},
}

// Known reports whether the action is one the kernel defines. The kernel
// treats an unknown action as KILL_PROCESS.
func (a Action) Known() bool {
	_, ok := a.kindName()
	return ok
}

// kindName is the name of the action's kind, if the kernel defines it.
func (a Action) kindName() (string, bool) {
	kind := a.Kind()
	for _, k := range actionKinds {
		if k.kind == kind {
			return k.name, true
		}
	}
	return "", false
}

// TakesData reports whether the action's data matters: the errno of
// ERRNO, the values TRAP and TRACE pass on.
func (a Action) TakesData() bool {
	switch a.Kind() {
	case ActErrno, ActTrap, ActTrace:
		return true
	}
	return false
}

// ActionKind returns the action a name of Action.Name names (without
// its data).
func ActionKind(name string) (Action, bool) {
	for _, k := range actionKinds {
		if k.name == name {
			return k.kind, true
		}
	}
	return 0, false
}

// Effective returns the action the kernel actually takes for this return
// value: unknown actions become KILL_PROCESS and errno data is capped.
func (a Action) Effective() Action {
	if !a.Known() {
		return ActKillProcess
	}
	if a.Kind() == ActErrno && a.Data() > maxErrno {
		return ActErrno | maxErrno
	}
	if a.Kind() == ActUserNotif || a.Kind() == ActLog || a.Kind() == ActAllow ||
		a.Kind() == ActKillProcess || a.Kind() == ActKillThread {
		// The kernel ignores the data of these actions.
		return a.Kind()
	}
	return a
}

// precedence orders return values as the kernel does when several filters
// run: lower is stronger. seccomp_run_filters compares the raw ACTION_FULL
// bits as a signed value, before unknown actions are turned into
// KILL_PROCESS.
func (a Action) precedence() int32 { return int32(a.Kind()) }

// Stronger reports whether a takes precedence over b in a filter stack.
func (a Action) Stronger(b Action) bool { return a.precedence() < b.precedence() }

// Permits reports whether the system call proceeds to the kernel under this
// action without being denied by the filter itself: ALLOW and LOG run it;
// TRACE and USER_NOTIF delegate the decision to another process.
func (a Action) Permits() bool {
	switch a.Effective().Kind() {
	case ActAllow, ActLog, ActTrace, ActUserNotif:
		return true
	}
	return false
}

// Name returns the action's name without data, as in seccomp-tools and the
// OCI specification (without the SCMP_ACT_ prefix).
func (a Action) Name() string {
	if name, ok := a.kindName(); ok {
		return name
	}
	return fmt.Sprintf("UNKNOWN(0x%08x)", uint32(a))
}

// String formats the action with its data where the data matters
// (TakesData), for example "ERRNO(1)" or "ALLOW".
func (a Action) String() string {
	if a.TakesData() {
		return fmt.Sprintf("%s(%d)", a.Name(), a.Data())
	}
	return a.Name()
}
