package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

func init() { subcommands = append(subcommands, newKeygenCommand) }

// keygenOptions are the flags of keygen.
type keygenOptions struct {
	keyType string
	out     string
}

func newKeygenCommand() *cobra.Command {
	var o keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Create the key pair that signs attestations",
		Long: `Create a signing key pair in DIR: signing.key (PKCS#8 PEM, mode 0600) and
signing.pub (PKIX PEM, give it to auditors). Existing files are never
overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return fmt.Errorf("keygen: --out DIR is required")
			}
			priv, pub, err := attest.GenerateKey(attest.KeyType(o.keyType), o.out)
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s\npublic key:  %s\n", priv, pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.keyType, "type", string(attest.KeyECDSAP256), "key type: ecdsa-p256 or ed25519")
	cmd.Flags().StringVar(&o.out, "out", "", "directory for signing.key and signing.pub")
	return cmd
}
