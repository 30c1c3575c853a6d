#!/usr/bin/env bash
# `npm start`: the live demo (generator, pipelines, dashboard on http://127.0.0.1:7070).
# Arguments pass through: npm start -- --port 8080 --rate 3000
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh
exec node examples/demo/main.ts "$@"
