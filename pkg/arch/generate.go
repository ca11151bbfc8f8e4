package arch

// The syscall tables (zsyscalls_*.go) are generated from golang.org/x/sys;
// see internal/mksyscalls for where each one comes from.
//go:generate go run ./internal/mksyscalls -out .
