#!/usr/bin/env bash
# Install every Debian package that portmirror's build, tests, benchmarks and lab need.
# Idempotent: runs `apt-get update` once per invocation only when something is missing.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libpcap-dev libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  tcpdump tshark python3-scapy tcpreplay netsniff-ng openvswitch-switch
  iproute2 iputils-ping ethtool procps util-linux bc time
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
