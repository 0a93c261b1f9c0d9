#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end test of a really full disk under the job store (real HTTP on 127.0.0.1, the
# shipped models, a SQLite store on a 24 MB tmpfs that a filler file fills up):
#   - while the disk is full, POST /v1/jobs is refused with 503, Retry-After and "disk full",
#     and nothing is stored for it; everything else (predictions, health, reading the jobs)
#     keeps working;
#   - a server restarted on the full disk starts; its job workers cannot claim jobs (a write)
#     and try again every second, saying why in the log;
#   - once space is freed, every job the server accepted, before or during the full disk, ends
#     with exactly one result, and new jobs are accepted again.
# The test runs in a private mount namespace (unshare --mount --map-root-user), so it needs no
# root where unprivileged user namespaces are allowed (Debian's default) and mounts nothing
# outside itself. Needs MN_BIN, python3, curl, unshare and fallocate (util-linux).
# Ends with "N passed, M failed".
set -uo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if [[ -z ${MN_DISK_NS:-} ]]; then
    if ! unshare --mount --map-root-user true 2>/dev/null; then
        echo "FAIL  cannot make a private mount namespace (unshare --mount --map-root-user):"
        unshare --mount --map-root-user true 2>&1 | sed 's/^/      | /'
        echo "      this test mounts a small tmpfs to fill a real disk; it needs root or"
        echo "      unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    MN_DISK_NS=1 exec unshare --mount --map-root-user bash "$0" "$@"
fi

TMP=$(mktemp -d)
PID=
cleanup() {
    [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null
    umount "$TMP/disk" 2>/dev/null
    [[ -n ${KEEP:-} ]] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL  $1"
    [[ -f $TMP/body ]] && head -c 600 "$TMP/body" | sed 's/^/      | /'
    echo
}
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

mkdir -p "$TMP/disk"
if ! mount -t tmpfs -o size=24m tmpfs "$TMP/disk"; then
    echo "FAIL  mounting a 24 MB tmpfs in the private namespace"
    echo "0 passed, 1 failed"
    exit 1
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
U=http://127.0.0.1:$PORT
cat >"$TMP/pipelines.yaml" <<'EOF'
pipelines:
  default:
    steps:
      - model: lang
      - model: spam
        when: lang.label == "eng"
    output:
      language: lang.label
      spam: spam.label
EOF
start_server() { # start_server LOG ARGS...
    local log=$1
    shift
    "$BIN" serve --repo "$SRC/models" --pipelines "$TMP/pipelines.yaml" --store "$TMP/disk/jobs.db" \
        --listen "127.0.0.1:$PORT" --poll-seconds 0 --threads 2 "$@" >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$U/readyz" && return 0
        sleep 0.05
    done
    return 1
}
# First a node that only accepts jobs, so that all of them are still queued when the disk fills.
start_server "$TMP/serve1.log" --job-threads 0
check "server started with its store on the small disk" 'curl -s -o /dev/null "$U/readyz"'

# Batches of 500 texts of ~600 bytes (~300 KB of text each, more with the results).
python3 - "$TMP/batch.json" <<'EOF'
import json, sys
s = "Everyone has the right to freedom of thought, conscience and religion; this right includes freedom to change his religion or belief. "
json.dump({"texts": [(s * 5)[:560] + f" number {i}." for i in range(500)]}, open(sys.argv[1], "w"))
EOF
summary() { curl -s "$U/v1/jobs/summary"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# Leave ~4 MB free, then submit until the disk refuses.
avail=$(df --output=avail -B1 "$TMP/disk" | tail -1)
fallocate -l $((avail - 4 * 1024 * 1024)) "$TMP/disk/filler"
accepted=0
refused=
: >"$TMP/ids"
for i in $(seq 1 200); do
    code=$(curl -s -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" \
        --data-binary "@$TMP/batch.json")
    if [[ $code == 202 ]]; then
        python3 -c 'import json,sys; [print(j["id"]) for j in json.load(open(sys.argv[1]))["jobs"]]' "$TMP/body" >>"$TMP/ids"
        accepted=$((accepted + 500))
    else
        refused=$code
        break
    fi
done
check "jobs were accepted before the disk filled ($accepted)" '[[ $accepted -gt 0 ]]'
check "a full disk refuses new jobs with 503 (got ${refused:-none})" '[[ $refused == 503 ]]'
check "the refusal says the disk is full" 'grep -q "disk full" "$TMP/body"'
check "the refusal carries Retry-After" 'grep -qi "^retry-after: 1" "$TMP/headers"'
# Make sure the disk is really full now, whatever SQLite had in hand.
fallocate -l $(($(df --output=avail -B1 "$TMP/disk" | tail -1))) "$TMP/disk/filler2" 2>/dev/null
dd if=/dev/zero of="$TMP/disk/filler3" bs=4k 2>/dev/null
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" -d '{"text":"one more"}')
check "still full: a single text is refused too (503)" '[[ $code == 503 ]]'

code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$U/readyz")
check "still ready while the disk is full" '[[ $code == 200 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/models/spam:predict" -d '{"text":"Win a free cruise now"}')
check "predictions still answered while the disk is full" '[[ $code == 200 ]] && grep -q "\"label\"" "$TMP/body"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$U/v1/jobs/summary")
check "the jobs can still be read" '[[ $code == 200 ]]'
total=$(summary | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queued"]+d["running"]+d["done"]+d["failed"])' 2>/dev/null || echo -1)
check "the store holds exactly the accepted jobs ($total of $accepted)" '[[ $total == "$accepted" ]]'

# Restart on the full disk, now with a job thread: it starts, and cannot claim a job.
kill -TERM "$PID"
wait "$PID"
PID=
start_server "$TMP/serve2.log" --job-threads 1
check "the server starts again on the full disk" 'curl -s -o /dev/null "$U/readyz"'
sleep 3
done_full=$(summary | field done)
check "on the full disk no job can be claimed and run ($done_full of $accepted done)" \
    '[[ $done_full -lt $accepted ]]'
check "the server log names the full disk" 'grep -q "disk full" "$TMP/serve2.log"'

# Free the space: the workers' next try succeeds and the queue drains.
rm -f "$TMP/disk/filler" "$TMP/disk/filler2" "$TMP/disk/filler3"
for _ in $(seq 1 300); do
    [[ $(summary | field done) == "$accepted" ]] && break
    sleep 0.1
done
n=$(summary | field done)
check "after space is freed every accepted job is done ($n of $accepted)" '[[ $n == "$accepted" ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" -d '{"text":"Everyone has the right to rest."}')
check "new jobs are accepted again (202)" '[[ $code == 202 ]]'
echo "$accepted" >"$TMP/accepted"
"$BIN" jobs --server "$U" --wait --timeout 60 2>/dev/null
"$BIN" jobs --server "$U" --export jsonl >"$TMP/all.jsonl"
python3 - "$TMP/all.jsonl" "$TMP/ids" >"$TMP/verify" 2>&1 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [r["id"] for r in rows]
accepted = [int(l) for l in open(sys.argv[2])]
assert len(ids) == len(set(ids)), "a job listed twice"
assert set(accepted) <= set(ids), f"{len(set(accepted) - set(ids))} accepted jobs lost"
assert len(rows) == len(accepted) + 1, f"{len(rows)} jobs stored, {len(accepted)} + 1 accepted"
bad = [r["id"] for r in rows if r["state"] != "done" or not r.get("result")]
assert not bad, f"jobs without their one result: {bad[:5]}"
assert all(r["result"]["output"]["language"] == "eng" for r in rows)
print("verified", len(rows))
EOF
check "every accepted job has exactly one result, none lost, none stored twice" \
    'grep -q "^verified" "$TMP/verify" || { cat "$TMP/verify"; false; }'
check "the server is still running" 'kill -0 "$PID"'
kill -TERM "$PID"
wait "$PID"
rc=$?
check "it stops cleanly on SIGTERM (exit $rc)" '[[ $rc == 0 ]]'
PID=

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
