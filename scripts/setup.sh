#!/usr/bin/env bash
# Installs what the tests and the demo need on a Debian machine, as root:
# MIT Kerberos (KDC and client tools, and krb5-k5tls for MIT's KDC proxy
# client), Apache with mod_auth_gssapi, curl, Python's requests-kerberos,
# gssapi and pywinrm, sssd-kcm (the KCM cache daemon) and keyutils (keyctl,
# for KEYRING caches), python3-kdcproxy (the reference KDC proxy), dnsmasq
# (a DNS server for the discovery tests), Redis (the shared replay cache),
# Squid (a forward proxy requiring Negotiate, with negotiate_kerberos_auth),
# Wine and the MinGW-w64 cross compiler (for the Windows tests), and
# staticcheck. Idempotent: a
# machine that has everything installs nothing. Services are never started
# by the packages (policy-rc.d); the tests start their own on loopback.
set -euo pipefail

packages=(krb5-kdc krb5-admin-server krb5-user apache2 libapache2-mod-auth-gssapi
  curl python3-requests-kerberos python3-gssapi python3-winrm openssl sssd-kcm keyutils
  python3-kdcproxy krb5-k5tls dnsmasq-base redis-server squid)

# Host-only test tools, in a list of their own: integration/docker/base.sh
# bakes "packages" above into the compose base image and must not get
# these (the Windows tests run on the host, under Wine: wine64 runs the
# Windows builds, the MinGW-w64 compiler builds the one DLL Go needs that
# Wine 8 lacks; see integration/internal/wine).
host_packages=(wine64 gcc-mingw-w64-x86-64-win32)

missing=()
for p in "${packages[@]}" "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  restore=""
  if [[ -e $policy ]]; then restore=$(mktemp); cp -p "$policy" "$restore"; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'if [[ -n $restore ]]; then mv "$restore" '"$policy"'; else rm -f '"$policy"'; fi' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  echo "setup: Go 1.26 is needed on PATH (found none)" >&2
  exit 1
fi

gobin=$(go env GOPATH)/bin
if [[ ! -x $gobin/staticcheck ]]; then
  echo "setup: installing staticcheck"
  GOWORK=off GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
