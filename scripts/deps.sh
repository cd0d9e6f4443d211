#!/bin/sh
# Installs the Debian 12 packages tutti builds, runs and tests with.
# Run as root (or through sudo). Safe to run again: apt-get skips what is
# already installed.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential meson ninja-build pkg-config \
	libsofia-sip-ua-dev libsrtp2-dev libopus-dev libspeexdsp-dev \
	libspandsp-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev \
	libxml2-dev libinih-dev libsndfile1-dev libopusenc-dev libcunit1-dev \
	libssl-dev openssl \
	python3 sip-tester baresip-core libxml2-utils clang-format espeak-ng \
	debhelper dpkg-dev systemd groff-base clang libclang-rt-dev \
	liburing-dev >/dev/null
# debhelper and dpkg-dev build the Debian package (tests/e2e/test_deb.py);
# systemd gives systemd-analyze, -sysusers and -tmpfiles for the unit and
# package tests; groff-base lints the manual page; clang builds the fuzz
# targets (fuzz/, docs/fuzzing.md); liburing-dev gives tutti its io_uring
# send batches (rtp/sendq.c) and bench/sendbench its io_uring way (optional:
# without it tutti sends with sendto and the bench measures the other three).
