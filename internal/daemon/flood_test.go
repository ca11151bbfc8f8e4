package daemon

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
)

// Connections that each send megabytes without ending their request
// (a program gone wrong, a flood) do not all get buffered: beyond the
// slots for large requests the daemon closes them at once, unanswered
// (the programs check in their own processes), and small requests are
// answered all the while.
func TestServeBoundsLargeRequests(t *testing.T) {
	sock := serveOn(t)
	const n = 10
	var closedEarly atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			go c.Write(bytes.Repeat([]byte("x"), 1<<20))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 1)
			if _, err := c.Read(b); err != nil && time.Since(start) < time.Second {
				// Closed without a byte of answer, before the request window.
				closedEarly.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	resp := ask(t, sock, hookRequest(wire.HookRequest{Stage: "prestop"}))
	if resp.Exit == 0 {
		t.Fatalf("a small request while large ones are read: %+v", resp)
	}
	wg.Wait()
	if got, want := closedEarly.Load(), int32(n-cap(largeRequests)); got < want {
		t.Fatalf("%d of %d large requests closed at once, want at least %d (the others buffered)", got, n, want)
	}
}

// Connections beyond maxConns are closed at once, unread: a flood of
// connections that never finish their requests holds at most maxConns
// of them until the request window passes, and a program then checks in
// its own process.
func TestServeBoundsOpenConnections(t *testing.T) {
	old := maxConns
	maxConns = 8
	t.Cleanup(func() { maxConns = old })
	sock := serveOn(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("{"))
		conns = append(conns, c)
	}
	time.Sleep(100 * time.Millisecond)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection %d: %v, want it closed at once", maxConns+1, err)
	}
}
