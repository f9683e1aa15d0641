#!/bin/sh
# test/netns/run.sh PROGRAM [ARGS...]: runs PROGRAM in a network and mount namespace
# of its own (as root; else as root of a new user namespace), so that it may
# connect to every port of its loopback without touching this machine's
# services, and mount its own /etc/hosts without touching this machine's.
# PORTPROBE_OUTER_NETNS and PORTPROBE_OUTER_MNTNS tell the program the
# namespaces it must not be in. Exit 77 (meson: skipped) when no namespace can be made here,
# unless PORTPROBE_NETNS_FALLBACK_SUITE names a doctest suite of PROGRAM that only prefers a
# namespace: then PROGRAM runs here with that suite alone.
outer=$(readlink /proc/self/ns/net) || { echo "cannot read /proc/self/ns/net" >&2; exit 1; }
export PORTPROBE_OUTER_NETNS="$outer"
outer_mnt=$(readlink /proc/self/ns/mnt) || { echo "cannot read /proc/self/ns/mnt" >&2; exit 1; }
export PORTPROBE_OUTER_MNTNS="$outer_mnt"
if [ "$(id -u)" -eq 0 ] && unshare --net --mount -- true 2>/dev/null; then
  exec unshare --net --mount -- "$@"
fi
if unshare --user --map-root-user --net --mount -- true 2>/dev/null; then
  exec unshare --user --map-root-user --net --mount -- "$@"
fi
if [ -n "${PORTPROBE_NETNS_FALLBACK_SUITE:-}" ]; then
  echo "no network namespace can be made here: running only the" \
       "'$PORTPROBE_NETNS_FALLBACK_SUITE' tests of $1, in this namespace" >&2
  exec "$@" --test-suite="$PORTPROBE_NETNS_FALLBACK_SUITE"
fi
echo "no network namespace can be made here (not root, no user namespaces): skipped" >&2
exit 77
