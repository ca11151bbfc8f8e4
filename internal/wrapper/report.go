package wrapper

import (
	"fmt"
	"io"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/runtimemsg"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// reporter puts the wrapper's answers where people look: a refusal goes,
// as runc writes its own errors, into the --log file in the --log-format
// (containerd shows the last "error" line of log.json in docker's error
// message), and to stderr; every decision goes to the operators' log
// (config "log", logrus JSON).
type reporter struct {
	runcLog   string // --log ("" = stderr only)
	runcJSON  bool   // --log-format json
	operators *logrus.Logger
	closeOps  func()
	stderr    io.Writer
}

func newReporter(inv *runcargs.Invocation, h *Host) *reporter {
	r := &reporter{operators: logrus.New(), closeOps: func() {}, stderr: h.Stderr}
	r.operators.SetOutput(io.Discard)
	if inv != nil {
		r.runcLog = inv.Global.Log
		if r.runcLog != "" {
			if abs, err := h.abs(r.runcLog); err == nil {
				r.runcLog = abs
			}
		}
		r.runcJSON = inv.Global.LogFormat == "json"
	}
	return r
}

// openOperatorLog starts logging decisions to the configured log ("-" or
// "" = none besides stderr for errors). A log that cannot be opened is not
// fatal.
func (r *reporter) openOperatorLog(loader pipeline.Loader, cfg *config.Config) {
	log, closeLog, err := loader.OpenLog(cfg)
	if err != nil {
		fmt.Fprintf(r.stderr, "wrapper-runc: operator %v\n", err)
		return
	}
	if log != nil {
		r.operators, r.closeOps = log, closeLog
	}
}

// decision records an outcome for operators.
func (r *reporter) decision(fields logrus.Fields, msg string) {
	r.operators.WithFields(fields).Info(msg)
}

// refuse reports why the container may not run: the runtime log, stderr
// and the operators' log.
func (r *reporter) refuse(err error) { r.errorLine(err, nil) }

// error reports a failure of the wrapper itself, the same way.
func (r *reporter) error(err error) { r.errorLine(err, nil) }

func (r *reporter) errorLine(err error, fields logrus.Fields) {
	msg := runtimemsg.Plain(err.Error())
	r.operators.WithFields(fields).Error(msg)
	fmt.Fprintln(r.stderr, msg)
	if err := front.LogError(r.runcLog, r.runcJSON, msg); err != nil {
		fmt.Fprintf(r.stderr, "wrapper-runc: %v\n", err)
	}
}

func (r *reporter) close() { r.closeOps() }
