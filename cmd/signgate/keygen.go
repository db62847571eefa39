package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/signgate/signgate/signer"
)

func runKeygen(e *env, args []string) error {
	fset := newFlags(e, "keygen", "[--bits 2048] [--out key.pem]", `
Make a new RSA signing key. The private key is written as PKCS#1 PEM with
mode 0600 (an existing file is never overwritten); a fresh kid and the public
key, as PEM and as a JWK, are printed.`)
	bits := fset.Int("bits", 2048, "key size in bits (2048 to 8192)")
	out := fset.String("out", "key.pem", "private key `file`")
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("keygen: unexpected argument %q", pos[0])
	}
	priv, err := signer.GenerateKey(*bits)
	if err != nil {
		return usagef("keygen: --bits: %v", err)
	}
	if err := writeSecretFile(*out, signer.EncodePrivateKey(priv)); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	pub := signer.PublicKey{ID: signer.NewKeyID(), Key: &priv.PublicKey}
	jwk, err := json.MarshalIndent(pub.JWK(), "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "kid: %s\nprivate key: %s (mode 0600)\n\npublic key (PEM):\n%s\npublic key (JWK):\n%s\n",
		pub.ID, *out, signer.EncodePublicKey(pub.Key), jwk)
	return nil
}

// writeSecretFile creates path with mode 0600 and writes data; it never
// replaces an existing file.
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; not overwriting it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
