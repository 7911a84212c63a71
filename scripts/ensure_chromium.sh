#!/usr/bin/env bash
# The browser tests drive Debian's chromium package (never a downloaded browser). Install it when
# it is missing and we can (root with apt-get); otherwise say so: the browser tests then skip,
# except in CI (KORONTO_REQUIRE_SERVICES=1), where they fail.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (one time)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "Could not install chromium; browser tests will not run." >&2
else
  echo "chromium is not installed (apt-get install chromium); browser tests will not run." >&2
fi
exit 0
