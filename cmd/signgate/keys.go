package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
)

// apiFlags adds --api-url to a client subcommand's flags.
func apiFlags(e *env, fset *flag.FlagSet) *string {
	def := e.environ["SIGNGATE_API_URL"]
	if def == "" {
		def = edge.DefaultAPIURL
	}
	return fset.String("api-url", def, "control API `URL` (default from SIGNGATE_API_URL, else Qencode's)")
}

// apiClient returns a client for apiURL with credentials from the
// environment: SIGNGATE_API_TOKEN as it is, or SIGNGATE_API_KEY exchanged
// for a token through POST /v1/access_token/{api_key}.
func apiClient(e *env, apiURL string) (*edge.Client, error) {
	c := &edge.Client{BaseURL: apiURL}
	if tok := e.environ["SIGNGATE_API_TOKEN"]; tok != "" {
		c.Token = config.Secret(tok)
		return c, nil
	}
	key := config.Secret(e.environ["SIGNGATE_API_KEY"])
	if key == "" {
		return nil, usagef("set SIGNGATE_API_TOKEN (a bearer token) or SIGNGATE_API_KEY (exchanged for one)")
	}
	tok, _, err := c.AccessToken(e.ctx, key)
	if err != nil {
		return nil, fmt.Errorf("exchange SIGNGATE_API_KEY for a token: %w", err)
	}
	c.Token = tok
	return c, nil
}

const keysSynopsis = "create|list|get|rename|delete [flags] [arguments]"

const keysAbout = `
Manage signing keys through a Qencode-compatible control API (Qencode's, or a
signgate edge's):

  keys create (--bucket B | --stream-id S) [--name N] [--out FILE] [--print-private-key]
  keys list [--json]
  keys get ID
  keys rename ID NAME
  keys delete ID

Credentials come from SIGNGATE_API_TOKEN, or from SIGNGATE_API_KEY exchanged
for a token. A new key's private half is shown once by the API: it is written
to a file with mode 0600 (never over an existing file), and printed only with
--print-private-key.`

func runKeys(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "Usage: signgate keys %s\n%s\n", keysSynopsis, keysAbout)
		return errUsage
	}
	switch args[0] {
	case "create":
		return runKeysCreate(e, args[1:])
	case "list":
		return runKeysList(e, args[1:])
	case "get":
		return runKeysGet(e, args[1:])
	case "rename":
		return runKeysRename(e, args[1:])
	case "delete":
		return runKeysDelete(e, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(e.stdout, "Usage: signgate keys %s\n%s\n", keysSynopsis, keysAbout)
		return nil
	}
	return usagef("keys: unknown subcommand %q, want create, list, get, rename or delete", args[0])
}

func runKeysCreate(e *env, args []string) error {
	fset := newFlags(e, "keys create", "(--bucket B | --stream-id S) [flags]", `
Create a signing key for a bucket or a live stream. The private key (PKCS#1
PEM; PKCS#8 for --algorithm EdDSA) is written to --out, mode 0600; the
default file is ID.pem in the current directory. A --out file whose name
ends in .json gets the API's answer instead, {"signing_key": {"id", ...,
"private_key"}}: the kid and the key in one file, for
SIGNGATE_ROUTES_n_KEY_JSON_FILE. An existing file is never overwritten.`)
	apiURL := apiFlags(e, fset)
	bucket := fset.String("bucket", "", "the `bucket` the key signs for")
	stream := fset.String("stream-id", "", "the live stream `id` the key signs for")
	name := fset.String("name", "", "a `name` for the key")
	alg := fset.String("algorithm", "RS256", "`RS256` (Qencode's), or EdDSA (an Ed25519 key for the ed25519 scheme)")
	out := fset.String("out", "", "private key `file` (default ID.pem); FILE.json: kid and key as JSON")
	printKey := fset.Bool("print-private-key", false, "also print the private key on standard output")
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("keys create: unexpected argument %q", pos[0])
	}
	if (*bucket == "") == (*stream == "") {
		return usagef("keys create: give one of --bucket and --stream-id")
	}
	// Claim an explicit file first, so that a key is never created whose
	// private half cannot be kept.
	var f *os.File
	if *out != "" {
		if f, err = createSecretFile(*out); err != nil {
			return fmt.Errorf("keys create: %w", err)
		}
		defer func() {
			if f != nil { // not written: leave nothing behind
				f.Close()
				os.Remove(*out)
			}
		}()
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	k, err := c.CreateKey(e.ctx, edge.CreateKeyRequest{Bucket: *bucket, StreamID: *stream, Name: edge.NullString(*name), Algorithm: *alg})
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	path := *out
	if f == nil {
		path = keyFileName(k.ID)
		f, err = createSecretFile(path)
	}
	if err == nil {
		_, err = f.Write(keyFileContent(path, k))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			f = nil
		}
	}
	if err != nil {
		// The private key cannot be kept: delete the key rather than
		// leave one nobody can sign with.
		if derr := c.DeleteKey(e.ctx, k.ID); derr != nil {
			return fmt.Errorf("keys create: write the private key: %w; and deleting the new key %s failed: %w", err, k.ID, derr)
		}
		return fmt.Errorf("keys create: write the private key: %w (key %s deleted again)", err, k.ID)
	}
	fmt.Fprintf(e.stdout, "id: %s\nname: %s\n", k.ID, dash(k.Name))
	if k.Bucket != "" {
		fmt.Fprintf(e.stdout, "bucket: %s\n", k.Bucket)
	} else {
		fmt.Fprintf(e.stdout, "stream_id: %s\n", k.StreamID)
	}
	fmt.Fprintf(e.stdout, "created: %s\nprivate key: %s (mode 0600)\n", created(k.Created), path)
	if *printKey {
		fmt.Fprintf(e.stdout, "\n%s", k.PrivateKey.Reveal())
	}
	return nil
}

// keyFileContent is what keys create writes to path for key k: the PEM,
// or, for a path ending in .json, the create answer with the private key
// in it (the form SIGNGATE_ROUTES_n_KEY_JSON_FILE reads).
func keyFileContent(path string, k edge.NewKey) []byte {
	if !strings.HasSuffix(strings.ToLower(path), ".json") {
		return []byte(k.PrivateKey.Reveal())
	}
	var doc struct {
		SigningKey struct {
			edge.KeyInfo
			PrivateKey string `json:"private_key"`
		} `json:"signing_key"`
	}
	doc.SigningKey.KeyInfo, doc.SigningKey.PrivateKey = k.KeyInfo, k.PrivateKey.Reveal()
	b, _ := json.MarshalIndent(doc, "", "  ") // strings only: never fails
	return append(b, '\n')
}

// keyFileName is the default private key file of key id: the id made safe
// as a file name (the API's answer is not trusted with a path), plus .pem.
func keyFileName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b) + ".pem"
}

// createSecretFile creates path with mode 0600 for writing; it never
// opens an existing file.
func createSecretFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s exists; not overwriting it", path)
	}
	return f, err
}

func runKeysList(e *env, args []string) error {
	fset := newFlags(e, "keys list", "[--json]", "List the signing keys, without private keys.")
	apiURL := apiFlags(e, fset)
	asJSON := fset.Bool("json", false, "print JSON")
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("keys list: unexpected argument %q", pos[0])
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	ks, err := c.Keys(e.ctx)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	if *asJSON {
		for i := range ks {
			ks[i].PublicKey = ""
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ks)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBUCKET\tSTREAM\tCREATED")
	for _, k := range ks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, dash(k.Name), dash(k.Bucket), dash(k.StreamID), created(k.Created))
	}
	return tw.Flush()
}

// dash shows an empty or null field as "-".
func dash[S ~string](s S) string {
	if s == "" {
		return "-"
	}
	return string(s)
}

// created shows a key's creation time in Qencode's form, UTC, whichever
// form the API answered (older signgate edges: RFC 3339); an answer in
// neither form is shown as it came.
func created(s string) string {
	t, err := edge.ParseCreated(s)
	if err != nil {
		return dash(s)
	}
	return t.Format(edge.CreatedLayout) + " UTC"
}

func runKeysGet(e *env, args []string) error {
	fset := newFlags(e, "keys get", "ID", "Show one signing key and its public key.")
	apiURL := apiFlags(e, fset)
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("keys get: want exactly one key id, got %d", len(pos))
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	k, err := c.Key(e.ctx, pos[0])
	if err != nil {
		return fmt.Errorf("keys get: %w", err)
	}
	fmt.Fprintf(e.stdout, "id: %s\nname: %s\nbucket: %s\nstream_id: %s\ncreated: %s\n", k.ID, dash(k.Name), dash(k.Bucket), dash(k.StreamID), created(k.Created))
	if k.PublicKey != "" {
		fmt.Fprintf(e.stdout, "\n%s", k.PublicKey)
	}
	return nil
}

func runKeysRename(e *env, args []string) error {
	fset := newFlags(e, "keys rename", "ID NAME", "Rename a signing key.")
	apiURL := apiFlags(e, fset)
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("keys rename: want a key id and a name, got %d arguments", len(pos))
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	k, err := c.RenameKey(e.ctx, pos[0], pos[1])
	if err != nil {
		return fmt.Errorf("keys rename: %w", err)
	}
	fmt.Fprintf(e.stdout, "renamed %s to %q\n", k.ID, k.Name)
	return nil
}

func runKeysDelete(e *env, args []string) error {
	fset := newFlags(e, "keys delete", "ID", "Delete a signing key: every URL signed with it stops working.")
	apiURL := apiFlags(e, fset)
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("keys delete: want exactly one key id, got %d", len(pos))
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	conf, known, err := c.DeleteKeyConfirmed(e.ctx, pos[0])
	if err != nil {
		return fmt.Errorf("keys delete: %w", err)
	}
	fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
	warnUnconfirmed(e, conf, known)
	return nil
}
