#!/bin/sh
# Mint a Qencode-compatible signed-URL token with openssl alone.
#
#   sh sign.sh KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]
#
# KEY_FILE is the signing key's private half, PKCS#1 PEM ("BEGIN RSA PRIVATE
# KEY"), as the API returned it when the key was created. KID is the key's
# id, URI the path (or directory) the token grants ("" for the whole
# bucket), TTL its lifetime in seconds. nbf=SECONDS makes the token active
# SECONDS from now (0: at once); any other NAME=VALUE is a custom string
# claim. The token goes to standard output; append it to the URL as
# ?auth=TOKEN.
#
# A JWT is base64url(header) "." base64url(payload) "." base64url(RSA
# PKCS#1 v1.5 signature over SHA-256 of the first two parts). base64url is
# base64 with + and / replaced by - and _, and no = padding.
set -eu

usage() {
  echo "sign.sh: $1" >&2
  echo "usage: sh sign.sh KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]" >&2
  exit 2
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# json_string quotes $1 as a JSON string. Backslashes and double quotes
# are escaped; control characters are refused rather than escaped.
json_string() {
  case $1 in
    *[[:cntrl:]]*) usage "a value holds a control character" ;;
  esac
  printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

whole() {
  case $1 in
    ''|-|*[!0-9-]*|?*-*) return 1 ;;
  esac
}

[ $# -ge 4 ] || usage "want KEY_FILE KID URI TTL"
key_file=$1 kid=$2 uri=$3 ttl=$4
shift 4
whole "$ttl" || usage "TTL $ttl is not a whole number of seconds"
now=$(date +%s)

payload="{\"uri\":$(json_string "$uri"),\"exp\":$((now + ttl))"
for arg in "$@"; do
  case $arg in
    =*|[!=]*=*) ;;
    *) usage "$arg is not NAME=VALUE" ;;
  esac
  name=${arg%%=*} value=${arg#*=}
  [ -n "$name" ] || usage "$arg is not NAME=VALUE"
  case $name in
    nbf)
      whole "$value" || usage "nbf=$value is not a whole number of seconds"
      payload="$payload,\"nbf\":$((now + value))" ;;
    uri|exp) usage "$name is set from the arguments" ;;
    *) payload="$payload,$(json_string "$name"):$(json_string "$value")" ;;
  esac
done
payload="$payload}"

header="{\"alg\":\"RS256\",\"kid\":$(json_string "$kid"),\"typ\":\"JWT\"}"
input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
signature=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$key_file" -binary | b64url)
printf '%s.%s\n' "$input" "$signature"
