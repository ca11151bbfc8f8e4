package attest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
)

func TestKeyPermissionsRefused(t *testing.T) {
	dir := t.TempDir()
	priv, _, err := GenerateKey(KeyECDSAP256, dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(priv); fi.Mode().Perm() != 0o600 {
		t.Errorf("new private key has mode %v", fi.Mode().Perm())
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		os.Chmod(priv, mode)
		_, err := LoadSigner(priv)
		if err == nil || !strings.Contains(err.Error(), priv) || !strings.Contains(err.Error(), "mode 0"+octal(mode)) {
			t.Errorf("mode %04o: error %v, want a refusal naming path and mode", mode, err)
		}
	}
	os.Chmod(priv, 0o600)
	if _, err := LoadSigner(priv); err != nil {
		t.Errorf("mode 0600 refused: %v", err)
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

func TestKeyErrors(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := GenerateKey(KeyEd25519, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := GenerateKey(KeyEd25519, dir); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("second keygen into %s: %v", dir, err)
	}
	if _, _, err := GenerateKey("rsa", t.TempDir()); err == nil {
		t.Errorf("unknown key type accepted")
	}

	garbage := filepath.Join(dir, "garbage.key")
	os.WriteFile(garbage, []byte("not a key\n"), 0o600)
	if _, err := LoadSigner(garbage); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("garbage key: %v", err)
	}
	os.Chmod(pub, 0o600) // past the mode check, to reach the PEM type check
	if _, err := LoadSigner(pub); err == nil || !strings.Contains(err.Error(), `"PUBLIC KEY"`) {
		t.Errorf("public key as private: %v", err)
	}
	if _, err := LoadVerifier(priv); err == nil || !strings.Contains(err.Error(), `"PRIVATE KEY"`) {
		t.Errorf("private key as public: %v", err)
	}
	if _, err := LoadSigner(filepath.Join(dir, "missing.key")); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("missing key: %v", err)
	}
	corrupt := filepath.Join(dir, "corrupt.key")
	os.WriteFile(corrupt, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
	if _, err := LoadSigner(corrupt); err == nil || !strings.Contains(err.Error(), "PKCS#8") {
		t.Errorf("corrupt key: %v", err)
	}
}

// TestKeyIDConvention pins the key id to the go-securesystemslib form,
// which cosign's verifier recomputes from a bare public key.
func TestKeyIDConvention(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	if !strings.HasPrefix(s.keyID, "SHA256:") || s.keyID != v.keyID {
		t.Errorf("key id %q / %q", s.keyID, v.keyID)
	}
}

// A key path that is not a key file is refused at once: a device or a FIFO
// used to hang verify, report and ps (--key); a huge file is not read.
func TestKeyFileKindAndSize(t *testing.T) {
	for _, c := range inputfiletest.Cases(t) {
		inputfiletest.CheckRefused(t, c, func(path string) error { _, err := LoadVerifier(path); return err })
	}
}
