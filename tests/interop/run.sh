#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Interop tests: real, unchanged third-party clients against `micronlp serve`. Not part of the
# CTest suite (they download the clients from the npm registry); run them by hand or in a job
# that has the registry:
#
#   bash tests/interop/run.sh [--bin PATH] [--cache DIR]
#
#   --bin PATH    micronlp binary (default: $MN_BIN, else build/micronlp)
#   --cache DIR   where the clients are installed (default: $MN_INTEROP_CACHE, else
#                 data/cache/interop, gitignored); reused while package-lock.json is unchanged
#
# The clients are pinned in tests/interop/package.json to exact versions, and
# tests/interop/package-lock.json records every package's sha512 (the client's dependencies
# too). `npm ci` installs exactly that tree and fails on any integrity mismatch; no install
# script runs (--ignore-scripts). To move to a newer client: edit the version in package.json,
# run `npm install --package-lock-only --ignore-scripts` in tests/interop/, review and commit
# both files.
#
# Clients:
#   hf.mjs   @huggingface/inference 4.13.30 (InferenceClient + endpointUrl) and 2.8.1
#            (HfInferenceEndpoint): text-classification and token-classification against
#            /hf/models/{spam,lang,sentiment,ner,pos}, answers parsed and checked, errors too.
#
# There is no Open Inference Protocol v2 REST client on the npm registry to run here (the
# maintained ones, Triton's tritonclient and KServe's SDK, are Python packages); the v2 API is
# covered by tests/e2e/serve.sh and tests/unit/serve/handlers.c.
#
# The server runs the shipped models (models/) on a free 127.0.0.1 port. Needs node >= 18, npm,
# python3 (to pick a port) and curl. Ends with "N passed, N failed" over all clients; exit
# status 1 if any check failed, 2 on a setup error.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MN_BIN:-$root/build/micronlp}
cache=${MN_INTEROP_CACHE:-$root/data/cache/interop}
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    -h | --help) sed -n '4,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "interop: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "interop: $*" >&2; exit 2; }

[ -x "$bin" ] || die "$bin: no micronlp binary (build first, or pass --bin)"
for t in node npm python3 curl; do command -v $t >/dev/null || die "$t not found (apt-get install nodejs npm python3 curl)"; done
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' || die "node >= 18 needed (fetch), found $(node --version)"
[ -d "$root/models" ] || die "$root/models: the shipped models are missing"

# ---- the pinned clients ------------------------------------------------------------------------
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || [ ! -d "$cache/node_modules" ]; then
    rm -rf "$cache/node_modules"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    echo "interop: npm ci (pinned clients, integrity checked) into $cache" >&2
    (cd "$cache" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
        { rm -f "$cache/package-lock.json"; die "npm ci failed (no registry, or an integrity mismatch)"; }
fi
# The tests run from the install directory, so that their imports resolve to its node_modules.
cp "$here"/*.mjs "$cache/"

# ---- the server ----------------------------------------------------------------------------------
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
url=http://127.0.0.1:$port
"$bin" serve --repo "$root/models" --listen "127.0.0.1:$port" --poll-seconds 0 >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    curl -sf -o /dev/null "$url/readyz" && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; die "the server exited"; }
    sleep 0.05
done
curl -sf -o /dev/null "$url/readyz" || { cat "$tmp/serve.log" >&2; die "the server did not get ready"; }

# ---- the clients ---------------------------------------------------------------------------------
passed=0
failed=0
for t in "$cache"/*.mjs; do
    name=$(basename "$t")
    echo "== $name"
    MN_URL=$url timeout 120 node "$t" | tee "$tmp/out"
    p=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/out" | tail -1)
    f=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/out" | tail -1)
    if [ -z "$p" ]; then # crashed or timed out before its summary
        p=0
        f=$((${f:-0} + 1))
        echo "FAIL  $name did not finish"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
