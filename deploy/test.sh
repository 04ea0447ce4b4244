#!/usr/bin/env bash
# Installs what is missing, builds, starts a throwaway PostgreSQL on a free loopback port, runs
# every test with ctest, and stops the database even when tests fail. Exits non-zero on any
# failure. Extra arguments go to ctest, e.g. ./deploy/test.sh -L unit  (labels: unit, pg, e2e).
# Environment: BUILD_DIR (default build), CMAKE_ARGS (more cmake options, as deploy/sanitize.sh
# gives them).
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
WERROR=OFF
[[ -n "${CI:-}" ]] && WERROR=ON
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHADOWPLANE_WERROR=$WERROR \
  ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

source deploy/lib/throwaway-postgres.sh
start_throwaway_postgres

ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300 -j "$(nproc)" "$@"
