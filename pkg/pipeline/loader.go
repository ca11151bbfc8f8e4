package pipeline

import (
	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
)

// Loader gives a check (a hook stage, wrapper-runc's create or start) its
// configuration, its pipeline and the operators' log. Cold loads
// everything for each check: a program checking in its own process.
// Warm keeps what it loaded for the next check, for as long as the files
// stay the same: seccomp-attestd.
type Loader interface {
	// Config reads the configuration at path ("" for the default, as
	// config.Load). The caller may change the copy it gets.
	Config(path string) (*config.Config, error)
	// Pipeline is New for cfg.
	Pipeline(cfg *config.Config) (*Pipeline, error)
	// OpenLog is cfg.OpenLog: the logger is nil when cfg logs to stderr
	// only; release is called when the check is done with it.
	OpenLog(cfg *config.Config) (log *logrus.Logger, release func(), err error)
}

// Cold is the Loader of a program that checks one container in its own
// process: everything is read for the check.
type Cold struct {
	Options Options
}

var _ Loader = Cold{}

func (Cold) Config(path string) (*config.Config, error) { return config.Load(path) }

func (c Cold) Pipeline(cfg *config.Config) (*Pipeline, error) { return New(cfg, c.Options) }

func (Cold) OpenLog(cfg *config.Config) (*logrus.Logger, func(), error) { return cfg.OpenLog() }
