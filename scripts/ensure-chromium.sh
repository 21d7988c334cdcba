#!/usr/bin/env bash
# The desk console's browser tests drive Debian's chromium through its chromedriver (no browser
# download of their own). Install both from Debian's packages when missing; a no-op otherwise.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium/chromedriver missing and not root with apt-get: install Debian's 'chromium'" \
       "and 'chromium-driver' to run the console's browser tests (they are skipped meanwhile)." >&2
  exit 0
fi
echo "Installing chromium and chromium-driver for the console's browser tests (once)…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null \
  && apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null \
  || echo "apt-get could not install chromium; the console's browser tests will say so." >&2
