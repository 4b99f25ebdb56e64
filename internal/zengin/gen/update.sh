#!/bin/sh
# Replaces the bank directory that ships with kinko by the npm package
# zengin-code's data (VERSION, or the latest), with its licence beside it.
# Run from internal/zengin (go generate does).
set -eu
version=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack "zengin-code${version:+@$version}" --pack-destination "$tmp" >/dev/null
tgz=$(ls "$tmp"/zengin-code-*.tgz)
tar -xzf "$tgz" -C "$tmp" package/LICENSE.txt
cp "$tmp/package/LICENSE.txt" data/LICENSE.zengin-code
go run ./gen -o data/zengin-banks.json.gz "$tgz"
