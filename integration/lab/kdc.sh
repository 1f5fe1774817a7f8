#!/usr/bin/env bash
# kdc.sh run|start|stop DIR: the lab's MIT KDC.
#
#   run    the compose kdc service's entry point: realm.sh, then krb5kdc in
#          the foreground, so the container lives and dies with the KDC
#          (docker stop sends SIGTERM, on which krb5kdc exits). Listens on
#          port 88 of the container (LAB_KDC_LISTEN); krb5.conf names
#          LAB_KDC_ADDR (kdc.example.test:88 on the compose network).
#   start  on a host: realm.sh, then krb5kdc in the background on a
#          loopback port (LAB_KDC_PORT, or the port of an earlier start, or
#          a free one), pid in DIR/kdc.pid; returns once the KDC accepts
#          connections.
#   stop   stops the KDC started by "start", by its pid.
#
# A stopped KDC can be started again on the same DIR and port: the
# database, and so every key and ticket, survives (the KDC-outage tests
# rely on it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || lab_die "usage: kdc.sh run|start|stop DIR"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf

realm() {
  # shellcheck source=/dev/null
  source "$dir/lab.env"
  echo "$LAB_REALM"
}

# realm_args: krb5kdc's -r for each realm it serves (the lab's and the
# partner realm trusting it).
realm_args() {
  # shellcheck source=/dev/null
  source "$dir/lab.env"
  echo "-r $LAB_REALM -r $LAB_PARTNER_REALM"
}

case $cmd in
run)
  LAB_KDC_LISTEN=${LAB_KDC_LISTEN:-88} bash "$here/realm.sh" "$dir"
  # shellcheck disable=SC2046 # two words per realm
  exec krb5kdc -n $(realm_args)
  ;;
start)
  port=${LAB_KDC_PORT:-}
  fixed=$port
  if [[ -z $port && -f $dir/kdc.port ]]; then
    port=$(<"$dir/kdc.port")
    fixed=$port
  fi
  for attempt in 1 2 3; do
    if [[ -z $port ]]; then port=$(lab_free_port); fi
    LAB_KDC_LISTEN=127.0.0.1:$port LAB_KDC_ADDR=127.0.0.1:$port bash "$here/realm.sh" "$dir"
    # shellcheck disable=SC2046 # two words per realm
    krb5kdc -n $(realm_args) </dev/null >>"$dir/kdc.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/kdc.pid"
    deadline=$((SECONDS + 10))
    while lab_alive "$pid" && ! lab_tcp_open 127.0.0.1 "$port" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if lab_alive "$pid" && lab_tcp_open 127.0.0.1 "$port"; then
      echo "$port" >"$dir/kdc.port"
      echo "kdc.sh: KDC for $(realm_args | sed 's/-r //g') on 127.0.0.1:$port (pid $pid)"
      exit 0
    fi
    lab_stop_pid "$dir/kdc.pid" krb5kdc
    echo "kdc.sh: attempt $attempt: the KDC did not come up on port $port: $(tail -n 3 "$dir/kdc.out")" >&2
    # A port taken by someone else: try another, unless it was asked for.
    [[ -z $fixed ]] || break
    port=
  done
  lab_die "the KDC did not start (see $dir/kdc.out)"
  ;;
stop)
  lab_stop_pid "$dir/kdc.pid" krb5kdc
  ;;
*)
  lab_die "usage: kdc.sh run|start|stop DIR"
  ;;
esac
