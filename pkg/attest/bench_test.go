package attest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkAttest builds, signs and writes one attestation of a
// 1015-instruction filter (Docker's default as runc loads it) with a
// bundle copy, as the hook does per container. The store and the bundle
// are on tmpfs (/dev/shm), where fsync returns at once: the issue's
// target excludes the wait for the disk.
//
//	go test -run '^$' -bench Attest -benchmem -count 6 ./pkg/attest
func BenchmarkAttest(b *testing.B) {
	for _, kt := range []KeyType{KeyECDSAP256, KeyEd25519} {
		b.Run(string(kt), func(b *testing.B) {
			shm, err := os.MkdirTemp("/dev/shm", "attest-bench-")
			if err != nil {
				b.Skip("no /dev/shm:", err)
			}
			defer os.RemoveAll(shm)
			priv, _, err := GenerateKey(kt, filepath.Join(shm, "keys"))
			if err != nil {
				b.Fatal(err)
			}
			signer, err := LoadSigner(priv)
			if err != nil {
				b.Fatal(err)
			}
			bpf, err := os.ReadFile("../bytecode/testdata/fixtures/moby-default-v0.2.3.runc.bpf")
			if err != nil {
				b.Fatal(err)
			}
			bundleDir := filepath.Join(shm, "bundle")
			if err := os.MkdirAll(bundleDir, 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bundleDir, "config.json"), []byte(`{"ociVersion":"1.2.0","annotations":{}}`), 0o644); err != nil {
				b.Fatal(err)
			}
			bundle, err := ReadBundle(bundleDir)
			if err != nil {
				b.Fatal(err)
			}
			host, err := HostInfo()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			store := Store{Dir: filepath.Join(shm, "store")}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_, err := Attest(ctx, Request{Signer: signer, Store: store, Bundle: bundle, Predicate: Predicate{
					Container: Container{ID: "bench", PID: 42, Runtime: &Runtime{Name: "runc", Version: "1.1.5"}},
					Host:      host,
					Intended:  &Intended{Source: "bundle", Digest: sha256Hex(bpf)},
					Effective: Effective{Threads: []ThreadGroup{NewThreadGroup([]int{42}, "filter", []RawFilter{{BPF: bpf}})}},
					Policy:    &Policy{Digest: sha256Hex([]byte("policy")), Mode: "enforce"},
					Verdict:   &Verdict{Result: ResultPass},
					Tool:      Tool{Name: "seccomp-attest", Version: "bench"},
				}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
