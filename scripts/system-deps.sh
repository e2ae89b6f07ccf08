#!/usr/bin/env bash
# Make sure the system programs a target needs are here: install them with apt where we can,
# otherwise say exactly what to install.
# Usage: scripts/system-deps.sh redis|chromium|nginx|ip|bubblewrap ...
# bubblewrap is optional: without it the playground says it cannot run, and the rest works.
set -euo pipefail

need_apt=()
optional=()

# Debian's packages start their service on install (nginx on port 80) where no init system
# says otherwise; the tests start their own instances, so forbid that for this install only.
no_service_start() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
}
for what in "$@"; do
  case "$what" in
    redis)
      # With REDIS_URL set the site uses that Redis and starts none of its own.
      if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null && [ ! -x .venv/bin/redis-server ]; then
        need_apt+=(redis-server)
      fi ;;
    chromium)
      [ -x /usr/bin/chromium ] || need_apt+=(chromium) ;;
    nginx)
      # Tests only (tests/test_deploy_nginx.py runs the guide's config in front of the site).
      command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx) ;;
    ip)
      # Tests only (tests/test_classroom_lan.py wires a "phone" namespace with iproute2).
      command -v ip >/dev/null || [ -x /usr/sbin/ip ] || need_apt+=(iproute2) ;;
    bubblewrap)
      # The playground's sandbox (learners' own code); setpriv comes with util-linux.
      command -v bwrap >/dev/null || optional+=(bubblewrap) ;;
    *) echo "system-deps: unknown dependency '$what'" >&2; exit 2 ;;
  esac
done
[ ${#need_apt[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && exit 0
if [ ${#need_apt[@]} -eq 0 ] && ! { command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; }; }; then
  echo "Note: bubblewrap (bwrap) is not installed, so the playground cannot run learners' code" \
    "here (every other page works). Install your system's bubblewrap package to enable it." >&2
  exit 0
fi
need_apt+=(${optional[@]+"${optional[@]}"})

if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "Installing ${need_apt[*]} from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  no_service_start
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  exit 0
fi
if command -v apt-get >/dev/null && command -v sudo >/dev/null; then
  echo "Installing ${need_apt[*]} with sudo apt-get…"
  sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  exit 0
fi
cat >&2 <<MSG
Celery Lab needs: ${need_apt[*]}, and cannot install them here (no apt-get as root).
  - redis-server: install Redis 6 or newer (macOS: brew install redis), or set REDIS_URL to a
    Redis you already run, e.g. REDIS_URL=redis://127.0.0.1:6379/0 make run
  - chromium (tests only): install Chromium so that /usr/bin/chromium exists.
  - nginx (tests only): install nginx (Debian/Ubuntu: apt-get install nginx; macOS: brew install nginx).
  - bubblewrap (optional): the playground's sandbox (bwrap); without it the playground says
    it cannot run learners' code and every other page works.
MSG
exit 1
