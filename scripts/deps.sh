#!/usr/bin/env bash
# Install, from Debian's archive, everything the build, the tests and the demo need.
# Idempotent: when every package is present it only checks and returns.
set -euo pipefail

PKGS=(
	build-essential
	git
	sudo
	postgresql-15
	postgresql-client-15
	postgresql-contrib
	postgresql-server-dev-15
	postgresql-15-cron
	libgit2-dev
	libpq-dev
	libssl-dev
	libcurl4-openssl-dev
	libipc-run-perl
	libio-pty-perl
	clang
	python3
	python3-cryptography
	python3-venv
	openssl
	llvm
	libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
		exit 1
	fi
else
	SUDO=
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Do not let the Debian package create and start a default cluster: tests and the demo run their own.
if [ ! -e /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
	$SUDO mkdir -p /etc/postgresql-common
	if [ -e /etc/postgresql-common/createcluster.conf ]; then
		grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf || echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
	else
		echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
