#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Model service benchmark: `micronlp serve` against nginx answering a fixed JSON body (the
# ceiling of HTTP on this machine) and FastAPI + uvicorn serving a fastText model through
# python3-fasttext (what users pick today), all on loopback, in one run, with the same load.
#
#   bash bench/serve/run.sh [--bin PATH] [--duration SEC] [--connections N] [--idle-wait SEC]
#                           [--hey-workers N]
#
#   --bin PATH        micronlp binary (default: build Release into build-bench-serve/)
#   --duration SEC    wrk/hey run length per row and load level (default 10)
#   --connections N   connections of the saturating run (default 32; the light run uses 1)
#   --idle-wait SEC   wait up to SEC for other processes to use < 0.3 core before each run
#   --hey-workers N   hey workers (keep-alive connections) of the half-load run (default 16)
#
# Rows: nginx (fixed body); micronlp serving models/spam.mnlp (the shipped spam model), and
# serving every default model in models/ at once (same spam request);
# micronlp serving the fastText .bin the FastAPI row serves (same file, same answers); FastAPI +
# uvicorn (async endpoint) with python3-fasttext, with 1 worker and with --workers 2 (on this
# machine the multi-process mode stalls ~44 ms per request, so 1 worker is FastAPI's best). The fastText model is trained here
# with the shipped spam recipe (data/models/spam/train.txt: -epoch 20 -lr 1.0 -dim 20
# -wordNgrams 1, -bucket 0 since no n-gram needs buckets). nginx and micronlp get 2 workers/
# threads; wrk uses 1 thread. Load: one single-text POST (an e-mail of ~400 bytes), keep-alive.
# Measured per row: req/s and p50/p99 latency at --connections and at 1 connection (light load),
# then a fixed-rate run at half of that row's own saturated req/s, held by hey (-c N workers,
# -q rate/N each; hey records every request's latency, so p50/p90/p99 and the rate it
# achieved are exact; micronlp rows also report their own server-side p99 from /metrics),
# the server's CPU time per request in the saturated run (user+system of its process tree: less
# sensitive to other load on the machine than req/s), RSS of the whole process tree after the
# runs, and start-to-ready (exec to the first 200 on
# its health URL, polled every millisecond). Writes bench/out/serve.md and raw files to
# bench/out/serve/. Needs: wrk hey nginx python3-fastapi python3-uvicorn python3-fasttext fasttext
# (bash scripts/deps.sh bench).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bin=
duration=10
conns=32
idle_wait=120
hey_workers=16
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --idle-wait) idle_wait=$2; shift 2 ;;
    --hey-workers) hey_workers=$2; shift 2 ;;
    -h | --help) sed -n '4,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "run.sh: $*" >&2; exit 1; }
for t in wrk hey nginx fasttext curl; do command -v $t >/dev/null || die "$t not found (bash scripts/deps.sh bench)"; done
/usr/bin/python3 -c 'import fastapi, uvicorn, fasttext' 2>/dev/null ||
    die "python3-fastapi, python3-uvicorn, python3-fasttext needed (apt-get install)"

out=bench/out/serve
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$bin" ]; then
    cmake -S . -B build-bench-serve -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-bench-serve micronlp-cli >/dev/null
    bin=build-bench-serve/micronlp
fi
[ -f models/spam.mnlp ] || die "models/spam.mnlp missing (build the default models first)"
train=data/models/spam/train.txt
[ -f "$train" ] || die "$train missing (scripts/models builds it from the SpamAssassin corpus)"

# ---- the fastText model both the FastAPI row and one micronlp row serve ---------------------
ft=$out/spam-ft.bin
if [ ! -f "$ft" ]; then
    fasttext supervised -input "$train" -output "${ft%.bin}" -epoch 20 -lr 1.0 -dim 20 \
        -wordNgrams 1 -bucket 0 -thread 1 -seed 1 -verbose 0 >/dev/null
    rm -f "${ft%.bin}.vec"
fi
mkdir -p "$tmp/repo-mn" "$tmp/repo-ft"
cp models/spam.mnlp "$tmp/repo-mn/spam.mnlp"
cp "$ft" "$tmp/repo-ft/spam.bin"

text='Congratulations! You have been selected to receive a FREE $1000 gift card. Click here now to claim your prize before it expires. Limited offer, act today. Reply with your name, address and bank details to confirm. This is not spam: you opted in to receive special offers from our partners. Unsubscribe at any time by replying STOP. Best regards, the rewards team.'
body=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$text")
printf '%s' "$body" >"$tmp/body.json" # the same request for hey
cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout,
    summary.requests))
end
EOF

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start NAME READY-URL CMD... : starts CMD in its own session, prints "PID MS" (exec to ready).
cat >"$tmp/start.py" <<'EOF'
import os, socket, subprocess, sys, time
url, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
host_port, path = url[len("http://"):].split("/", 1)
host, port = host_port.split(":")
t0 = time.perf_counter()
p = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
req = ("GET /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
while True:
    if p.poll() is not None:
        sys.exit("server exited: see " + log)
    try:
        s = socket.create_connection((host, int(port)), timeout=1)
        s.sendall(req)
        if s.recv(64).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        pass
    time.sleep(0.001)
print(p.pid, "%.1f" % ((time.perf_counter() - t0) * 1000))
EOF

rss_tree() { # kB of a process and its descendants
    local total=0 p
    for p in $(tree_pids "$1"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null || echo 0)))
    done
    echo "$total"
}

tree_pids() { echo "$1" $(pgrep -P "$1" 2>/dev/null) $(for c in $(pgrep -P "$1" 2>/dev/null); do pgrep -P "$c"; done); }
cpu_ticks() { # user+system clock ticks used so far by a process tree
    local total=0 p
    for p in $(tree_pids "$1"); do
        total=$((total + $(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null || echo 0)))
    done
    echo "$total"
}

others_cpu() { # cores busy over 1 s (taken while the server under test is idle: others' load)
    local a b
    a=$(awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat)
    echo "$(( (b - a) ))" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", $1 / hz}'
}
wait_idle() {
    local i=0
    while [ $i -lt "$idle_wait" ]; do
        awk -v c="$(others_cpu)" 'BEGIN {exit !(c < 0.3)}' && return 0
        i=$((i + 1))
    done
    echo "run.sh: machine still busy after ${idle_wait}s; measuring anyway" >&2
}

# nginx: fixed body, 2 workers.
mkdir -p "$tmp/nginx/logs"
nport=$(free_port)
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nport;
        location / {
            default_type application/json;
            return 200 '{"model":"spam","version":"1","labels":[{"label":"spam","prob":0.998}]}';
        }
    }
}
EOF

# FastAPI + uvicorn with python3-fasttext.
mkdir -p "$tmp/app"
cat >"$tmp/app/app.py" <<'EOF'
import os
import fasttext
from fastapi import FastAPI
from pydantic import BaseModel

model = fasttext.load_model(os.environ["FT_MODEL"])
app = FastAPI()

class Req(BaseModel):
    text: str

@app.post("/predict")
async def predict(r: Req):
    labels, probs = model.predict(r.text.replace("\n", " "), k=1)
    return {"model": "spam", "labels": [{"label": l[len("__label__"):], "prob": float(p)}
                                        for l, p in zip(labels, probs)]}

@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
EOF

# hey's summary -> "achieved-req/s p50-ms p90-ms p99-ms answered errors" (hey prints seconds
# with 4 decimals, so latencies are exact to 0.1 ms; every request is recorded, none sampled).
hey_result() {
    awk '/Requests\/sec:/ {r = $2}
         /^ *50% in/ {p50 = $3} /^ *90% in/ {p90 = $3} /^ *99% in/ {p99 = $3}
         /^Status code distribution/ {sec = "st"; next} /^Error distribution/ {sec = "err"; next}
         sec != "" && /^ *\[[0-9]+\]/ {
             v = $1; gsub(/[][]/, "", v)
             if (sec == "st" && v == 200) ok += $2; else if (sec == "st") bad += $2; else bad += v
         }
         END {printf "%s %.1f %.1f %.1f %d %d\n", r, p50 * 1000, p90 * 1000, p99 * 1000, ok, bad}' "$1"
}

# Server-side p99 of micronlp between two /metrics scrapes: the upper bound (ms) of the first
# latency bucket holding 99% of the requests (time from the request's first byte to its answer).
cat >"$tmp/srv_p99.py" <<'EOF'
import re, sys
def buckets(path):
    b = {}
    for line in open(path):
        m = re.match(r'micronlp_request_duration_seconds_bucket\{model="spam",version="[^"]*",le="([^"]+)"\} (\d+)', line)
        if m:
            b[float(m.group(1))] = int(m.group(2))
    return b
a, b = buckets(sys.argv[1]), buckets(sys.argv[2])
d = sorted((le, b[le] - a.get(le, 0)) for le in b)
n = d[-1][1] if d else 0
for le, c in d:
    if n and c >= 0.99 * n:
        print("%g" % (le * 1000) if le != float("inf") else "inf")
        break
else:
    print("-")
EOF

rows=()
run_row() { # run_row NAME URL READY-URL CMD...
    local name=$1 url=$2 ready=$3
    shift 3
    wait_idle
    local started pid ms
    started=$(/usr/bin/python3 "$tmp/start.py" "$ready" "$out/$name.log" "$@") || die "$name did not start"
    pid=${started% *}
    ms=${started#* }
    pids+=("$pid")
    # warm up, check the answer, then measure saturated and light load
    curl -s -X POST -H 'Content-Type: application/json' --data-binary "$body" "$url" >"$out/$name.answer"
    wrk -t1 -c"$conns" -d2s -s "$tmp/post.lua" "$url" >/dev/null 2>&1 || true
    local busy
    busy=$(others_cpu)
    local t0 t1
    t0=$(cpu_ticks "$pid")
    wrk -t1 -c"$conns" -d"${duration}s" -s "$tmp/post.lua" --latency "$url" >"$out/$name.wrk-c$conns" 2>&1
    t1=$(cpu_ticks "$pid")
    wrk -t1 -c1 -d"${duration}s" -s "$tmp/post.lua" --latency "$url" >"$out/$name.wrk-c1" 2>&1
    local rss
    rss=$(rss_tree "$pid")
    read -r rps p50 p99 errs n < <(grep '^RESULT' "$out/$name.wrk-c$conns" | cut -d' ' -f2-)
    read -r rps1 p501 p991 errs1 n1 < <(grep '^RESULT' "$out/$name.wrk-c1" | cut -d' ' -f2-)

    # Fixed rate: half of this row's own maximum (the saturated run above), held by hey with
    # $hey_workers workers at target/$hey_workers req/s each. hey reports the rate it achieved.
    local target q busy_h load_h metrics='' h0 h1 srv_p99=-
    target=$(awk -v r="$rps" 'BEGIN {printf "%.0f", r / 2}')
    q=$(awk -v t="$target" -v c="$hey_workers" 'BEGIN {printf "%.3f", t / c}')
    case $url in */v1/models/*) metrics=${url%%/v1/*}/metrics ;; esac
    wait_idle
    busy_h=$(others_cpu)
    load_h=$(cut -d' ' -f1 /proc/loadavg)
    [ -z "$metrics" ] || curl -s "$metrics" >"$out/$name.metrics-before"
    h0=$(cpu_ticks "$pid")
    /usr/bin/time -f '%U %S' -o "$out/$name.hey-cpu" hey -z "${duration}s" -c "$hey_workers" -q "$q" \
        -m POST -T application/json -D "$tmp/body.json" "$url" >"$out/$name.hey-half" 2>&1
    h1=$(cpu_ticks "$pid")
    if [ -n "$metrics" ]; then
        curl -s "$metrics" >"$out/$name.metrics-after"
        srv_p99=$(/usr/bin/python3 "$tmp/srv_p99.py" "$out/$name.metrics-before" "$out/$name.metrics-after")
    fi
    local hrps hp50 hp90 hp99 hn herrs hey_cores cpu_us_h
    read -r hrps hp50 hp90 hp99 hn herrs < <(hey_result "$out/$name.hey-half")
    hey_cores=$(awk -v d="$duration" '{printf "%.2f", ($1 + $2) / d}' "$out/$name.hey-cpu")
    cpu_us_h=$(awk -v t=$((h1 - h0)) -v hz="$(getconf CLK_TCK)" -v n="$hn" 'BEGIN {printf "%.1f", n ? t / hz * 1e6 / n : 0}')

    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.5
    local cpu_us
    cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$name" "$rps" "$p50" "$p99" "$rps1" "$p501" "$p991" "$((errs + errs1))" "$((rss / 1024))" "$ms" \
        "$busy" "$cpu_us" "$target" "$hrps" "$hp50" "$hp90" "$hp99" "$srv_p99" "$cpu_us_h" "$hey_cores" \
        "$herrs" "$busy_h" "$load_h" | tee -a "$out/results.tsv"
}

: >"$out/results.tsv"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
port=$(free_port)
run_row nginx "http://127.0.0.1:$nport/predict" "http://127.0.0.1:$nport/healthz" \
    nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g 'daemon off;'
port=$(free_port)
run_row micronlp "http://127.0.0.1:$port/v1/models/spam:predict" "http://127.0.0.1:$port/readyz" \
    "$bin" serve --repo "$tmp/repo-mn" --listen "127.0.0.1:$port" --threads 2 --poll-seconds 0
port=$(free_port)
run_row micronlp-all "http://127.0.0.1:$port/v1/models/spam:predict" "http://127.0.0.1:$port/readyz" \
    "$bin" serve --repo models --listen "127.0.0.1:$port" --threads 2 --poll-seconds 0
port=$(free_port)
run_row micronlp-ftbin "http://127.0.0.1:$port/v1/models/spam:predict" "http://127.0.0.1:$port/readyz" \
    "$bin" serve --repo "$tmp/repo-ft" --listen "127.0.0.1:$port" --threads 2 --poll-seconds 0
for w in 1 2; do
    port=$(free_port)
    name=fastapi
    [ $w = 1 ] || name=fastapi-${w}w
    run_row $name "http://127.0.0.1:$port/predict" "http://127.0.0.1:$port/healthz" \
        env FT_MODEL="$root/$ft" PYTHONPATH="$tmp/app" /usr/bin/python3 -m uvicorn app:app \
        --host 127.0.0.1 --port "$port" --workers $w --log-level warning --no-access-log
done

# ---- table ----------------------------------------------------------------------------------
/usr/bin/python3 - "$out/results.tsv" "$conns" "$duration" "$hey_workers" >bench/out/serve.md <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
conns, dur, hey_c = sys.argv[2], sys.argv[3], sys.argv[4]
by = {r[0]: r for r in rows}
names = {"nginx": "nginx, fixed JSON body (HTTP ceiling)",
         "micronlp": "micronlp serve, models/spam.mnlp",
         "micronlp-all": "micronlp serve, all default models loaded (models/)",
         "micronlp-ftbin": "micronlp serve, the fastText .bin",
         "fastapi": "FastAPI + uvicorn (1 worker) + python3-fasttext, same .bin",
         "fastapi-2w": "FastAPI + uvicorn (--workers 2) + python3-fasttext, same .bin"}
print("| server | req/s (%s conn) | p50 ms | p99 ms | server CPU µs/req | req/s (1 conn) | p50 ms | p99 ms | errors | RSS MB | start to ready ms | CPU busy before (cores) |" % conns)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (names.get(r[0], r[0]), f"{float(r[1]):,.0f}",
          r[2], r[3], r[11], f"{float(r[4]):,.0f}", r[5], r[6], r[7], r[8], r[9], r[10]))
if "micronlp" in by and "nginx" in by and "fastapi" in by:
    mn, ng, fa = float(by["micronlp"][1]), float(by["nginx"][1]), float(by["fastapi"][1])
    print()
    print("micronlp: %.0f%% of nginx's req/s, %.1fx FastAPI's (%s connections, wrk -t1, %s s per run)." % (100 * mn / ng, mn / fa, conns, dur))
print()
print("Half load: hey holding half of each row's own req/s above (%s workers, %s s per run):" % (hey_c, dur))
print()
print("| server | target req/s | achieved req/s | p50 ms | p90 ms | p99 ms | server-side p99 ms | server CPU µs/req | hey CPU (cores) | errors | CPU busy before (cores) | load avg 1 min |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    srv = r[17] if r[17] == "-" else "≤ " + r[17]
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (names.get(r[0], r[0]),
          f"{float(r[12]):,.0f}", f"{float(r[13]):,.0f}", r[14], r[15], r[16], srv, r[18], r[19],
          r[20], r[21], r[22]))
EOF
cat bench/out/serve.md
{
    echo
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $load_start, after: $(cut -d' ' -f1-3 /proc/loadavg) (uptime; the run's own load counts in the latter)"
    echo "versions: $("$bin" --version), $(nginx -v 2>&1 | cut -d' ' -f3), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '?'), fastapi $(/usr/bin/python3 -c 'import fastapi; print(fastapi.__version__)'), uvicorn $(/usr/bin/python3 -c 'import uvicorn; print(uvicorn.__version__)')"
} | tee -a bench/out/serve.md
