#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (browser for end-to-end tests,
# PostgreSQL for the multi-worker tuning test) when they are missing. Called by `make test`.
# Never downloads a browser of its own: Debian's chromium is the one Playwright drives.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
