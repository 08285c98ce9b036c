#!/usr/bin/env bash
# Runs every test: installs the Debian packages they need (promtool, amtool,
# busybox-static, nix, faketime, docker-compose, openssl, time) when any is missing, then `cargo test`.
# The Docker tests need a running Docker engine; they fail, never skip, without one.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^#' tests/packages.txt | grep -v '^$')
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  # Debian's prometheus and alertmanager packages start daemons on 9090/9093, the ports
  # the Docker tests publish; only the binaries are wanted.
  $sudo sh -c 'test -e /usr/sbin/policy-rc.d || { printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; touch /tmp/.obsbuild-policy; }'
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  $sudo sh -c 'if test -e /tmp/.obsbuild-policy; then rm -f /usr/sbin/policy-rc.d /tmp/.obsbuild-policy; fi'
fi

cargo test --release --locked "$@"
