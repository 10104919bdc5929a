#!/usr/bin/env bash
# Install the Debian packages the test tiers need, only when missing:
# prometheus (+ promtool) for the metrics tests against a real Prometheus, shellcheck for
# sanity, chromium to look at the HTML report in a real browser, prometheus-alertmanager and a
# Java 17 runtime (ansible-rulebook) for the events tier.
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "system-deps: cannot install ${need[*]} (not root, no sudo); tests that need them will say so and skip" >&2
    exit 0
  fi
else SUDO=""; fi
echo "system-deps: installing ${need[*]} from Debian's repositories"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
  echo "system-deps: apt-get update failed; tests that need ${need[*]} will say so and skip" >&2
  exit 0
fi
# policy-rc.d keeps the package from trying to start its service during install
$SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null ||
  echo "system-deps: could not install ${need[*]}; tests that need them will say so and skip" >&2
$SUDO rm -f /usr/sbin/policy-rc.d
