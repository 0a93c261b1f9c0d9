#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Model service benchmark: `micronlp serve` against nginx answering a fixed JSON body (the
# ceiling of HTTP on this machine) and FastAPI + uvicorn serving a fastText model through
# python3-fasttext (what users pick today), all on loopback, in one run, with the same load.
#
#   bash bench/serve/run.sh [--bin PATH] [--duration SEC] [--connections N] [--idle-wait SEC]
#                           [--pace-ms MS] [--client-cpu N] [--server-cpu N]
#
#   --bin PATH        micronlp binary (default: build Release into build-bench-serve/)
#   --duration SEC    wrk run length per row and load level (default 10)
#   --connections N   connections of the saturating run (default 32; the light run uses 1)
#   --idle-wait SEC   wait up to SEC for other processes to use < 0.3 core before each run
#   --pace-ms MS      mean pause of a half-load connection after each answer (default 10)
#   --client-cpu N    core of wrk in the pinned half-load run (default 0)
#   --server-cpu N    core of every server thread in the pinned half-load run (default 1)
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
# then two paced runs at half of that row's own saturated req/s (below), the server's CPU time
# per request in the saturated run (user+system of its process tree: less
# sensitive to other load on the machine than req/s), RSS of the whole process tree after the
# runs, and start-to-ready (exec to the first 200 on
# its health URL, polled every millisecond).
#
# Half load is held by wrk itself, paced: each connection pauses a random 0..2*MS ms after each
# answer (wrk's delay() hook, mean MS), so N connections give about N / (MS + latency) req/s.
# N is calibrated in two 2 s runs so the rate achieved is near the target; both are reported.
# wrk's latency starts when a request is written, so the pause is not counted, and as most
# connections are pausing at any moment, a server stall delays few requests instead of
# silently holding back many (what a closed loop without pauses does). wrk's own CPU is
# reported; hey (Go), used before, needed 1.1-1.2 of the 2 cores at this rate and could not
# hold it. Each row runs twice: unpinned (client and server share both cores, as in the
# saturated runs) and pinned (taskset: wrk on --client-cpu, every thread of the server on
# --server-cpu), which tells the server's own tail from waiting for a core; so does the time
# the server's threads spent runnable without a core (schedstat), reported per request.
# micronlp rows also report their server-side p99 (/metrics: first byte to the answer).
#
# Writes bench/out/serve.md and raw files to bench/out/serve/. Needs: wrk nginx python3-fastapi
# python3-uvicorn python3-fasttext fasttext taskset (bash scripts/deps.sh bench).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bin=
duration=10
conns=32
idle_wait=120
pace_ms=10
client_cpu=0
server_cpu=1
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --idle-wait) idle_wait=$2; shift 2 ;;
    --pace-ms) pace_ms=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    -h | --help) sed -n '4,48p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "run.sh: $*" >&2; exit 1; }
for t in wrk nginx fasttext curl taskset; do command -v $t >/dev/null || die "$t not found (bash scripts/deps.sh bench)"; done
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
cat >"$tmp/paced.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
local pace = 10
init = function(args) pace = tonumber(args[1]) end
delay = function() return math.random(0, 2 * pace) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, summary.requests))
end
EOF
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

rq_wait_ns() { # ns the threads of a process tree spent runnable but waiting for a core
    local p
    for p in $(tree_pids "$1"); do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done |
        awk '{t += $2} END {printf "%.0f", t}'
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

# half_load NAME URL PID TARGET unpinned|pinned: one paced wrk run at TARGET req/s (see the top
# of this file). Prints "connections achieved p50 p90 p99 server-p99 server-µs/req wrk-cores
# errors busy-before load-1min run-queue-wait-µs/req" (req/s, ms, cores), space-separated. The
# last is the time the server's threads spent runnable but waiting for a core (schedstat),
# per request: what sharing the cores costs the server.
half_load() {
    local name=$1 url=$2 pid=$3 target=$4 mode=$5
    local tag=$name.half-$mode pin=() metrics='' p
    if [ "$mode" = pinned ]; then
        pin=(taskset -c "$client_cpu")
        for p in $(tree_pids "$pid"); do taskset -a -p -c "$server_cpu" "$p" >/dev/null; done
    else
        for p in $(tree_pids "$pid"); do taskset -a -p -c "0-$(($(nproc) - 1))" "$p" >/dev/null; done
    fi
    # calibrate: guess the connections for the target, then twice run 2 s and scale by the
    # rate achieved (a connection's cycle is the pause plus the latency, which grows with load)
    local c a0 round
    c=$(awk -v t="$target" -v m="$pace_ms" 'BEGIN {c = int(t * (m + 0.5) / 1000 + 0.5); print (c < 1 ? 1 : c)}')
    for round in 1 2; do
        a0=$("${pin[@]}" wrk -t1 -c"$c" -d2s -s "$tmp/paced.lua" "$url" -- "$pace_ms" 2>&1 |
            awk '/^RESULT/ {print $2}')
        c=$(awk -v c="$c" -v t="$target" -v a="${a0:-0}" \
            'BEGIN {n = a > 0 ? int(c * t / a + 0.5) : c; print (n < 1 ? 1 : (n > 1000 ? 1000 : n))}')
    done
    case $url in */v1/models/*) metrics=${url%%/v1/*}/metrics ;; esac
    wait_idle
    local busy load h0 h1 w0 w1 srv_p99=-
    busy=$(others_cpu)
    load=$(cut -d' ' -f1 /proc/loadavg)
    [ -z "$metrics" ] || curl -s "$metrics" >"$out/$tag.metrics-before"
    h0=$(cpu_ticks "$pid")
    w0=$(rq_wait_ns "$pid")
    /usr/bin/time -f '%U %S' -o "$out/$tag.wrk-cpu" "${pin[@]}" wrk -t1 -c"$c" -d"${duration}s" \
        -s "$tmp/paced.lua" --latency "$url" -- "$pace_ms" >"$out/$tag.wrk" 2>&1
    h1=$(cpu_ticks "$pid")
    w1=$(rq_wait_ns "$pid")
    if [ -n "$metrics" ]; then
        curl -s "$metrics" >"$out/$tag.metrics-after"
        srv_p99=$(/usr/bin/python3 "$tmp/srv_p99.py" "$out/$tag.metrics-before" "$out/$tag.metrics-after")
    fi
    local rps p50 p90 p99 errs n cores cpu_us wait_us
    read -r rps p50 p90 p99 errs n < <(grep '^RESULT' "$out/$tag.wrk" | cut -d' ' -f2-)
    cores=$(awk -v d="$duration" '{printf "%.2f", ($1 + $2) / d}' "$out/$tag.wrk-cpu")
    cpu_us=$(awk -v t=$((h1 - h0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
        'BEGIN {printf "%.1f", n ? t / hz * 1e6 / n : 0}')
    wait_us=$(awk -v w=$((w1 - w0)) -v n="$n" 'BEGIN {printf "%.1f", n ? w / 1000 / n : 0}')
    echo "$c $rps $p50 $p90 $p99 $srv_p99 $cpu_us $cores $errs $busy $load $wait_us"
}

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

    local target half_u half_p
    target=$(awk -v r="$rps" 'BEGIN {printf "%.0f", r / 2}')
    half_u=$(half_load "$name" "$url" "$pid" "$target" unpinned)
    half_p=$(half_load "$name" "$url" "$pid" "$target" pinned)

    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.5
    local cpu_us
    cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$name" "$rps" "$p50" "$p99" "$rps1" "$p501" "$p991" "$((errs + errs1))" "$((rss / 1024))" "$ms" \
        "$busy" "$cpu_us" "$target" "$half_u" "$half_p" | tee -a "$out/results.tsv"
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
/usr/bin/python3 - "$out/results.tsv" "$conns" "$duration" "$pace_ms" "$client_cpu" "$server_cpu" >bench/out/serve.md <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
conns, dur, pace, ccpu, scpu = sys.argv[2:7]
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
for col, how in ((13, "unpinned (wrk and the server share both cores)"),
                 (14, "pinned (taskset: wrk on CPU %s, every server thread on CPU %s)" % (ccpu, scpu))):
    print()
    print("Half load, %s: wrk -t1 paced at half of each row's own req/s above (each connection pauses 0-%d ms, mean %s ms, after each answer; %s s per run):" % (how, 2 * int(pace), pace, dur))
    print()
    print("| server | target req/s | connections | achieved req/s | p50 ms | p90 ms | p99 ms | server-side p99 ms | server CPU µs/req | server waiting for a core µs/req | wrk CPU (cores) | errors | CPU busy before (cores) | load avg 1 min |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        h = r[col].split()
        if len(h) < 12:
            print("| %s | %s | (run failed) |" % (names.get(r[0], r[0]), r[12]))
            continue
        srv = h[5] if h[5] == "-" else "≤ " + h[5]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (names.get(r[0], r[0]),
              f"{float(r[12]):,.0f}", h[0], f"{float(h[1]):,.0f}", h[2], h[3], h[4], srv, h[6], h[11],
              h[7], h[8], h[9], h[10]))
EOF
cat bench/out/serve.md
{
    echo
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $load_start, after: $(cut -d' ' -f1-3 /proc/loadavg) (uptime; the run's own load counts in the latter)"
    echo "versions: $("$bin" --version), $(nginx -v 2>&1 | cut -d' ' -f3), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), fastapi $(/usr/bin/python3 -c 'import fastapi; print(fastapi.__version__)'), uvicorn $(/usr/bin/python3 -c 'import uvicorn; print(uvicorn.__version__)')"
} | tee -a bench/out/serve.md
