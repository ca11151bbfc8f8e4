package config

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sirupsen/logrus"
)

// OpenLog opens the operators' log the configuration names: logrus JSON
// lines (runc's and containerd's format) appended to Log, created mode
// 0600. It returns a nil logger when Log is "-" (stderr only: the caller
// decides what to write there); close releases the file.
func (c *Config) OpenLog() (log *logrus.Logger, close func(), err error) {
	if c.Log == "" || c.Log == "-" {
		return nil, func() {}, nil
	}
	f, err := os.OpenFile(c.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, func() {}, fmt.Errorf("log file: %w", err)
	}
	log = NewJSONLogger()
	log.SetOutput(f)
	return log, func() { f.Close() }, nil
}

// NewJSONLogger is a logrus logger in the JSON format of the operators' log,
// writing nowhere until given an output.
func NewJSONLogger() *logrus.Logger {
	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano})
	log.SetOutput(io.Discard)
	return log
}
