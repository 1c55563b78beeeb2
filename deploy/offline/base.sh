#!/usr/bin/env bash
# Builds the Debian bookworm base image the offline images start from, with no registry:
# debootstrap a minimal root from the Debian mirror (DEBIAN_MIRROR: a local mirror on a
# closed network) and `docker import` it, then add the packages (deploy/offline/base/).
# Kept while it exists; FORCE=1 rebuilds it.
set -euo pipefail
cd "$(dirname "$0")"
image="${CCHC_BASE_IMAGE:-cchc-base:bookworm}"
root_image="${image%%:*}-root:bookworm"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if [[ "${FORCE:-0}" != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "base image $image exists"
    exit 0
fi
if [[ "${FORCE:-0}" == 1 ]] || ! docker image inspect "$root_image" >/dev/null 2>&1; then
    root="$(mktemp -d)"
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase bookworm "$root" "$mirror"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$root_image"
fi
docker build --build-arg ROOT_IMAGE="$root_image" --build-arg DEBIAN_MIRROR="$mirror" \
    -t "$image" base
echo "built base image $image"
