#!/usr/bin/env bash
# squid.sh run|start|stop DIR: the lab's forward proxy, Debian's Squid.
# It authenticates its clients with Negotiate (negotiate_kerberos_auth,
# MIT GSSAPI) as HTTP/proxy.<the lab's domain> (LAB_PROXY_SPN: another
# principal) from its own keytab, DIR/keytabs/proxy.keytab, which realm.sh
# makes, and tunnels https with CONNECT. Its configuration is
# squid.conf.tmpl, the one the tests' Squid (integration/internal/squid)
# uses. Its access log (access.log) has one line per request or tunnel,
# naming the user.
#
#   run    the compose proxy service's entry point: in the foreground on
#          port 3128 of the container (LAB_PROXY_LISTEN: another
#          address), its files in DIR/squid, names from /etc/hosts;
#   start  on the host (lab.sh up): in the background on a free loopback
#          port (LAB_PROXY_PORT: a given one), the lab's host names
#          resolved to 127.0.0.1; its files in a directory of its own
#          outside DIR (DIR is private to its owner, and under root Squid's
#          helper runs as the proxy user), named with the port in
#          DIR/squid.env. Clients name it proxy.<domain>, its principal's
#          host: map that name to 127.0.0.1, or dial the port;
#   stop   stops what start started and removes its directory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

usage="usage: squid.sh run|start|stop DIR"
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || lab_die "$usage"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/squid

if [[ $cmd == stop ]]; then
  lab_stop_pid "$dir/squid.pid" squid
  if [[ -f $dir/squid.env ]]; then
    # shellcheck source=/dev/null
    source "$dir/squid.env"
    if [[ ${LAB_PROXY_DATA:-} == */krbhttp-lab-squid.* ]]; then rm -rf "$LAB_PROXY_DATA"; fi
    rm -f "$dir/squid.env"
  fi
  exit 0
fi

[[ -x /usr/sbin/squid && -x /usr/lib/squid/negotiate_kerberos_auth ]] ||
  lab_die "squid or its negotiate_kerberos_auth not found (apt-get install squid, or bash scripts/setup.sh)"

# config LISTEN SPN HOSTS: squid.conf from the template. Squid refuses to
# run as root: under root it becomes the proxy user, which must own its
# directory and keytab.
config() {
  local root="# "
  if [[ $(id -u) -eq 0 ]]; then root=""; fi
  install -m 0600 "$dir/keytabs/proxy.keytab" "$data/proxy.keytab"
  mkdir -p "$data/rcache"
  sed -e "s|@LISTEN@|$1|g" -e "s|@DIR@|$data|g" -e "s|@HOSTS@|$3|g" -e "s|@KEYTAB@|$data/proxy.keytab|g" \
    -e "s|@SPN@|$2|g" -e "s|@ROOT@|$root|g" -e "s|@AUTH@||g" -e "s|@OPEN@|# |g" \
    "$here/squid.conf.tmpl" >"$data/squid.conf"
  if [[ -z $root ]]; then chown -R proxy:proxy "$data"; fi
}

lab_wait_realm "$dir"
# shellcheck source=/dev/null
source "$dir/lab.env"
domain=${LAB_IIS_HOST#*.}
spn=${LAB_PROXY_SPN:-HTTP/proxy.$domain@$LAB_REALM}

case $cmd in
run)
  mkdir -p "$data"
  export KRB5_CONFIG=$dir/krb5.conf KRB5RCACHEDIR=$data/rcache
  config "${LAB_PROXY_LISTEN:-0.0.0.0:3128}" "$spn" /etc/hosts
  exec /usr/sbin/squid -N -f "$data/squid.conf"
  ;;
start)
  data=$(mktemp -d "${TMPDIR:-/tmp}/krbhttp-lab-squid.XXXXXX")
  chmod 755 "$data"
  install -m 0600 "$dir/krb5.conf" "$data/krb5.conf"
  echo "127.0.0.1 localhost $LAB_IIS_HOST iis2.$domain $LAB_NODELEG_HOST" >"$data/hosts"
  export KRB5_CONFIG=$data/krb5.conf KRB5RCACHEDIR=$data/rcache
  port=${LAB_PROXY_PORT:-}
  fixed=$port
  for attempt in 1 2 3; do
    if [[ -z $port ]]; then port=$(lab_free_port); fi
    config "127.0.0.1:$port" "$spn" "$data/hosts"
    /usr/sbin/squid -N -f "$data/squid.conf" </dev/null >>"$dir/squid.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/squid.pid"
    printf 'LAB_PROXY_PORT=%s\nLAB_PROXY_DATA=%s\n' "$port" "$data" >"$dir/squid.env"
    deadline=$((SECONDS + 15))
    while lab_alive "$pid" && ! lab_tcp_open 127.0.0.1 "$port" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if lab_alive "$pid" && lab_tcp_open 127.0.0.1 "$port"; then
      echo "squid.sh: Squid on 127.0.0.1:$port as $spn (pid $pid, files in $data)"
      exit 0
    fi
    lab_stop_pid "$dir/squid.pid" squid
    [[ -z $fixed ]] || break
    echo "squid.sh: Squid did not come up on port $port (attempt $attempt); trying another" >&2
    port=
  done
  tail -n 20 "$data/cache.log" "$dir/squid.out" >&2 2>/dev/null || true
  lab_die "Squid did not come up"
  ;;
*)
  lab_die "$usage"
  ;;
esac
