#!/usr/bin/env bash
# squid.sh run DIR: the compose proxy service's entry point: the lab's
# forward proxy, Debian's Squid, in the foreground on port 3128 of the
# container (LAB_PROXY_LISTEN: another address). It authenticates its
# clients with Negotiate (negotiate_kerberos_auth, MIT GSSAPI) as
# HTTP/proxy.<the lab's domain> (LAB_PROXY_SPN: another principal) from
# its own keytab, DIR/keytabs/proxy.keytab, which realm.sh makes, and
# tunnels https with CONNECT. Its configuration is squid.conf.tmpl, the
# one the tests' Squid (integration/internal/squid) uses; it lives in
# DIR/squid with its access log (access.log: one line per request or
# tunnel, naming the user).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || lab_die "usage: squid.sh run DIR"
mkdir -p "$dir/squid"
dir=$(cd "$dir" && pwd)
data=$dir/squid

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
export KRB5_CONFIG=$dir/krb5.conf KRB5RCACHEDIR=$data/rcache

[[ $cmd == run ]] || lab_die "usage: squid.sh run DIR"
config "${LAB_PROXY_LISTEN:-0.0.0.0:3128}" "${LAB_PROXY_SPN:-HTTP/proxy.${LAB_IIS_HOST#*.}@$LAB_REALM}" /etc/hosts
exec /usr/sbin/squid -N -f "$data/squid.conf"
