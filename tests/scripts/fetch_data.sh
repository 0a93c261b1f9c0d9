#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/fetch-data.sh on bad packages: a package that is not pinned, a cached tarball whose
# sha512 is not the pinned one, an archive that does not unpack or holds no package.json, and a
# package neither cached nor downloadable each stop the script with exit status 1 and a message
# naming the problem, and leave nothing unpacked; a good package is unpacked once and its
# directory printed. Runs offline: a copy of the script pins made-up packages whose tarballs the
# test writes into the cache (npm is needed only to download, and nothing is downloaded here).
# Needs MN_SRC. Prints one line per check and ends with "N passed, M failed".
set -uo pipefail

SRC=${MN_SRC:?set MN_SRC to the source directory}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; }

integrity() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"; }

# Tarballs, as npm pack names them (name-version.tgz), built in $tmp/src.
mkdir -p "$tmp/src/good/package" "$tmp/src/empty/other" "$tmp/cache"
echo '{"name": "good-pkg", "version": "1.0.0"}' >"$tmp/src/good/package/package.json"
echo 'a line of data' >"$tmp/src/good/package/data.txt"
tar -czf "$tmp/src/good-pkg-1.0.0.tgz" -C "$tmp/src/good" package
echo 'x' >"$tmp/src/empty/other/file.txt"
tar -czf "$tmp/src/nojson-pkg-1.0.0.tgz" -C "$tmp/src/empty" other
printf 'this is not a gzip archive\n' >"$tmp/src/garbage-pkg-1.0.0.tgz"

# The script with four more pins: good, no package.json, not an archive, and one whose recorded
# sha512 no tarball has (its cached tarball will be a changed one).
{
    sed -n '1,/^PINS=/p' "$SRC/scripts/fetch-data.sh"
    echo "good-pkg 1.0.0 $(integrity "$tmp/src/good-pkg-1.0.0.tgz")"
    echo "nojson-pkg 1.0.0 $(integrity "$tmp/src/nojson-pkg-1.0.0.tgz")"
    echo "garbage-pkg 1.0.0 $(integrity "$tmp/src/garbage-pkg-1.0.0.tgz")"
    echo "changed-pkg 1.0.0 $(integrity "$tmp/src/good-pkg-1.0.0.tgz")"
    echo "absent-pkg 1.0.0 $(integrity "$tmp/src/good-pkg-1.0.0.tgz")"
    sed -n '/^PINS=/,$p' "$SRC/scripts/fetch-data.sh" | tail -n +2
} >"$tmp/fetch-data.sh"
cp "$tmp/src/good-pkg-1.0.0.tgz" "$tmp/src/nojson-pkg-1.0.0.tgz" "$tmp/src/garbage-pkg-1.0.0.tgz" "$tmp/cache/"
cp "$tmp/src/nojson-pkg-1.0.0.tgz" "$tmp/cache/changed-pkg-1.0.0.tgz"

# fetch NAME...: runs the copy with a PATH that has no npm (so nothing can be downloaded);
# sets out, err and rc.
nonpm=$tmp/bin
mkdir -p "$nonpm"
for t in bash sed awk cat mkdir mktemp rm mv tar gzip openssl basename dirname head tail tr; do
    p=$(command -v "$t") && ln -sf "$p" "$nonpm/$t"
done
fetch() {
    rc=0
    out=$(PATH=$nonpm bash "$tmp/fetch-data.sh" --cache "$tmp/cache" "$@" 2>"$tmp/err") || rc=$?
    err=$(cat "$tmp/err")
}
# expect_fail WHAT PATTERN NAME: exit status 1, PATTERN in the message, nothing on stdout and no
# unpacked directory for NAME.
expect_fail() {
    local what=$1 pattern=$2 name=$3
    fetch "$name"
    if [ "$rc" -eq 1 ] && grep -q -- "$pattern" <<<"$err" && [ -z "$out" ] &&
        [ ! -e "$tmp/cache/$name@1.0.0" ] && [ ! -e "$tmp/cache/$name@1.0.0.tmp" ]; then
        ok "$what"
    else
        bad "$what: status $rc, stdout '$out', stderr '$err', unpacked: $(ls "$tmp/cache")"
    fi
}

expect_fail "a package that is not pinned is refused" "not-pinned-pkg: not pinned" not-pinned-pkg
expect_fail "a cached tarball with another sha512 is refused, nothing unpacked" \
    "changed-pkg-1.0.0.tgz: integrity mismatch" changed-pkg
expect_fail "an archive that does not unpack stops it" "garbage-pkg-1.0.0.tgz: cannot unpack archive" garbage-pkg
expect_fail "an archive without package/package.json stops it" "no package/package.json in archive" nojson-pkg
expect_fail "a package neither cached nor downloadable stops it" "npm is not installed" absent-pkg

fetch good-pkg
if [ "$rc" -eq 0 ] && [ "$out" = "$tmp/cache/good-pkg@1.0.0/package" ] &&
    [ "$(cat "$out/data.txt" 2>/dev/null)" = "a line of data" ]; then
    ok "a good package is unpacked and its directory printed"
else
    bad "good package: status $rc, stdout '$out', stderr '$err'"
fi

# A good package first, then a bad one: the run stops at the bad one with status 1.
fetch good-pkg changed-pkg
if [ "$rc" -eq 1 ] && grep -q "integrity mismatch" <<<"$err"; then
    ok "one bad package in a list stops the run"
else
    bad "list with a bad package: status $rc, stderr '$err'"
fi

# The cached tarball changes after it was unpacked: the check runs again and refuses it.
cp "$tmp/src/nojson-pkg-1.0.0.tgz" "$tmp/cache/good-pkg-1.0.0.tgz"
fetch good-pkg
if [ "$rc" -eq 1 ] && grep -q "good-pkg-1.0.0.tgz: integrity mismatch" <<<"$err" && [ -z "$out" ]; then
    ok "a tarball changed after unpacking is refused"
else
    bad "changed after unpacking: status $rc, stdout '$out', stderr '$err'"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
