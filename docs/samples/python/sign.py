#!/usr/bin/env python3
"""Mint a Qencode-compatible signed-URL token with PyJWT (Debian: python3-jwt).

    python3 sign.py KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]

KEY_FILE is the signing key's private half, PKCS#1 PEM ("BEGIN RSA PRIVATE
KEY"), as the API returned it when the key was created. KID is the key's id,
URI the path (or directory) the token grants ("" for the whole bucket), TTL
its lifetime in seconds. nbf=SECONDS makes the token active SECONDS from now
(0: at once); any other NAME=VALUE is a custom string claim. The token goes
to standard output; append it to the URL as ?auth=TOKEN.
"""
import sys
import time

import jwt  # PyJWT; RS256 needs python3-cryptography as well


def usage(msg):
    sys.exit(f"sign.py: {msg}\nusage: python3 sign.py KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]")


def main(argv):
    if len(argv) < 4:
        usage("want KEY_FILE KID URI TTL")
    key_file, kid, uri, ttl, extra = argv[0], argv[1], argv[2], argv[3], argv[4:]
    try:
        ttl = int(ttl)
    except ValueError:
        usage(f"TTL {ttl} is not a whole number of seconds")
    now = int(time.time())
    claims = {"uri": uri, "exp": now + ttl}
    for arg in extra:
        name, eq, value = arg.partition("=")
        if not name or not eq:
            usage(f"{arg} is not NAME=VALUE")
        if name == "nbf":
            try:
                claims["nbf"] = now + int(value)
            except ValueError:
                usage(f"nbf={value} is not a whole number of seconds")
        elif name in ("uri", "exp"):
            usage(f"{name} is set from the arguments")
        else:
            claims[name] = value
    with open(key_file, "rb") as f:
        key = f.read()
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})
    print(token)


if __name__ == "__main__":
    main(sys.argv[1:])
