// Command signer mints a Qencode-compatible signed-URL token with
// signgate's signer package:
//
//	go run ./docs/samples/go/signer KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]
//
// KEY_FILE is the signing key's private half, PKCS#1 PEM ("BEGIN RSA
// PRIVATE KEY"), as the API returned it when the key was created. KID is
// the key's id, URI the path (or directory) the token grants ("" for the
// whole bucket), TTL its lifetime in seconds. nbf=SECONDS makes the token
// active SECONDS from now (0: at once); any other NAME=VALUE is a custom
// string claim. The token goes to standard output; append it to the URL as
// ?auth=TOKEN (signer.SignedURL builds the whole URL).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

func main() {
	tok, err := run(os.Args[1:], time.Now())
	if err != nil {
		fmt.Fprintf(os.Stderr, "signer: %v\nusage: signer KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]\n", err)
		os.Exit(2)
	}
	fmt.Println(tok)
}

func run(args []string, now time.Time) (string, error) {
	if len(args) < 4 {
		return "", fmt.Errorf("want KEY_FILE KID URI TTL")
	}
	pemBytes, err := os.ReadFile(args[0])
	if err != nil {
		return "", err
	}
	priv, err := signer.ParsePrivateKey(pemBytes)
	if err != nil {
		return "", err
	}
	ttl, err := strconv.Atoi(args[3])
	if err != nil {
		return "", fmt.Errorf("TTL %s is not a whole number of seconds", args[3])
	}
	c := signer.Claims{URI: args[2], Expires: now.Add(time.Duration(ttl) * time.Second)}
	for _, arg := range args[4:] {
		name, value, ok := strings.Cut(arg, "=")
		switch {
		case !ok || name == "":
			return "", fmt.Errorf("%s is not NAME=VALUE", arg)
		case name == "nbf":
			s, err := strconv.Atoi(value)
			if err != nil {
				return "", fmt.Errorf("nbf=%s is not a whole number of seconds", value)
			}
			c.NotBefore = now.Add(time.Duration(s) * time.Second)
		case name == "uri" || name == "exp":
			return "", fmt.Errorf("%s is set from the arguments", name)
		default:
			if c.Extra == nil {
				c.Extra = map[string]any{}
			}
			c.Extra[name] = value
		}
	}
	k := &signer.SigningKey{ID: args[1], Key: priv}
	return k.Sign(c)
}
