package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/record"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func init() { recordSubcommands = append(recordSubcommands, newRecordGenerateCommand) }

// recordingFile is what a recording file may be: a few thousand syscall
// entries at most.
var recordingFile = inputfile.Kind{Name: "a recording", Max: 16 << 20, Limit: "16 MiB"}

// recordGenerateOptions are the flags of `record generate`.
type recordGenerateOptions struct {
	format, base, output, name   string
	attest                       bool
	key, attestOut               string
	allowIncomplete, dropUnnamed bool
	sources                      sourceFlags
	recordings                   []string
}

func newRecordGenerateCommand() *cobra.Command {
	var o recordGenerateOptions
	cmd := &cobra.Command{
		Use:   "generate [--format oci|docker|spo] [--base SOURCE] [-o FILE] [--attest] RECORDING.json...",
		Short: "Write a least-privilege seccomp profile from recordings",
		Long: `Write a seccomp profile that allows what the recordings saw and nothing
else: default SCMP_ACT_ERRNO (EPERM); the recorded syscalls allowed; clone
only with the recorded combinations of namespace flags (SCMP_CMP_MASKED_EQ
on the namespace mask); socket and personality only with the recorded
argument values where at most 16 were seen (SCMP_CMP_EQ on all 64 bits).
Several recordings are merged (a syscall of any of them is allowed).

It adds nothing silently. What is not a plain "allow what was recorded" is
printed on stderr: clone3 is answered ENOSYS so that the C library falls
back to clone (whose flags the profile tests), and clone is added for that
fallback when only clone3 was recorded; the syscalls the recording profile
let through without asking the recorder (write, exit, exit_group) are
allowed; what a recorded in-memory-arguments syscall covers is allowed (openat2
recorded: open and openat, which it can stand in for anyway); the known
syscalls not allowed are named
with ERRNO(EPERM), so that runc's ENOSYS stub answers ENOSYS only for
numbers newer than seccomp-attest's syscall tables (and the runtime's
libseccomp): EPERM for every known syscall the workload did not make.
A recorded number without a name in the architecture's table is refused
(--drop-unnamed leaves it out), and so is a recording without execve: every
runtime execs the workload after loading the filter, so no container could
start. The runtime's other syscalls after the filter (runc init's tail) are
in a recording made by the recorder and added by nothing else: record with
the runtime the profile is for (docs/record.md).

--format: oci (a runtime-spec linux.seccomp object, for runc, crun and
config.json), docker (a Docker/podman profile with archMap, for --security-opt
seccomp=FILE) or spo (a Security Profiles Operator SeccompProfile resource,
metadata.name from --name or the output file's name).

--base SOURCE (builtin:docker-default, a profile file, ...): write only what
the base does not already allow for the recorded calls: a profile of
additions to merge into the base (the recorded syscalls the base allows
whatever the arguments, and recorded argument values the base allows, are
left out; no ENOSYS pinning, that is the base's). The base is resolved for
--capabilities.

An incomplete recording (its recorder died or lost calls) is refused: a
profile from it could kill the workload on a path it never saw recorded.
--allow-incomplete writes it anyway, marked: a comment on every Docker rule,
an annotation on the SPO resource, recording.complete=false in the
attestation, and a warning (an OCI profile has no field for it).

--attest (needs -o FILE) signs a recording attestation with --key (default
the host key) into --attest-out (default FILE.intoto.jsonl): the recordings
(container, image, command, times, recorder, digests), the profile's format
and digest (the one subject: cosign verify-blob-attestation checks the
file) and its seccompDigest, which equals intended.seccompDigest in the
attestation of a container started with the profile. seccomp-attest verify
checks it.

Exit status: 0 written, 2 error (an incomplete recording without
--allow-incomplete, an unnamed syscall number, an unreadable base).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.recordings = args
			return runRecordGenerate(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", string(record.FormatOCI), "profile format: oci, docker or spo")
	f.StringVar(&o.base, "base", "", "write only what this SOURCE (builtin:NAME, a profile, ...) does not already allow")
	f.StringVarP(&o.output, "output", "o", "", "write the profile to FILE (default standard output)")
	f.StringVar(&o.name, "name", "", "metadata.name of the spo resource (default: the output file's name)")
	f.BoolVar(&o.attest, "attest", false, "sign a recording attestation of the profile (needs -o)")
	f.StringVar(&o.key, "key", config.DefaultKey, "private signing key for --attest")
	f.StringVar(&o.attestOut, "attest-out", "", "where --attest writes (default FILE.intoto.jsonl)")
	f.BoolVar(&o.allowIncomplete, "allow-incomplete", false, "generate from an incomplete recording, marked incomplete")
	f.BoolVar(&o.dropUnnamed, "drop-unnamed", false, "leave out recorded syscall numbers that have no name instead of refusing")
	o.sources.register(cmd, "the base profile")
	return cmd
}

func runRecordGenerate(cmd *cobra.Command, o *recordGenerateOptions) error {
	format, err := record.ParseFormat(o.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if o.attest && o.output == "" {
		return fmt.Errorf("--attest needs -o FILE: the attestation's subject is the profile file")
	}
	// Writing over an input or over the other output loses evidence: the
	// recording whose digest the attestation names, or the profile it
	// signs (an attestation written over its own subject never verifies).
	if o.output != "" {
		outputs := []string{o.output}
		if o.attest {
			attestOut := o.attestOut
			if attestOut == "" {
				attestOut = o.output + ".intoto.jsonl"
			}
			if samePath(o.output, attestOut) {
				return fmt.Errorf("--attest-out %s is the profile's file -o %s: the attestation would replace the profile it signs", attestOut, o.output)
			}
			outputs = append(outputs, attestOut)
		}
		for _, out := range outputs {
			for _, in := range o.recordings {
				if samePath(out, in) {
					return fmt.Errorf("%s is also a recording to read: writing it would replace the recording", out)
				}
			}
		}
	}
	var signer *attest.Signer
	if o.attest {
		// Before any work: a missing key is the user's first error.
		if signer, err = attest.LoadSigner(o.key); err != nil {
			return fmt.Errorf("--key: %w", err)
		}
	}
	merged, workloads, err := readRecordings(o.recordings)
	if err != nil {
		return err
	}
	opts := record.GenerateOptions{AllowIncomplete: o.allowIncomplete, DropUnnamed: o.dropUnnamed}
	if o.base != "" {
		r, err := o.sources.resolver()
		if err != nil {
			return err
		}
		res, err := resolveSource(r, o.base)
		if err != nil {
			return fmt.Errorf("--base: %w", err)
		}
		if len(res.Stack) == 0 {
			return fmt.Errorf("--base %s: no seccomp filter, it allows everything", o.base)
		}
		opts.Base, opts.BaseSource = res.Stack, o.base
	}
	g, err := record.Generate(merged, opts)
	if err != nil {
		return err
	}
	for _, n := range g.Notes {
		// A note can carry a recording's own text (its problem): escaped,
		// it cannot forge lines of this output.
		q := strconv.Quote(n)
		fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: record generate: %s\n", q[1:len(q)-1])
	}
	name := o.name
	if name == "" && o.output != "" {
		name = strings.TrimSuffix(filepath.Base(o.output), filepath.Ext(o.output))
	}
	out, err := g.Encode(format, name)
	if err != nil {
		return err
	}
	if o.output == "" {
		_, err = cmd.OutOrStdout().Write(out)
		return err
	}
	path, err := filepath.Abs(o.output)
	if err != nil {
		return err
	}
	if !o.attest {
		if err := attest.WriteFileAtomic(path, out, 0o644); err != nil {
			return fmt.Errorf("write profile: %w", err)
		}
		return nil
	}
	// With --attest nothing is written until the attestation is signed
	// and known to be readable by verify.
	// The digest of the profile as seccomp-attest loads it, the value a
	// container's attestation records for its config.json's linux.seccomp.
	loaded, err := spec.Parse(out, path, spec.Options{})
	if err != nil {
		return fmt.Errorf("the generated profile does not load back: %w", err)
	}
	seccompDigest, err := attest.SeccompDigest(loaded.Seccomp)
	if err != nil {
		return err
	}
	host, err := attest.HostInfo()
	if err != nil {
		return err
	}
	p := &attest.RecordingAttestation{
		Recordings: workloads,
		Profile: attest.GeneratedProfile{Path: path, Format: string(format), SeccompDigest: seccompDigest,
			Complete: !g.Incomplete, Base: g.Base},
		Host:  host,
		Tool:  attest.Tool{Name: pipeline.ToolName, Version: version.String()},
		Time:  time.Now().UTC().Format(time.RFC3339),
		Notes: g.Notes,
	}
	env, err := attest.SignRecording(cmd.Context(), p, out, signer)
	if err != nil {
		return err
	}
	if max := inputfile.Attestation.Max; int64(len(env)) > max {
		// The recordings' problems, commands and the notes go into it:
		// a signed attestation verify cannot read is no evidence.
		return fmt.Errorf("the recording attestation would be %d bytes, more than verify reads (%s): the recordings' metadata is too large; nothing written",
			len(env), inputfile.Attestation.Limit)
	}
	attestOut := o.attestOut
	if attestOut == "" {
		attestOut = path + ".intoto.jsonl"
	}
	if err := attest.WriteFileAtomic(path, out, 0o644); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	if err := attest.WriteFileAtomic(attestOut, env, 0o644); err != nil {
		return fmt.Errorf("write attestation: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: record generate: attestation %s (profile sha256 %s, seccompDigest %s)\n",
		attestOut, p.Profile.Digest, seccompDigest)
	return nil
}

// samePath reports whether a and b name the same file: the same absolute
// path, or existing files that are the same (a link, another spelling).
func samePath(a, b string) bool {
	aa, errA := filepath.Abs(a)
	ab, errB := filepath.Abs(b)
	if errA == nil && errB == nil && aa == ab {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// readRecordings decodes and merges the recording files; each is described
// for the attestation.
func readRecordings(paths []string) (*record.Recording, []attest.RecordedWorkload, error) {
	var merged *record.Recording
	var workloads []attest.RecordedWorkload
	for _, path := range paths {
		data, err := inputfile.Read(path, recordingFile)
		if err != nil {
			return nil, nil, err
		}
		r, err := record.Decode(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, nil, err
		}
		sum := sha256.Sum256(data)
		w := attest.RecordedWorkload{File: abs, Digest: hex.EncodeToString(sum[:]), Container: r.Container,
			Runtime: r.Runtime, Image: r.Image, Command: r.Command, Started: r.Started.UTC().Format(time.RFC3339),
			Recorder: r.Recorder, Complete: r.Complete, Problem: r.Problem}
		if !r.Ended.IsZero() {
			w.Ended = r.Ended.UTC().Format(time.RFC3339)
		}
		workloads = append(workloads, w)
		if merged == nil {
			merged = r
		} else {
			merged.Merge(r)
		}
	}
	return merged, workloads, nil
}
