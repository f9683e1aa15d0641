#!/bin/sh
# test/readme/run.sh PROGRAM [ARGS...]: runs one of the README's examples as `meson test`
# does (suite readme), with a lease table of its own: an example cannot make its own
# PORTPROBE_LOCK_DIR as the test programs do (test/main.cpp), so this makes a fresh
# directory, points PORTPROBE_LOCK_DIR at it, and removes it when PROGRAM exits.
# PROGRAM's exit status is this script's.
set -eu
PORTPROBE_LOCK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/portprobe-readme-XXXXXX")
export PORTPROBE_LOCK_DIR
trap 'rm -rf "$PORTPROBE_LOCK_DIR"' EXIT
status=0
"$@" || status=$?
exit "$status"
