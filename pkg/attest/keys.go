package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// KeyType names the signature algorithms an attestation key can use.
type KeyType string

// Supported key types. ECDSA P-256 signs SHA-256 of the DSSE PAE with an
// ASN.1 DER signature; Ed25519 is pure Ed25519 over the PAE. Both are what
// cosign and sigstore verifiers expect for these key types.
const (
	KeyECDSAP256 KeyType = "ecdsa-p256"
	KeyEd25519   KeyType = "ed25519"
)

// Key file names inside a key directory (keygen --out DIR).
const (
	PrivateKeyFile = "signing.key"
	PublicKeyFile  = "signing.pub"
)

const (
	pemPrivate = "PRIVATE KEY" // PKCS#8
	pemPublic  = "PUBLIC KEY"  // PKIX
)

// GenerateKey creates a key pair of type t and writes it to
// dir/signing.key (PKCS#8 PEM, mode 0600) and dir/signing.pub (PKIX PEM,
// mode 0644). It refuses to overwrite either file, so a key that signed
// earlier attestations cannot be lost by accident.
func GenerateKey(t KeyType, dir string) (privPath, pubPath string, err error) {
	var priv crypto.Signer
	switch t {
	case KeyECDSAP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return "", "", fmt.Errorf("unknown key type %q (want %s or %s)", t, KeyECDSAP256, KeyEd25519)
	}
	if err != nil {
		return "", "", fmt.Errorf("generate %s key: %w", t, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encode %s private key: %w", t, err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return "", "", fmt.Errorf("encode %s public key: %w", t, err)
	}
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s already exists: refusing to overwrite a key: %w", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("check %s: %w", p, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create key directory: %w", err)
	}
	// The private key goes first: if the public key cannot be written the
	// pair can still be recovered from it, never the other way round.
	if err := writeNewFile(privPath, pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNewFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), 0o644); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeNewFile makes path a new file holding data: written and synced
// under a temporary name, then linked into place, which fails (wrapping
// fs.ErrExist) when path exists. Readers never see a partial key, and of
// two processes generating a key at once exactly one wins.
func writeNewFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Signer signs DSSE envelopes with a private key loaded by LoadSigner. It
// implements dsse.Signer.
type Signer struct {
	key   crypto.Signer
	keyID string
	path  string
}

// Verifier checks DSSE signatures with a public key. It implements
// dsse.Verifier.
type Verifier struct {
	pub   crypto.PublicKey
	keyID string
	path  string
}

var (
	_ dsse.Signer   = (*Signer)(nil)
	_ dsse.Verifier = (*Verifier)(nil)
)

// LoadSigner reads a PKCS#8 PEM private key (ECDSA P-256 or Ed25519). It
// refuses a file that group or others may read: a signing key that other
// users can copy makes every attestation it signs worthless.
func LoadSigner(path string) (*Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("private key %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("private key %s has mode %04o: it must not be accessible by group or others (chmod 600 %s)", path, perm, path)
	}
	block, err := readPEM(path, pemPrivate)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key %s: not a PKCS#8 key: %w", path, err)
	}
	var signer crypto.Signer
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("private key %s: ECDSA curve %s is not supported (want P-256)", path, k.Curve.Params().Name)
		}
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return nil, fmt.Errorf("private key %s: unsupported key type %T (want ECDSA P-256 or Ed25519)", path, k)
	}
	id, err := KeyID(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return &Signer{key: signer, keyID: id, path: path}, nil
}

// LoadVerifier reads a PKIX PEM public key (ECDSA P-256 or Ed25519).
func LoadVerifier(path string) (*Verifier, error) {
	block, err := readPEM(path, pemPublic)
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key %s: not a PKIX key: %w", path, err)
	}
	v, err := NewVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	v.path = path
	return v, nil
}

// NewVerifier returns a Verifier for an ECDSA P-256 or Ed25519 public key.
func NewVerifier(pub crypto.PublicKey) (*Verifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA curve %s is not supported (want P-256)", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T (want ECDSA P-256 or Ed25519)", pub)
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &Verifier{pub: pub, keyID: id}, nil
}

func readPEM(path, wantType string) (*pem.Block, error) {
	data, err := inputfile.Read(path, inputfile.Key)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("key %s: no PEM block found", path)
	}
	if block.Type != wantType {
		return nil, fmt.Errorf("key %s: PEM block is %q, want %q", path, block.Type, wantType)
	}
	return block, nil
}

// KeyID is the DSSE key id of a public key, computed exactly as
// go-securesystemslib's dsse.SHA256KeyID does: the OpenSSH SHA-256
// fingerprint ("SHA256:" and unpadded base64 of SHA-256 over the SSH wire
// encoding of the key). It is not a hash of the PKIX DER (that is
// Fingerprint), nor the id of signerverifier.LoadKey (SHA-256 of the
// canonical JSON of a securesystemslib key): it is the id that
// go-securesystemslib's EnvelopeVerifier recomputes when it is handed a
// bare key, and that verifier skips signatures whose keyid differs.
// cosign 2.6.5 ignores the keyid (checked in test/bats/attest.bats).
func KeyID(pub crypto.PublicKey) (string, error) {
	id, err := dsse.SHA256KeyID(pub)
	if err != nil {
		return "", fmt.Errorf("compute key id: %w", err)
	}
	return id, nil
}

// Fingerprint is the lowercase hex SHA-256 of the PKIX DER encoding of a
// public key, the form auditors can recompute with
// `openssl pkey -pubin -in KEY.pub -outform DER | sha256sum`. It is
// recorded in the predicate (host.keyFingerprint).
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// Sign signs data (the DSSE PAE). ECDSA signs its SHA-256 digest, Ed25519
// the message itself.
func (s *Signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	switch k := s.key.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256(data)
		return ecdsa.SignASN1(rand.Reader, k, sum[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(k, data), nil
	}
	return nil, fmt.Errorf("private key %s: unsupported key type %T", s.path, s.key)
}

// KeyID returns the DSSE key id (see KeyID).
func (s *Signer) KeyID() (string, error) { return s.keyID, nil }

// Public returns the public half of the signing key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Verifier returns a Verifier for the signer's public key.
func (s *Signer) Verifier() *Verifier {
	return &Verifier{pub: s.key.Public(), keyID: s.keyID, path: s.path}
}

// errBadSignature is returned by Verifier.Verify.
var errBadSignature = errors.New("signature does not match")

// Verify checks sig over data (the DSSE PAE).
func (v *Verifier) Verify(_ context.Context, data, sig []byte) error {
	switch k := v.pub.(type) {
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(data)
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return nil
		}
	case ed25519.PublicKey:
		if ed25519.Verify(k, data, sig) {
			return nil
		}
	}
	return errBadSignature
}

// KeyID returns the DSSE key id (see KeyID).
func (v *Verifier) KeyID() (string, error) { return v.keyID, nil }

// Public returns the public key.
func (v *Verifier) Public() crypto.PublicKey { return v.pub }
