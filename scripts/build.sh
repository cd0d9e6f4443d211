#!/bin/sh
# Installs the Debian packages (scripts/deps.sh), configures build/ the
# first time, and builds. Extra meson setup arguments (CI passes --werror)
# come from TUTTI_SETUP_ARGS.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	# shellcheck disable=SC2086
	meson setup build ${TUTTI_SETUP_ARGS:-}
fi
ninja -C build
