#!/usr/bin/env bash
# Makes a local certificate authority and the certificates a shadowplane setup needs, with openssl:
#
#   deploy/local-ca.sh DIR [--agent LOCATION]... [--client NAME]...
#
# DIR/ca.pem               the CA every process trusts (--tls_ca, shadowctl --ca)
# DIR/server.{pem,key}     the control plane: SAN control-plane.shadowplane, localhost, 127.0.0.1, ::1
# DIR/agent-L.{pem,key}    the agent of location L: SAN L.agent.shadowplane
# DIR/client-N.{pem,key}   a caller: SAN N (map it to a role with `certificate: N` in the tokens file)
#
# Identities are the DNS names in the certificates' subject alternative names
# (src/common/transport_security.h). Every certificate serves and calls (serverAuth, clientAuth):
# agents and the server are both. Keys are EC P-256, readable by their owner only.
# Idempotent: what exists is kept (the CA's key included), so running it again only adds what is
# missing; delete a file to renew it. Certificates are valid for VALID_DAYS (default 825).
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 DIR [--agent LOCATION]... [--client NAME]..." >&2
  exit 2
fi
DIR=$1
shift
VALID_DAYS=${VALID_DAYS:-825}
umask 077
mkdir -p "$DIR"

if [[ ! -f "$DIR/ca.pem" || ! -f "$DIR/ca.key" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -days "$VALID_DAYS" -subj "/O=shadowplane/CN=shadowplane local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  chmod 644 "$DIR/ca.pem"
fi

# issue NAME COMMON_NAME SAN...
issue() {
  local name=$1 cn=$2
  shift 2
  [[ -f "$DIR/$name.pem" && -f "$DIR/$name.key" ]] && return 0
  local sans
  sans=$(printf ',%s' "$@")
  sans=${sans:1}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -subj "/O=shadowplane/CN=$cn" -addext "subjectAltName=$sans" \
    -keyout "$DIR/$name.key" -out "$DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
    -CAcreateserial -days "$VALID_DAYS" -sha256 -copy_extensions copyall \
    -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth") \
    -out "$DIR/$name.pem" 2>/dev/null
  rm -f "$DIR/$name.csr"
  chmod 644 "$DIR/$name.pem"
  chmod 600 "$DIR/$name.key"
}

valid_name() { [[ "$1" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]]; }

issue server control-plane.shadowplane DNS:control-plane.shadowplane DNS:localhost \
  IP:127.0.0.1 IP:::1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --agent | --client)
      if [[ $# -lt 2 ]] || ! valid_name "$2"; then
        echo "$0: $1 needs a name of lower-case letters, digits, '-' or '_'" >&2
        exit 2
      fi
      if [[ "$1" == --agent ]]; then
        issue "agent-$2" "$2.agent.shadowplane" "DNS:$2.agent.shadowplane"
      else
        issue "client-$2" "$2" "DNS:$2"
      fi
      shift 2
      ;;
    *)
      echo "$0: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
done
