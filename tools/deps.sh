#!/usr/bin/env bash
# Install the Debian packages graphkern needs, only those missing (idempotent).
# Usage: tools/deps.sh [extra-package ...]
set -euo pipefail
packages=(build-essential cmake pkg-config python3 python3-dev python3-numpy python3-jinja2 libblis-dev libblis-serial-dev libjansson-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "graphkern: installing ${missing[*]}" >&2
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  # apt's own output stays visible (a failure says why); wait up to 5 min
  # for another apt/dpkg to release its lock instead of failing at once
  lock=(-o DPkg::Lock::Timeout=300)
  $SUDO apt-get "${lock[@]}" update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${lock[@]}" install -y "${missing[@]}"
fi
