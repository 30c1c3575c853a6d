#!/usr/bin/env bash
# Runs every test that needs no outside service: unit, property (fast-check) and
# multi-process crash tests. Node runs the TypeScript sources directly (type stripping).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh
export SLUICE_TEST_TMP="${SLUICE_TEST_TMP:-$(mktemp -d)}"
trap 'rm -rf "$SLUICE_TEST_TMP"' EXIT
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
