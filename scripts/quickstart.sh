#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on one machine, from a fresh clone: install what is needed, build, show what the
# shipped default models say about a few texts, then serve them all over HTTP from this one
# process (the embedded default) until Ctrl-C. Set MICRONLP_LISTEN to change the address.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build micronlp-cli
mn=build/micronlp
texts=("Congratulations! You have won a FREE cruise. Click here to claim your prize now"
    "The striker scored twice in the second half and the crowd went wild."
    "Honestly the best film I have seen this year, the acting is superb.")
for m in models/*.mnlp; do
    name=$(basename "$m" .mnlp)
    case $(
        "$mn" info --model "$m" | awk '$1 == "type" { print $2 }'
    ) in classifier | langid) ;; *) continue ;; esac
    echo "== $name"
    printf '%s\n' "${texts[@]}" | "$mn" predict --model "$m" --k 1
done
listen=${MICRONLP_LISTEN:-127.0.0.1:8080}
cat <<MSG

Serving every model in models/ on http://$listen (Ctrl-C to stop). Try:
  curl -s http://$listen/v1/models
  curl -s -d '{"text": "Win a FREE prize now"}' http://$listen/v1/models/spam:predict
  curl -s -d '{"inputs": "What a great movie"}' http://$listen/hf/models/sentiment
MSG
exec "$mn" serve --repo models --listen "$listen"
