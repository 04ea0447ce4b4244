#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian 12 packages that shadowplane needs to build, test and
# run, and only those that are missing. Idempotent and quiet when everything is present.
# Also creates the unprivileged system user that runs PostgreSQL when shadowplane runs as root.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-format
  # gRPC 1.51, Protobuf 3.21, Abseil 20220623, the standard health.proto
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto libabsl-dev
  # PostgreSQL 15 server (the embedded default and the tests) and libpqxx 6.4
  libpqxx-dev libpq-dev postgresql-15 postgresql-client-15
  # metrics, configuration
  prometheus-cpp-dev libyaml-cpp-dev
  # the instance HTTP server (Boost.Beast on Asio); the HTTP client of the agent and the tests
  libboost-dev libcpp-httplib-dev
  # shadow sync: librsync 2.3, OpenSSL's SHA-256; rsync, bc and time for the sync benchmark
  librsync-dev libssl-dev rsync bc time
  # TLS: the openssl tool makes the local CA and certificates (deploy/local-ca.sh)
  openssl
  # origin geography: MaxMind databases (and the Perl writer the tests build one with)
  libmaxminddb-dev libmaxmind-db-writer-perl
  # forecasting
  libeigen3-dev
  # traffic switching: RFC 2136 updates with TSIG (ldns); Knot DNS, its tools and HAProxy for the
  # tests and the local setup
  libldns-dev knot knot-dnsutils haproxy socat
  # tests and benchmarks; promtool (package prometheus) checks the /metrics exposition
  libgtest-dev libgmock-dev libbenchmark-dev prometheus curl
  # the instance benchmark: nginx (with the WebDAV module, for PUT) as its baseline, wrk as load
  nginx-light wrk
)

SYSTEM_USER="${SHADOWPLANE_SYSTEM_USER:-shadowplane}"

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
  else
    SUDO=
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL refuses to run as root: the embedded launcher and deploy/test.sh run it as this user.
if [[ $(id -u) -eq 0 ]] && ! id -u "$SYSTEM_USER" >/dev/null 2>&1; then
  echo "install-deps: creating system user $SYSTEM_USER" >&2
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$SYSTEM_USER"
fi
