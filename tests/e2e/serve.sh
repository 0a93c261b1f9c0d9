#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end test of `micronlp serve` over real HTTP on 127.0.0.1 (a random free port): two
# model versions are trained here from tests/data/classify/train.txt into a temporary
# repository; then every endpoint (native, Hugging Face, Open Inference v2, health, metrics,
# admin), every error case (413 body/texts/text, 400 malformed/deep JSON and invalid UTF-8
# naming the text, 422 wrong types, 404, 405, 401/403, 429 with Retry-After), a slow client
# trickling bytes, clients vanishing mid-request, hot swap under load (zero failed requests,
# answers switch to the new version), a corrupted version refused, and SIGTERM draining a
# request in progress. Needs MN_BIN, python3 and curl. Ends with "N passed, M failed".
set -uo pipefail

BIN=${MN_BIN:?set MN_BIN to the micronlp binary}
DATA=${MN_TEST_DATA:-$(cd "$(dirname "$0")/../data" && pwd)}
TMP=$(mktemp -d)
PID=
cleanup() {
    [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL  $1"
    [[ -f $TMP/body ]] && head -c 400 "$TMP/body" | sed 's/^/      | /'
    echo
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---- models: version 1 and 2 of "topic" (different training, so answers can differ) --------
mkdir -p "$TMP/repo/topic/1" "$TMP/v2" "$TMP/repo/spam"
"$BIN" train --input "$DATA/classify/train.txt" --output "$TMP/repo/topic/1/model.mnlp" \
    --epoch 10 --dim 16 --bucket 20000 --seed 1 --quiet || { echo "FAIL train"; exit 1; }
"$BIN" train --input "$DATA/classify/train.txt" --output "$TMP/v2/model.mnlp" \
    --epoch 3 --dim 8 --bucket 20000 --seed 2 --quiet || { echo "FAIL train v2"; exit 1; }
mkdir -p "$TMP/repo/spam/1" "$TMP/repo/ner/1"
"$BIN" train --type tagger --input "$DATA/tagger/ner.train.txt" --output "$TMP/repo/ner/1/model.mnlp" \
    --epoch 5 --bucket 65536 --quiet || { echo "FAIL train tagger"; exit 1; }
# "spam": character n-grams and 100 dimensions make it ~10x slower than topic per text, so that
# a request of the overload test below keeps its one worker busy ~2 ms, long enough for the
# next request to find it taken on any machine (with topic's model, ~0.2 ms, a fast machine
# could answer every request before the next arrived, and no 429 was ever seen)
"$BIN" train --input "$DATA/classify/train.txt" --output "$TMP/repo/spam/1/model.mnlp" \
    --epoch 1 --dim 100 --minn 2 --maxn 6 --bucket 200000 --seed 1 --quiet ||
    { echo "FAIL train spam"; exit 1; }
# per-model limits above the server's, for the overload test's large requests
printf '# spam takes bigger batches\nmax_texts = 64\nmax_text_bytes = 8192\n' >"$TMP/repo/spam/config"
# a config that cannot be read (a directory): logged, and the model still served
mkdir "$TMP/repo/ner/config"
cp "$TMP/repo/topic/1/model.mnlp" "$TMP/repo/flat.mnlp"
echo "s3cret-token" >"$TMP/token"

PORT=$(free_port)
U=http://127.0.0.1:$PORT
start_server() { # start_server LOG ARGS...
    local log=$1
    shift
    "$BIN" serve --listen "127.0.0.1:$PORT" "$@" >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "$U/healthz" && return 0
        sleep 0.05
    done
    echo "server did not start:"
    cat "$log"
    return 1
}

start_server "$TMP/log" --repo "$TMP/repo" --threads 2 --poll-seconds 0.2 \
    --admin-token-file "$TMP/token" --max-body-bytes 65536 --max-texts 8 --max-text-bytes 600 \
    --request-timeout 2 --drain-seconds 5 --log-requests || exit 1

# expect NAME STATUS METHOD PATH [BODY [PYTHON-CONDITION on j (parsed body) and h (headers)]]
expect() {
    local name=$1 want=$2 method=$3 path=$4 body=${5-} cond=${6-}
    local args=(-s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method")
    [[ -n $body ]] && args+=(--data-binary "$body" -H 'Content-Type: application/json')
    [[ -n ${AUTH-} ]] && args+=(-H "Authorization: $AUTH")
    local got
    got=$(curl "${args[@]}" "$U$path")
    if [[ $got != "$want" ]]; then
        bad "$name: status $got, expected $want"
        return
    fi
    if [[ -n $cond ]] && ! python3 -S - "$TMP/body" "$TMP/headers" "$cond" <<'EOF'
import json, sys
raw = open(sys.argv[1], 'rb').read()
h = open(sys.argv[2], 'rb').read().decode('latin-1').lower()
try:
    j = json.loads(raw)
except ValueError:
    j = raw.decode('utf-8', 'replace')
sys.exit(0 if eval(sys.argv[3]) else 1)
EOF
    then
        bad "$name: condition failed: $cond"
        return
    fi
    ok "$name"
}

P=/v1/models/topic:predict
# ---- health, listing, metrics -------------------------------------------------------------
expect "GET /healthz" 200 GET /healthz "" 'j["status"] == "ok"'
expect "GET /readyz" 200 GET /readyz "" 'j["models"] == 4'
expect "GET /v1/models" 200 GET /v1/models "" \
    'sorted(m["name"] for m in j["models"]) == ["flat", "ner", "spam", "topic"] and all(m["labels"] for m in j["models"])'
expect "GET /v1/models/topic (card)" 200 GET /v1/models/topic "" \
    'j["version"] == "1" and j["versions"] == ["1"] and j["type"] == "classifier" and "train_hash" in j["metadata"]'
# ---- native predict -----------------------------------------------------------------------
expect "predict one text" 200 POST $P '{"text":"goal team score striker"}' \
    'j["version"] == "1" and j["labels"][0]["label"] == "sport" and 0 < j["labels"][0]["prob"] <= 1'
expect "predict a batch, k and threshold" 200 POST $P \
    '{"texts":["goal team score","bread soup sugar","database server chip"],"k":3,"threshold":0.0}' \
    '[p[0]["label"] for p in j["predictions"]] == ["sport","food","tech"] and all(len(p) == 3 for p in j["predictions"])'
expect "predict pinned version" 200 POST /v1/models/topic/versions/1:predict '{"text":"x"}' 'j["version"] == "1"'
expect "predict flat model (NAME.mnlp = version 1)" 200 POST /v1/models/flat:predict '{"text":"x"}' 'j["version"] == "1"'
# ---- Hugging Face and Open Inference Protocol v2 ------------------------------------------
expect "HF text-classification, one input" 200 POST /hf/models/topic \
    '{"inputs":"goal team score","options":{"wait_for_model":true}}' \
    'len(j) == 1 and j[0][0]["label"] == "sport" and len(j[0]) == 3 and set(j[0][0]) == {"label","score"}'
expect "HF list of inputs, top_k" 200 POST /hf/models/topic \
    '{"inputs":["goal","bread soup"],"parameters":{"top_k":1,"truncation":true}}' \
    'len(j) == 2 and all(len(r) == 1 for r in j)'
expect "v2 server metadata" 200 GET /v2 "" 'j["name"] == "micronlp" and j["extensions"] == ["binary_tensor_data"]'
expect "v2 live" 200 GET /v2/health/live
expect "v2 ready" 200 GET /v2/health/ready
expect "v2 model metadata" 200 GET /v2/models/topic "" \
    'j["inputs"][0]["datatype"] == "BYTES" and {o["name"] for o in j["outputs"]} == {"label","score"}'
expect "v2 model version metadata" 200 GET /v2/models/topic/versions/1 "" 'j["versions"] == ["1"]'
expect "v2 model ready" 200 GET /v2/models/topic/ready "" 'j["ready"] is True'
expect "v2 infer BYTES tensor" 200 POST /v2/models/topic/infer \
    '{"id":"42","inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["goal team","bread soup"]}],"parameters":{"top_k":2}}' \
    'j["id"] == "42" and j["model_version"] == "1" and j["outputs"][0]["shape"] == [2,2] and j["outputs"][0]["data"][0] == "sport" and j["outputs"][1]["datatype"] == "FP32" and len(j["outputs"][1]["data"]) == 4'
expect "v2 infer, only the label output" 200 POST /v2/models/topic/versions/1/infer \
    '{"inputs":[{"name":"text","shape":[1,1],"datatype":"BYTES","data":[["goal"]]}],"outputs":[{"name":"label"}]}' \
    'len(j["outputs"]) == 1 and j["outputs"][0]["name"] == "label"'
# The binary tensor data extension over real HTTP, as tritonclient sends it by default: raw
# BYTES input after the JSON, binary outputs back, lengths in Inference-Header-Content-Length.
if python3 -S - "$PORT" <<'EOF'
import http.client, json, struct, sys
texts = [b"goal team", b"bread soup"]
blob = b"".join(struct.pack("<I", len(t)) + t for t in texts)
hdr = json.dumps({"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                              "parameters": {"binary_data_size": len(blob)}}],
                  "parameters": {"binary_data_output": True}}).encode()
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("POST", "/v2/models/topic/infer", hdr + blob,
          {"Inference-Header-Content-Length": str(len(hdr)), "Content-Type": "application/octet-stream"})
r = c.getresponse()
body = r.read()
n = int(r.getheader("Inference-Header-Content-Length"))
j = json.loads(body[:n])
label, score = j["outputs"]
raw = body[n:n + label["parameters"]["binary_data_size"]]
words, p = [], 0
while p < len(raw):
    l = struct.unpack_from("<I", raw, p)[0]
    words.append(raw[p + 4:p + 4 + l].decode())
    p += 4 + l
probs = struct.unpack("<2f", body[n + len(raw):])
sys.exit(0 if r.status == 200 and r.getheader("Content-Type") == "application/octet-stream"
         and words == ["sport", "food"] and all(0 < x <= 1 for x in probs) else 1)
EOF
then ok "v2 infer, binary tensor data in and out"; else bad "v2 infer, binary tensor data in and out"; fi
# ---- a tagger: tokens and entities; HF token-classification -------------------------------
expect "tagger: native tokens and entities" 200 POST /v1/models/ner:predict \
    '{"text":"yesterday Maria de Souza met"}' \
    '[(t["text"], t["start"], t["end"]) for t in j["tokens"]][:2] == [("yesterday", 0, 9), ("Maria", 10, 15)] and all(set(e) == {"type","text","start","end","score"} for e in j["entities"]) and any(e["type"] == "PER" and e["start"] == 10 for e in j["entities"])'
expect "HF token-classification shape" 200 POST /hf/models/ner \
    '{"inputs":"yesterday Maria de Souza met","parameters":{"aggregation_strategy":"simple"}}' \
    'isinstance(j, list) and j and all(set(e) == {"entity_group","word","start","end","score"} for e in j) and any(e["entity_group"] == "PER" and e["word"].startswith("Maria") and e["start"] == 10 for e in j)'
expect "HF token-classification offsets count characters" 200 POST /hf/models/ner \
    '{"inputs":["\u00e9t\u00e9 Maria de Souza met"]}' \
    '[(e["start"], e["end"]) for e in j[0] if e["word"].startswith("Maria")][0] in [(4, 9), (4, 18)]'
expect "501 v2 infer on a tagger" 501 POST /v2/models/ner/infer '{}' '"tagger" in j["error"]'
# ---- bad input ----------------------------------------------------------------------------
BIG=$(python3 -c 'print("{\"text\":\"" + "a" * 70000 + "\"}")')
expect "413 body over the limit (Content-Length)" 413 POST $P "$BIG" '"limit" in j["error"]'
python3 -c 'print("{\"text\":\"" + "a" * 70000 + "\"}")' >"$TMP/big.json"
got=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big.json" "$U$P")
[[ $got == 413 ]] && ok "413 chunked body over the limit" || bad "413 chunked body: got $got"
expect "413 too many texts" 413 POST $P '{"texts":["a","b","c","d","e","f","g","h","i"]}' '"limit is 8" in j["error"]'
LONG=$(python3 -c 'print("{\"text\":\"" + "a" * 700 + "\"}")')
expect "413 text too long" 413 POST $P "$LONG" '"limit is 600" in j["error"]'
expect "400 malformed JSON" 400 POST $P '{"text": "a",' '"malformed JSON" in j["error"]'
expect "400 duplicate key, named" 400 POST $P '{"text":"a","text":"b"}' \
    'j["error"] == "malformed JSON: duplicate object key \"text\""'
expect "400 raw control character in a string" 400 POST $P "$(printf '{"text":"a\tb"}')" \
    '"control character in a string at line 1 column 11" in j["error"]'
expect "400 \\u0000 in a string" 400 POST $P '{"text":"a\u0000b"}' '"\\u0000 is not allowed" in j["error"]'
expect "400 trailing garbage" 400 POST $P '{"text":"a"} x' '"end of input expected at line 1 column 14" in j["error"]'
expect "400 number out of range" 400 POST $P '{"text":"a","k":1e999}' '"number out of range" in j["error"]'
expect "200 escapes in the text" 200 POST $P '{"text":"goal \u00e9\n\"team\" \ud83d\ude00"}' \
    'j["labels"][0]["label"]'
# Request headers: up to ~7.5 KB in all (the connection's 8 KB memory), more get 431.
AUTH="Bearer $(head -c 6000 /dev/zero | tr '\0' t)" expect "200 with 6 KB of headers" 200 POST $P '{"text":"goal"}'
AUTH="Bearer $(head -c 9000 /dev/zero | tr '\0' t)" expect "431 headers over 8 KB" 431 POST $P '{"text":"goal"}'
expect "400 empty body" 400 POST $P '' '"empty body" in j["error"]'
DEEP=$(python3 -c 'print("[" * 2000 + "]" * 2000)')
expect "400 deeply nested JSON" 400 POST $P "$DEEP" '"nesting" in j["error"]'
printf '{"texts":["fine","caf\xe9 latin-1"]}' >"$TMP/latin1.json"
expect "400 invalid UTF-8 names the text" 400 POST $P "@$TMP/latin1.json" 'j["error"] == "texts[1]: invalid UTF-8 at byte 3"'
expect "422 text is a number" 422 POST $P '{"text":42}' '"expected a string" in j["error"]'
expect "422 texts item is an object" 422 POST $P '{"texts":["a",{"b":1}]}' 'j["error"] == "texts[1]: expected a string"'
expect "422 k is a string" 422 POST $P '{"text":"a","k":"3"}' '"k" in j["error"]'
expect "422 missing text" 422 POST $P '{"inputs":"a"}'
expect "422 body not an object" 422 POST $P '["a"]'
expect "404 unknown model" 404 POST /v1/models/nope:predict '{"text":"a"}' '"nope" in j["error"]'
expect "404 unknown version" 404 POST /v1/models/topic/versions/9:predict '{"text":"a"}' '"version" in j["error"]'
expect "404 v2 unknown version" 404 GET /v2/models/topic/versions/9/ready
expect "404 unknown path" 404 GET /v3/nothing "" '"error" in j'
expect "405 GET on predict" 405 GET $P "" '"allow: post" in h'
expect "405 POST on /healthz" 405 POST /healthz '{}'
expect "400 v2 shape/data mismatch" 400 POST /v2/models/topic/infer \
    '{"inputs":[{"name":"text","shape":[3],"datatype":"BYTES","data":["a"]}]}' '"shape" in j["error"]'
expect "400 v2 wrong datatype" 400 POST /v2/models/topic/infer \
    '{"inputs":[{"name":"text","shape":[1],"datatype":"INT32","data":[1]}]}'
expect "422 HF inputs wrong type" 422 POST /hf/models/topic '{"inputs":{"a":1}}'
# ---- admin --------------------------------------------------------------------------------
expect "401 admin without token" 401 POST /v1/admin/models/topic/reload '' '"www-authenticate: bearer" in h'
AUTH="Bearer wrong" expect "401 admin wrong token" 401 POST /v1/admin/models/topic/reload ''
export AUTH="Bearer s3cret-token"
expect "admin reload" 200 POST /v1/admin/models/topic/reload '' 'j["state"] == "ready"'
expect "admin unload" 200 POST /v1/admin/models/spam/unload '' 'j["state"] == "unloaded"'
expect "unloaded model answers 404" 404 POST /v1/models/spam:predict '{"text":"a"}'
sleep 0.5
expect "poller leaves an unloaded model alone" 404 POST /v1/models/spam:predict '{"text":"a"}'
expect "admin load" 200 POST /v1/admin/models/spam/load '' 'j["state"] == "ready"'
expect "loaded again" 200 POST /v1/models/spam:predict '{"text":"a"}'
expect "per-model config raises spam's limits" 200 POST /v1/models/spam:predict \
    "$(python3 -c 'import json; print(json.dumps({"texts": ["a" * 700] * 20}))')" 'len(j["predictions"]) == 20'
expect "admin set workers" 200 POST /v1/admin/models/spam/workers '{"workers":1,"queue_depth":0}' 'j["workers"] == 1 and j["queue_depth"] == 0'
expect "admin default to a missing version" 404 POST /v1/admin/models/topic/default '{"version":7}'
expect "admin unknown model" 404 POST /v1/admin/models/nope/load ''
expect "admin scan" 200 POST /v1/admin/scan '' 'j["models"] == 4'
unset AUTH
if "$BIN" serve --admin-token s3cret --listen 127.0.0.1:1 >"$TMP/out" 2>&1; then
    bad "--admin-token on the command line is refused"
else
    ok "--admin-token on the command line is refused"
fi

# ---- overload: spam has 1 worker and no queue -> concurrent requests get 429 -------------
python3 - "$PORT" >"$TMP/o429" 2>&1 <<'EOF'
import http.client, json, sys, threading, time
port = int(sys.argv[1])
body = json.dumps({"texts": ["goal team score bread soup database chip " * 20] * 64, "k": 3})
res = {"200": 0, "429": 0, "other": 0, "retry_after": 0}
lock = threading.Lock()
stop = time.time() + 6
def client():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.time() < stop and res["429"] < 5:
        c.request("POST", "/v1/models/spam:predict", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        with lock:
            key = str(r.status) if r.status in (200, 429) else "other"
            res[key] += 1
            if r.status == 429 and r.getheader("Retry-After") == "1":
                res["retry_after"] += 1
ts = [threading.Thread(target=client) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(res))
sys.exit(0 if res["429"] > 0 and res["retry_after"] == res["429"] and res["other"] == 0 and res["200"] > 0 else 1)
EOF
if [[ $? == 0 ]]; then ok "429 with Retry-After when the model's workers and queue are full ($(cat "$TMP/o429"))"; else bad "429 under overload: $(cat "$TMP/o429")"; fi
AUTH="Bearer s3cret-token" expect "admin restores workers" 200 POST /v1/admin/models/spam/workers '{"workers":2,"queue_depth":64}'

# ---- slow and vanishing clients -----------------------------------------------------------
python3 - "$PORT" >"$TMP/slow" 2>&1 <<'EOF'
import socket, sys, time, threading, http.client
port = int(sys.argv[1])
fails = []
# 1. a body trickled one byte every 0.25 s: the server drops it after the 2 s request timeout
def trickle(result):
    s = socket.create_connection(("127.0.0.1", port))
    body = b'{"text":"' + b'a' * 200 + b'"}'
    s.sendall(b"POST /v1/models/topic:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    t0 = time.time()
    try:
        for b in body:
            s.sendall(bytes([b]))
            time.sleep(0.25)
            if time.time() - t0 > 8:
                break
        data = s.recv(4096)
    except OSError:
        data = b""
    result.append((time.time() - t0, data))
r = []
t = threading.Thread(target=trickle, args=(r,)); t.start()
time.sleep(0.5)
# 2. meanwhile other requests are answered at once
for i in range(20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    c.request("GET", "/healthz"); resp = c.getresponse(); resp.read()
    if resp.status != 200: fails.append("healthz during trickle: %d" % resp.status)
t.join()
elapsed, data = r[0]
if elapsed > 6 or data.startswith(b"HTTP/1.1 200"):
    fails.append("trickling client not dropped: %.1fs %r" % (elapsed, data[:40]))
# 3. headers that never end: closed by the idle timeout
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
s.settimeout(6); t0 = time.time()
try: d = s.recv(100)
except OSError: d = b""
if time.time() - t0 > 5.5: fails.append("idle half-request not closed")
# 4. clients that vanish mid-body, mid-headers, and right after connecting
for part in (b"POST /v1/models/topic:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"text\":",
             b"POST /v1/models/topic:predict HTTP/1.1\r\nHo", b""):
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(part); s.close()
# 5. a client that sends a request and leaves before reading the answer
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b'POST /v1/models/topic:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{"text":"a"}')
    s.close()
time.sleep(0.2)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
c.request("POST", "/v1/models/topic:predict", '{"text":"goal"}'); resp = c.getresponse(); resp.read()
if resp.status != 200: fails.append("after disconnects: %d" % resp.status)
print("; ".join(fails) if fails else "trickle dropped after %.1fs" % elapsed)
sys.exit(1 if fails else 0)
EOF
if [[ $? == 0 ]]; then ok "slow and vanishing clients dropped, server keeps answering ($(cat "$TMP/slow"))"; else bad "slow clients: $(cat "$TMP/slow")"; fi
inflight=
for _ in $(seq 1 40); do # the server notices vanished clients within moments
    inflight=$(curl -s "$U/metrics" | awk '$1 == "micronlp_requests_in_flight" {print $2}')
    [[ $inflight == 1 ]] && break
    sleep 0.1
done
[[ $inflight == 1 ]] && ok "in-flight gauge back to 1 (the probe) after disconnects" ||
    bad "in-flight gauge stuck at $inflight after disconnects"

# ---- hot swap under load ------------------------------------------------------------------
python3 - "$PORT" "$TMP" >"$TMP/swap" 2>&1 <<'EOF'
import http.client, json, os, shutil, sys, threading, time
port, tmp = int(sys.argv[1]), sys.argv[2]
stats = {"ok": 0, "failed": 0, "v1": 0, "v2": 0, "errors": []}
lock = threading.Lock()
stop = threading.Event()
switched_at = {}
def client(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    count = 0
    while not stop.is_set() and count < 20000:
        count += 1
        try:
            c.request("POST", "/v1/models/topic:predict", '{"text":"goal team bread chip","k":2}',
                      {"Content-Type": "application/json"})
            r = c.getresponse(); body = r.read()
            j = json.loads(body)
            with lock:
                if r.status == 200 and j["labels"]:
                    stats["ok"] += 1
                    stats["v" + j["version"]] += 1
                    if j["version"] == "2" and "t" not in switched_at:
                        switched_at["t"] = time.time()
                else:
                    stats["failed"] += 1; stats["errors"].append(r.status)
        except Exception as e:
            with lock:
                stats["failed"] += 1; stats["errors"].append(repr(e))
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
ts = [threading.Thread(target=client, args=(i,)) for i in range(3)]
[t.start() for t in ts]
time.sleep(1.0)
# publish version 2 atomically (copy beside, rename into place)
shutil.copytree(os.path.join(tmp, "v2"), os.path.join(tmp, "repo", ".v2tmp"))
t_swap = time.time()
os.rename(os.path.join(tmp, "repo", ".v2tmp"), os.path.join(tmp, "repo", "topic", "2"))
deadline = time.time() + 5
while "t" not in switched_at and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.5)
before_stop = dict(stats)
stop.set()
[t.join() for t in ts]
# after the switch every answer is version 2
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("POST", "/v1/models/topic:predict", '{"text":"goal"}'); last = json.loads(c.getresponse().read())
stats["last_version"] = last["version"]
stats["switch_s"] = round(switched_at.get("t", 0) - t_swap, 3)
stats["errors"] = stats["errors"][:5]
print(json.dumps(stats))
sys.exit(0 if stats["failed"] == 0 and stats["v1"] > 0 and stats["v2"] > 0 and last["version"] == "2" else 1)
EOF
if [[ $? == 0 ]]; then ok "hot swap under load: zero failed requests, answers switch to version 2 ($(cat "$TMP/swap"))"; else bad "hot swap under load: $(cat "$TMP/swap")"; fi
grep -q "event=swap model=topic from=1 to=2" "$TMP/log" && ok "swap logged" || bad "swap not logged"
grep -q "event=config path=$TMP/repo/ner/config line=1 error=\"read error: Is a directory\"" "$TMP/log" &&
    ok "an unreadable per-model config is logged" || bad "an unreadable per-model config is not logged"

# ---- a corrupted version is refused; version 2 keeps serving ------------------------------
mkdir -p "$TMP/bad3"
head -c 3000 "$TMP/v2/model.mnlp" >"$TMP/bad3/model.mnlp"
mv "$TMP/bad3" "$TMP/repo/topic/3"
sleep 0.8
expect "corrupted version 3 refused, still serving 2" 200 POST $P '{"text":"goal"}' 'j["version"] == "2"'
n=$(grep -c "event=refused model=topic version=3" "$TMP/log")
[[ $n == 1 ]] && ok "refused version logged once ($n)" || bad "refused version logged $n times"
expect "metrics per model and version" 200 GET /metrics "" \
    'all(s in j for s in ["micronlp_requests_total{model=\"topic\",version=\"2\",code=\"200\"}", "micronlp_request_duration_seconds_bucket{model=\"topic\",version=\"2\",le=", "micronlp_model_size_bytes{model=\"topic\",version=\"2\"}", "micronlp_model_load_seconds{", "micronlp_model_queue_depth{", "micronlp_model_in_flight{", "micronlp_requests_total{code=\"404\"}"])'
grep -qE '^[0-9T:.-]+Z info serve method=POST path=/v1/models/topic:predict status=200 model=topic version=[12] texts=1 ms=' "$TMP/log" &&
    ok "structured request log line" || bad "no structured request log line"

# ---- SIGTERM drains a request in progress -------------------------------------------------
python3 - "$PORT" "$PID" >"$TMP/drain" 2>&1 <<'EOF'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
body = b'{"text":"goal team score"}'
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/models/topic:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
refused = False
try:
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
except OSError:
    refused = True
s.sendall(body[5:])
s.settimeout(5)
data = b""
while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
ok = data.startswith(b"HTTP/1.1 200") and b'"labels"' in data
print("in-flight answered: %s, new connections refused: %s" % (ok, refused))
sys.exit(0 if ok and refused else 1)
EOF
if [[ $? == 0 ]]; then ok "SIGTERM: stops accepting, drains the request in progress ($(cat "$TMP/drain"))"; else bad "SIGTERM drain: $(cat "$TMP/drain")"; fi
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc == 0 ]] && ok "server exits 0 after draining" || bad "server exit code $rc"
grep -q "event=stop drained=yes" "$TMP/log" && ok "drain logged" || bad "drain not logged"

# ---- no --repo: the shipped models/ directory; --models filter; token from the env --------
# A pipeline file in the repository names models --models leaves out: it is not used.
mkdir -p "$TMP/cwd/models"
cp "$TMP/repo/topic/1/model.mnlp" "$TMP/cwd/models/one.mnlp"
cp "$TMP/repo/topic/1/model.mnlp" "$TMP/cwd/models/two.mnlp"
printf 'version: 1\npipelines:\n  p:\n    steps:\n      - model: two\n' >"$TMP/cwd/models/pipelines.yaml"
PORT=$(free_port)
U=http://127.0.0.1:$PORT
pushd "$TMP/cwd" >/dev/null
MICRONLP_ADMIN_TOKEN=envtok start_server "$TMP/log2" --models one --poll-seconds 0 || exit 1
popd >/dev/null
expect "default repository models/, --models filter" 200 GET /v1/models "" \
    '[m["name"] for m in j["models"]] == ["one"] and j["models"][0]["version"] == "1"'
expect "--models: the repository's pipelines are left out" 404 POST /v1/analyze '{"text":"a"}' \
    '"no pipelines" in j["error"]'
AUTH="Bearer envtok" expect "admin token from MICRONLP_ADMIN_TOKEN" 200 POST /v1/admin/models/two/load '' 'j["state"] == "ready"'
kill -INT "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc == 0 ]] && ok "SIGINT stops the server" || bad "SIGINT exit code $rc"

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
