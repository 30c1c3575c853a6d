#!/usr/bin/env bash
# `npm run bench -- NAME [options]`: runs the benchmark bench/NAME/main.ts (log, engine, nexmark, checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh
name="${1:-}"
if [ -z "$name" ] || [ ! -f "bench/$name/main.ts" ]; then
  echo "usage: npm run bench -- NAME [options]" >&2
  echo "benchmarks: $(cd bench && for d in */; do [ -f "$d/main.ts" ] && printf '%s ' "${d%/}"; done)" >&2
  exit 2
fi
shift
exec node "bench/$name/main.ts" "$@"
