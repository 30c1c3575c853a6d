#!/usr/bin/env bash
# Benchmarks: `npm run bench -- <suite> [args]`. Each suite is a module under bench/<suite>/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh
suite="${1:-}"
shift || true
case "$suite" in
  engine) exec node bench/engine/main.ts "$@" ;;
  *) echo "usage: npm run bench -- engine [events] [json|binary|both] [repeats]" >&2; exit 2 ;;
esac
