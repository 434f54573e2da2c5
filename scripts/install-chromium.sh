#!/usr/bin/env bash
# Installs Debian's Chromium for the browser checks, when it is missing: as root through
# apt-get (CI and the project's machines), never a browser download of a test tool's own.
# On a developer's laptop without root, it says what to install instead.
set -euo pipefail

if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is missing: install Debian's chromium package (apt-get install chromium) or your system's" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
