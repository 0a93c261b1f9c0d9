#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on one machine, from a fresh clone: install what is needed, build, route a few
# texts through the default pipeline (models/pipelines.yaml: the language first, then only the
# models that apply), then serve every model, the pipelines and the job API over HTTP from this
# one process (the embedded default), saving job results in a SQLite file (micronlp.db in the
# current directory), until Ctrl-C. Set MICRONLP_LISTEN to change the address, MICRONLP_STORE
# the store file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build micronlp-cli
mn=build/micronlp
texts=("Congratulations! You have won a FREE cruise. Click here to claim your prize now"
    "Honestly the best film I have seen this year, the acting is superb."
    "Alle Menschen sind frei und gleich an Würde und Rechten geboren.")
echo "== the default pipeline, text by text (micronlp route --explain)"
"$mn" route --repo models --explain "${texts[@]}"
listen=${MICRONLP_LISTEN:-127.0.0.1:8080}
store=${MICRONLP_STORE:-micronlp.db}
cat <<MSG

Serving the models, pipelines and jobs on http://$listen, results saved in $store (Ctrl-C to
stop). Try:
  curl -s -d '{"text": "Win a FREE prize now, click here"}' http://$listen/v1/analyze
  curl -s -d '{"text": "Win a FREE prize now"}' http://$listen/v1/models/spam:predict
  printf 'First text to analyse\nSecond one, in English too\n' >texts.txt
  build/micronlp submit texts.txt --server http://$listen && build/micronlp jobs --server http://$listen
  curl -s 'http://$listen/v1/jobs?format=jsonl'
MSG
exec "$mn" serve --repo models --listen "$listen" --store "$store"
