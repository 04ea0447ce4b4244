#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs shadowplane in the foreground on its embedded
# PostgreSQL (created on first run under the data directory, reused after). Ctrl-C stops the
# server and everything it started. Arguments go to shadowplane, e.g. --listen=0.0.0.0:50051.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane

exec "$BUILD_DIR/src/shadowplane" "$@"
