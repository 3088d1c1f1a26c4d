#!/usr/bin/env bash
# The root file system of the container test's image (harness/tests/suite/container.rs):
# a minimal Debian of this machine's release, from the mirror apt uses here (CI reaches
# Debian's packages and nothing else), holding only what the programs graded in it need:
# the libraries the good sample's programs import, `ip` for interfaces.py, `free` for the
# SSH remote's commands. The same release as this machine's, so that the image's C library
# is the one the kit was built against.
#
# Usage: container-root.sh FOLDER (made; must not exist). The test runs it when the root was
# not made before; `.ci/test` runs it in the background while the suite compiles.
set -euo pipefail
trap 'echo "container-root.sh: failed at line $LINENO" >&2' ERR
root=${1:?usage: container-root.sh FOLDER}

packages=python3,python3-cffi-backend,python3-dnspython,python3-paramiko,python3-pymysql
packages+=,ca-certificates,iproute2,procps

# The first Debian mirror of apt's sources (one-line or deb822 format).
# (`cat` fails where sources.list is gone: deb822 alone; what it printed is what counts.)
mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; } |
    awk '($1 == "URIs:" || ($1 == "deb" && $2 !~ /^\[/)) && $2 ~ /\/debian\/?$/ { sub(/\/$/, "", $2); print $2; exit }')
mirror=${mirror:-http://deb.debian.org/debian}
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

started=$SECONDS
debootstrap --variant=minbase --include="$packages" "$release" "$root" "$mirror" </dev/null
echo "container-root.sh: debootstrap $release from $mirror took $((SECONDS - started)) s" >&2
