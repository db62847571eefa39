// Command golangjwt mints a Qencode-compatible signed-URL token with
// github.com/golang-jwt/jwt/v5 alone, for programs that do not want
// signgate as a dependency:
//
//	go run ./docs/samples/go/golangjwt KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]
//
// KEY_FILE is the signing key's private half, PKCS#1 PEM ("BEGIN RSA
// PRIVATE KEY"), as the API returned it when the key was created. KID is
// the key's id, URI the path (or directory) the token grants ("" for the
// whole bucket), TTL its lifetime in seconds. nbf=SECONDS makes the token
// active SECONDS from now (0: at once); any other NAME=VALUE is a custom
// string claim. The token goes to standard output; append it to the URL as
// ?auth=TOKEN.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	tok, err := run(os.Args[1:], time.Now())
	if err != nil {
		fmt.Fprintf(os.Stderr, "golangjwt: %v\nusage: golangjwt KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]\n", err)
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
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pemBytes) // PKCS#1, and PKCS#8 too
	if err != nil {
		return "", err
	}
	ttl, err := strconv.Atoi(args[3])
	if err != nil {
		return "", fmt.Errorf("TTL %s is not a whole number of seconds", args[3])
	}
	// exp and nbf are whole seconds (NumericDate rounds to the second
	// by default, jwt.TimePrecision).
	claims := jwt.MapClaims{"uri": args[2], "exp": jwt.NewNumericDate(now.Add(time.Duration(ttl) * time.Second))}
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
			claims["nbf"] = jwt.NewNumericDate(now.Add(time.Duration(s) * time.Second))
		case name == "uri" || name == "exp":
			return "", fmt.Errorf("%s is set from the arguments", name)
		default:
			claims[name] = value
		}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims) // header: alg RS256, typ JWT
	t.Header["kid"] = args[1]
	return t.SignedString(key)
}
