#!/usr/bin/env bash
# lab.sh up|env|down [DIR]: the whole lab on a host, without Docker: the
# realm and KDC (kdc.sh), a Redis server (redis.sh), the IIS-like servers
# (iis.sh: HTTP, HTTPS and a second HTTP replica, sharing their replay
# cache on that Redis; the partner realm's server; python3-kdcproxy), a
# Squid proxy requiring Negotiate (squid.sh) and a KCM daemon (kcm.sh,
# sssd_kcm), everything in one directory (Squid's files in one of its
# own), on loopback ports and a socket in the directory, stopped by pid.
#
#   up [DIR]   makes DIR (default: a new temporary directory), builds
#              iislike into DIR/bin unless IISLIKE names one, starts the
#              KDC, Redis, the servers, Squid and sssd_kcm, and prints
#              "lab.sh env DIR".
#   env DIR    prints the environment (shell exports) that points the
#              integration tests and MIT tools at the lab: KRB5_CONFIG,
#              KRBHTTP_LAB_DIR (the suite attaches to the realm),
#              KRBHTTP_KCM_SOCKET (the suite's KCM tests use the lab's
#              sssd_kcm) and the KRBHTTP_LAB_* variables of the lab tests
#              (compose_test.go).
#   down DIR   stops everything by pid and removes DIR.
#
# Example:
#   dir=$(bash integration/lab/lab.sh up | sed -n 's/^lab: //p')
#   eval "$(bash integration/lab/lab.sh env "$dir")"
#   kinit labuser   # password labuser-secret-1
#   curl --negotiate -u : --connect-to "iis.example.test:80:${KRBHTTP_LAB_URL#http://}" \
#     http://iis.example.test/whoami
#   bash integration/lab/lab.sh down "$dir"
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

usage="usage: lab.sh up [DIR] | env DIR | down DIR"
cmd=${1:-}
dir=${2:-}

env_of() {
  local d=$1
  # shellcheck source=/dev/null
  source "$d/lab.env"
  # shellcheck source=/dev/null
  source "$d/iis.ports"
  local -A vars=(
    [KRB5_CONFIG]=$d/krb5.conf
    [KRBHTTP_LAB_DIR]=$d
    [KRBHTTP_LAB_REALM]=$LAB_REALM
    [KRBHTTP_LAB_KDC]=$LAB_KDC_ADDR
    [KRBHTTP_LAB_URL]=http://127.0.0.1:$LAB_IIS_HTTP_PORT
    [KRBHTTP_LAB_TLS_URL]=https://127.0.0.1:$LAB_IIS_HTTPS_PORT
    [KRBHTTP_LAB_HOST]=$LAB_IIS_HOST
    [KRBHTTP_LAB_CA]=$d/tls/ca.pem
    [KRBHTTP_LAB_PARTNER_REALM]=$LAB_PARTNER_REALM
    [KRBHTTP_LAB_PARTNER_URL]=http://127.0.0.1:$LAB_PARTNER_PORT
    [KRBHTTP_LAB_PARTNER_HOST]=$LAB_PARTNER_HOST
    [KRBHTTP_LAB_KDCPROXY_URL]=https://127.0.0.1:$LAB_KDCPROXY_PORT/KdcProxy
    [KRBHTTP_LAB_URL2]=http://127.0.0.1:$LAB_IIS_HTTP2_PORT
    [KRBHTTP_LAB_KDC_STOP]="bash $(printf %q "$here/kdc.sh") stop $(printf %q "$d")"
    [KRBHTTP_LAB_KDC_START]="bash $(printf %q "$here/kdc.sh") start $(printf %q "$d")"
    [KRBHTTP_LAB_REDIS_STOP]="bash $(printf %q "$here/redis.sh") stop $(printf %q "$d")"
    [KRBHTTP_LAB_REDIS_START]="bash $(printf %q "$here/redis.sh") start $(printf %q "$d")"
  )
  if [[ -f $d/kcm.socket ]]; then vars[KRBHTTP_KCM_SOCKET]=$(<"$d/kcm.socket"); fi
  if [[ -f $d/squid.env ]]; then
    source "$d/squid.env"
    # The proxy is named as its principal says; the tests dial the port.
    vars[KRBHTTP_LAB_PROXY]=http://proxy.${LAB_IIS_HOST#*.}:$LAB_PROXY_PORT
    vars[KRBHTTP_LAB_PROXY_ADDR]=127.0.0.1:$LAB_PROXY_PORT
    vars[KRBHTTP_LAB_PROXY_TARGET]=$LAB_IIS_HOST:$LAB_IIS_HTTP_PORT
    vars[KRBHTTP_LAB_PROXY_TLS_TARGET]=$LAB_IIS_HOST:$LAB_IIS_HTTPS_PORT
    vars[KRBHTTP_LAB_PROXY_LOG_CMD]="cat $(printf %q "$LAB_PROXY_DATA/access.log")"
  fi
  local k
  for k in "${!vars[@]}"; do
    printf 'export %s=%q\n' "$k" "${vars[$k]}"
  done | sort
}

down() {
  local d=$1
  bash "$here/squid.sh" stop "$d" || true
  bash "$here/iis.sh" stop "$d" || true
  bash "$here/kcm.sh" stop "$d" || true
  bash "$here/redis.sh" stop "$d" || true
  bash "$here/kdc.sh" stop "$d" || true
  # Only a directory "up" made a lab of is removed.
  if [[ -f $d/.krbhttp-lab ]]; then rm -rf "$d"; fi
}

case $cmd in
up)
  if [[ -z $dir ]]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/krbhttp-lab.XXXXXX"); fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # down removes the directory: only one that is empty or already a lab.
  if [[ ! -f $dir/.krbhttp-lab && -n $(ls -A "$dir") ]]; then
    lab_die "$dir is not empty: give a new or empty directory"
  fi
  touch "$dir/.krbhttp-lab"
  trap 'down "$dir"' EXIT # a lab half up is taken down again
  trap 'exit 130' INT TERM
  if [[ -z ${IISLIKE:-} ]]; then
    command -v go >/dev/null || lab_die "go is needed to build iislike (or set IISLIKE)"
    (cd "$here/.." && go build -o "$dir/bin/iislike" ./cmd/iislike)
    export IISLIKE=$dir/bin/iislike
  fi
  bash "$here/kdc.sh" start "$dir"
  bash "$here/redis.sh" start "$dir"
  bash "$here/iis.sh" start "$dir"
  bash "$here/squid.sh" start "$dir"
  bash "$here/kcm.sh" start "$dir"
  trap - EXIT
  echo "lab: $dir"
  ;;
env)
  [[ -n $dir && -f $dir/lab.env && -f $dir/iis.ports ]] || lab_die "$usage (DIR: a lab that is up)"
  env_of "$(cd "$dir" && pwd)"
  ;;
down)
  [[ -n $dir ]] || lab_die "$usage"
  [[ -d $dir ]] || exit 0
  down "$(cd "$dir" && pwd)"
  ;;
*)
  lab_die "$usage"
  ;;
esac
