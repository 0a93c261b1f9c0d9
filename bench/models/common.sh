# SPDX-License-Identifier: MIT
#
# What bench/models/run.sh and bench/models/cv.sh both start with. Sourced, not run.
# Expects: the repository root as the current directory, $prog (the script's name, for
# messages) and $bin (a micronlp binary, or empty to build build-bench/micronlp).
# Provides: die, log, $PY (a python3 with scikit-learn), $FT (fasttext), the recipes
# (scripts/models/recipes.sh), and build_micronlp (sets $bin when it was empty).

die() {
    echo "$prog: $*" >&2
    exit 1
}
log() { echo "== $*" >&2; }

PY=/usr/bin/python3
[ -x $PY ] || die "/usr/bin/python3 is missing (apt-get install python3)"
$PY -c 'import sklearn' 2>/dev/null || die "scikit-learn is missing for /usr/bin/python3 (apt-get install python3-sklearn)"
FT=$(command -v fasttext) || die "fasttext is not installed (apt-get install fasttext)"

# shellcheck source=scripts/models/recipes.sh
. scripts/models/recipes.sh

build_micronlp() {
    if [ -z "$bin" ]; then
        log "building micronlp (Release) in build-bench/"
        if [ ! -f build-bench/build.ninja ]; then
            cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 || die "cmake configure failed"
        fi
        ninja -C build-bench micronlp-cli >&2 || die "building micronlp failed (ninja -C build-bench micronlp-cli)"
        bin=build-bench/micronlp
    fi
    [ -x "$bin" ] || die "$bin: not an executable"
}
