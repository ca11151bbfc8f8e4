package pipeline

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// The first containers on a new host start together, and each one's hook
// finds no key: exactly one key is generated and every one of them signs
// with it (before, the others failed with "file exists" or read a key
// half written).
func TestKeyGeneratedOnceUnderConcurrency(t *testing.T) {
	yes := true
	cfg := &config.Config{Key: filepath.Join(t.TempDir(), "keys", attest.PrivateKeyFile), GenerateKey: &yes}
	const n = 32
	fps := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := loadOrCreateKey(cfg)
			if err != nil {
				errs[i] = err
				return
			}
			fps[i], errs[i] = attest.Fingerprint(s.Public())
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("container %d: %v", i, errs[i])
		}
		if fps[i] != fps[0] {
			t.Fatalf("container %d signs with %.12s, container 0 with %.12s", i, fps[i], fps[0])
		}
	}
	v, err := attest.LoadVerifier(filepath.Join(filepath.Dir(cfg.Key), attest.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fp, _ := attest.Fingerprint(v.Public()); fp != fps[0] {
		t.Fatalf("signing.pub is %.12s, the key %.12s", fp, fps[0])
	}
}
