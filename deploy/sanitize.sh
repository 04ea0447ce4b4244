#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer (in build-asan,
# beside the normal build) and run as deploy/test.sh runs it: any report fails the test that made
# it. Extra arguments go to ctest, e.g. ./deploy/sanitize.sh -L unit
#
# ThreadSanitizer is not offered: Debian's Abseil is not built with it, so TSan cannot see
# absl::Mutex, which guards nearly all of our shared state, and reports races that are not there
# (deploy/tsan-probe.sh shows it). Our concurrent components are covered by stress tests, which
# run here under AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR="${BUILD_DIR:-build-asan}"
export CMAKE_ARGS="-DSHADOWPLANE_SANITIZE=address,undefined ${CMAKE_ARGS:-}"
# Leak checking stays on. abort_on_error gives a core and a clear failure in the child processes
# the tests start; UBSan stops at the first report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Leaks of libraries that are not ours, each with its reason: deploy/lsan.supp.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/deploy/lsan.supp:print_suppressions=0}"
exec ./deploy/test.sh "$@"
