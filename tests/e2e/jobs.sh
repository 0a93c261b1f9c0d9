#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end test of pipelines and jobs over real HTTP on 127.0.0.1, with the shipped models
# and a SQLite store:
#   - the shipped models/pipelines.yaml is served: sure spam stops after the spam step, a review
#     gets every English model, 30 batches in a row (no worker slot is lost at load);
#   - /v1/analyze routes a German text past the English models and says why;
#   - `micronlp submit` sends 20,000 texts; the server is killed with SIGKILL in the middle of
#     the work and started again on the same store: every accepted job is still there, the
#     ones it was running are run again, every job ends with exactly one result, and
#     submitting the same file again stores nothing twice (all duplicates);
#   - a job whose pipeline no longer exists is retried and then dead-lettered with its error;
#   - the export formats (JSON lines, CSV), paging, bad requests (unknown pipeline, empty or
#     huge batches, bad filters) get clear errors;
#   - SIGTERM saves the batch in hand.
# Needs MN_BIN, python3 and curl. Ends with "N passed, M failed".
set -uo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
SRC=${MN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d)
PID=
cleanup() {
    [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

PORT=$(free_port)
U=http://127.0.0.1:$PORT
export MICRONLP_SERVER=$U

# A small routed pipeline over the shipped models; a second one that the restart drops.
cat >"$TMP/pipelines.yaml" <<'EOF'
pipelines:
  default:
    steps:
      - model: lang
      - model: spam
        when: lang.label == "eng" && words >= 3
      - model: sentiment
        when: lang.label == "eng"
    output:
      language: lang.label
      spam: spam.label
  doomed:
    steps:
      - model: spam
EOF
# The restart's file: "doomed" is gone, so its queued jobs fail and are dead-lettered.
python3 - "$TMP/pipelines.yaml" "$TMP/pipelines2.yaml" <<'EOF'
import sys
text = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(text.split("  doomed:")[0])
EOF

start_server() { # start_server LOG PIPELINES ARGS...
    local log=$1 pipes=$2
    shift 2
    "$BIN" serve --repo "$SRC/models" --pipelines "$pipes" --store "$TMP/jobs.db" \
        --listen "127.0.0.1:$PORT" --poll-seconds 0 --threads 2 --job-threads 2 "$@" >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$U/readyz" && return 0
        sleep 0.05
    done
    echo "server did not start:"
    cat "$log"
    return 1
}

summary() { curl -s "$U/v1/jobs/summary"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# ---- the shipped pipeline file, served --------------------------------------------------------
# Its `spam.prob.spam` terms make loading look labels up in the spam model, which takes one of
# the model's worker slots each time: every slot must come back, or spam (and every text that
# needs it) waits out the request timeout.
start_server "$TMP/serve0.log" "$SRC/models/pipelines.yaml" || exit 1
SPAM_MAIL="WINNER!! You have been selected for a FREE iPhone. Click http://bit.ly/xyz to claim your prize now!"
REVIEW="Honestly the best film I have seen this year, the actors were wonderful."
ok_n=0
for _ in $(seq 1 30); do
    curl -s -m 30 -o "$TMP/body" -X POST "$U/v1/analyze" \
        -d "{\"texts\":[\"$SPAM_MAIL\",\"$REVIEW\"]}" || continue
    python3 - "$TMP/body" <<'EOF' && ok_n=$((ok_n + 1))
import json, sys
spam, review = json.load(open(sys.argv[1]))["results"]
assert spam["steps"]["spam"]["status"] == "ok" and spam["output"]["spam"] == "spam", spam
assert spam["steps"]["ner"]["status"] == "skipped", spam
assert review["output"]["spam"] == "ham" and review["steps"]["sentiment"]["status"] == "ok", review
EOF
done
check "shipped pipelines: 30 analyze batches; sure spam stops after spam, a review gets every model" \
    '[[ $ok_n == 30 ]]'
kill -TERM "$PID"
wait "$PID"
rm -f "$TMP"/jobs.db*

start_server "$TMP/serve1.log" "$TMP/pipelines.yaml" || exit 1

# ---- /v1/analyze ------------------------------------------------------------------------------
curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/analyze" \
    -d '{"text":"Alle Menschen sind frei und gleich an Würde und Rechten geboren."}' >"$TMP/code"
check "analyze: 200" '[[ $(cat $TMP/code) == 200 ]]'
check "analyze: German text skips the English models, with the reason" \
    'grep -q "\"spam\":{\"status\":\"skipped\",\"model\":\"spam\",\"reason\":\"when \`lang.label == \\\\\"eng\\\\\" && words >= 3\` is false: lang.label = \\\\\"deu\\\\\"" $TMP/body'
curl -s -o "$TMP/body" -X POST "$U/v1/analyze" \
    -d '{"texts":["Everyone has the right to education.","Jeder hat das Recht auf Bildung."]}'
check "analyze: a batch gives one result per text" \
    '[[ $(python3 -c "import json; print(len(json.load(open(\"$TMP/body\"))[\"results\"]))") == 2 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/analyze" -d '{"pipeline":"nope","text":"x"}')
check "analyze: unknown pipeline is 404 with a message" '[[ $code == 404 ]] && grep -q "unknown pipeline" $TMP/body'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/analyze" -d '{"text":5}')
check "analyze: a text that is not a string is 422" '[[ $code == 422 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/analyze" -d '{"texts":[]}')
check "analyze: an empty list is 422" '[[ $code == 422 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$U/v1/pipelines")
check "pipelines are listed" '[[ $code == 200 ]] && grep -q "\"name\":\"default\"" $TMP/body'

# ---- submit, kill -9 mid-batch, restart ----------------------------------------------------
python3 - "$TMP/texts.txt" <<'EOF'
import sys
en = ["Everyone has the right to freedom of thought, conscience and religion, number {}.",
      "Win a brand new car today, offer {} expires soon, click now",
      "The film was wonderful and the actors were great, scene {}."]
de = "Jeder hat das Recht auf Leben, Freiheit und Sicherheit der Person, Nummer {}."
with open(sys.argv[1], "w") as f:
    for i in range(20000):  # four sentences each, so that the kill below finds work left
        f.write(" ".join([(de if i % 4 == 3 else en[i % 3]).format(i)] * 4) + "\n")
EOF
# A node that only accepts jobs (--job-threads 0) takes them all first, so the kill below
# finds work in progress whatever the speed of the machine.
kill -TERM "$PID"
wait "$PID"
start_server "$TMP/serve-accept.log" "$TMP/pipelines.yaml" --job-threads 0 || exit 1
"$BIN" submit "$TMP/texts.txt" --batch 1000 --print-ids --quiet >"$TMP/ids1" 2>"$TMP/submit1.err"
check "submit: 20,000 jobs accepted" '[[ $(wc -l <"$TMP/ids1") == 20000 ]]'
# Three jobs for the pipeline the restart will drop.
curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" \
    -d '{"pipeline":"doomed","texts":["a","b","c"]}' >"$TMP/code"
check "jobs: 202 for a batch" '[[ $(cat $TMP/code) == 202 ]]'
n=$(summary | field queued)
check "an accept-only node runs nothing (20003 queued)" '[[ $n == 20003 ]]'
kill -9 "$PID"
wait "$PID" 2>/dev/null

# Workers start; kill them once some, but not all, results are saved. One job thread, so that
# a fast machine does not finish all 20,000 between two looks.
start_server "$TMP/serve1.log" "$TMP/pipelines2.yaml" --job-threads 1 || exit 1
for _ in $(seq 1 1000); do
    done_n=$(summary | field done 2>/dev/null || echo 0)
    [[ $done_n -ge 2000 ]] && break
    sleep 0.01
done
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
check "killed in the middle of the work (some but not all done: $done_n)" \
    '[[ $done_n -ge 2000 && $done_n -lt 20000 ]]'

start_server "$TMP/serve2.log" "$TMP/pipelines2.yaml" || exit 1
"$BIN" serve --repo "$SRC/models" --pipelines "$TMP/pipelines2.yaml" --store "$TMP/jobs.db" \
    --listen 127.0.0.1:0 >"$TMP/body" 2>&1
check "a second server on the same store is refused, naming the owner" \
    '[[ $? == 1 ]] && grep -q "jobs.db.*in use by another process (pid $PID)" $TMP/body'
requeued=$(grep -o 'requeued=[0-9]*' "$TMP/serve2.log" | head -1 | cut -d= -f2)
check "restart: jobs the dead process was running are queued again (requeued=$requeued)" \
    '[[ -n $requeued ]]'
"$BIN" submit "$TMP/texts.txt" --batch 1000 2>"$TMP/submit2.err" >/dev/null
check "resubmitting the same file stores nothing new (20000 duplicates)" \
    'grep -q "(20000 already known by their key" "$TMP/submit2.err" || { "$BIN" submit "$TMP/texts.txt" --batch 1000 2>&1 | tail -1; false; }'
"$BIN" jobs --wait --timeout 120 2>"$TMP/wait.err"
check "all jobs finished after the restart" '[[ $? == 0 ]]'
# Idle job workers hold no model: an analysis right after is answered at once (a worker slot
# per model and thread: 2 job threads must not starve the HTTP threads).
t=$(curl -s -o "$TMP/body" -w '%{time_total}' -X POST "$U/v1/analyze" -d '{"text":"Everyone has the right to education."}')
check "analyze right after the jobs: answered in under a second (${t}s)" 'python3 -c "import sys; sys.exit(0 if $t < 1 else 1)"'

"$BIN" jobs --export jsonl >"$TMP/all.jsonl"
python3 - "$TMP/all.jsonl" "$TMP/ids1" >"$TMP/verify" 2>&1 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [r["id"] for r in rows]
accepted = {int(l.split("\t")[1]) for l in open(sys.argv[2])}
assert len(ids) == len(set(ids)), "a job listed twice"
assert len(rows) == 20003, f"{len(rows)} jobs, want 20003"
assert accepted <= set(ids), f"{len(accepted - set(ids))} accepted jobs lost"
done = [r for r in rows if r["state"] == "done"]
failed = [r for r in rows if r["state"] == "failed"]
assert len(done) == 20000, f"{len(done)} done"
assert all(r.get("result") and r["result"]["pipeline"] == "default" for r in done), "a done job without its result"
assert len(failed) == 3 and all("unknown pipeline 'doomed'" in r["error"] and r["attempts"] == 3 for r in failed), failed[:1]
de = [r for r in done if r["result"]["output"]["language"] == "deu"]
assert de and all(r["result"]["steps"]["spam"]["status"] == "skipped" for r in de)
print("verified", len(rows))
EOF
check "every accepted job has exactly one result; dead letters keep their error" \
    'grep -q "^verified 20003" $TMP/verify || { cat $TMP/verify; false; }'

# ---- listing, paging, export, errors --------------------------------------------------------
curl -s -o "$TMP/body" "$U/v1/jobs?state=failed"
check "list: filter by state" '[[ $(python3 -c "import json; print(len(json.load(open(\"$TMP/body\"))[\"jobs\"]))") == 3 ]]'
curl -s -o "$TMP/body" "$U/v1/jobs?limit=2&after=10"
check "list: paging by id" 'python3 -c "import json; d=json.load(open(\"$TMP/body\")); assert [j[\"id\"] for j in d[\"jobs\"]]==[11,12] and d[\"next_after\"]==12"'
curl -s -o "$TMP/body" "$U/v1/jobs?format=csv&limit=5"
check "export: CSV with a header and quoted fields" \
    '[[ $(head -1 $TMP/body | tr -d "\r") == "id,state,pipeline,attempts,created_ms,finished_ms,key,error,text,result" ]] && [[ $(python3 -c "import csv; print(len(list(csv.reader(open(\"$TMP/body\")))))") == 6 ]]'
"$BIN" jobs --export csv >"$TMP/all.csv"
check "export: micronlp jobs --export csv pages through all jobs" \
    '[[ $(python3 -c "import csv; print(len(list(csv.reader(open(\"$TMP/all.csv\")))))") == 20004 ]]'
"$BIN" jobs 1 >"$TMP/body"
check "micronlp jobs ID shows the job and its result" 'grep -q "\"state\": \"done\"" $TMP/body'
for q in "state=bogus" "format=xml" "limit=0" "after=x"; do
    code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$U/v1/jobs?$q")
    check "list: $q is 400" '[[ $code == 400 ]]'
done
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$U/v1/jobs/999999")
check "an unknown job is 404" '[[ $code == 404 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" -d '{"pipeline":"doomed","text":"x"}')
check "submit to an unknown pipeline is 404, nothing stored" '[[ $code == 404 ]]'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" -d '{"texts":["a"],"keys":["k1","k2"]}')
check "keys not matching texts is 400" '[[ $code == 400 ]]'
python3 -c 'import json; print(json.dumps({"texts": ["x"] * 10001}))' >"$TMP/huge.json"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$U/v1/jobs" --data-binary "@$TMP/huge.json")
check "more than 10,000 texts in one request is 413" '[[ $code == 413 ]]'
printf 'ok line\n\xff\xfe bad\n' >"$TMP/bad.txt"
"$BIN" submit "$TMP/bad.txt" --quiet 2>"$TMP/body"
check "submit: invalid UTF-8 names file and line" '[[ $? == 1 ]] && grep -q "bad.txt:2: invalid UTF-8" $TMP/body'
printf '{"text": "fine"}\n{"text": 3}\n' >"$TMP/bad.jsonl"
"$BIN" submit "$TMP/bad.jsonl" --quiet 2>"$TMP/body"
check "submit: a bad JSON line names file and line" '[[ $? == 1 ]] && grep -q "bad.jsonl:2:" $TMP/body'

# ---- SIGTERM with work in hand: saved, nothing left running ---------------------------------
"$BIN" submit "$TMP/texts.txt" --no-keys --batch 2000 --quiet >/dev/null 2>&1
kill -TERM "$PID"
wait "$PID"
PID=
start_server "$TMP/serve3.log" "$TMP/pipelines2.yaml" || exit 1
check "after SIGTERM nothing was left running (requeued=0)" 'grep -q "requeued=0" $TMP/serve3.log'
"$BIN" jobs --wait --timeout 120 2>/dev/null
n=$(summary | field done)
check "the second submission finished too (40000 done)" '[[ $n == 40000 ]]'
curl -s "$U/metrics" >"$TMP/body"
check "/metrics counts jobs by state" 'grep -q "^micronlp_jobs{state=\"done\"} 40000$" $TMP/body && grep -q "^micronlp_jobs{state=\"failed\"} 3$" $TMP/body'
kill -TERM "$PID"
wait "$PID"
PID=

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
