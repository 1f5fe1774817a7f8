#!/usr/bin/env bash
# iis.sh run|start|stop DIR: the lab's IIS-like server (cmd/iislike) with
# the keytab realm.sh made (DIR/keytabs/iis.keytab), over HTTP and over
# HTTPS with a throwaway CA and certificate made at every start
# (DIR/tls/ca.pem is what clients trust). Every instance keeps its replay
# cache on the lab's Redis (redis.sh) when there is one, so they are
# replicas of one service: a token accepted by one is refused by all.
#
#   run    the compose iis and iis2 services' entry point: waits for the
#          realm (made by the kdc service on the shared volume), then serves
#          HTTP on :80 and (unless LAB_IIS_TLS=false, as for the replica
#          iis2) HTTPS on :443 of the container in the foreground; exits
#          when either server does, and stops both on SIGTERM.
#   start  on a host: the same on loopback ports (LAB_IIS_HTTP_PORT,
#          LAB_IIS_HTTPS_PORT, or free ones), plus a second HTTP replica
#          (LAB_IIS_HTTP2_PORT, or a free one), in the background, pids in
#          DIR/iis-http.pid, DIR/iis-https.pid and DIR/iis-http2.pid, ports
#          in DIR/iis.ports.
#   stop   stops the servers started by "start", by their pids.
#
# Environment: IISLIKE (the binary; default iislike on PATH), LAB_IIS_CBT
# (channel-binding policy over HTTPS: none, relaxed (default) or strict),
# LAB_IIS_PERSISTENT (true: a connection is authenticated once, the IIS
# default; false: every request), LAB_REDIS_ADDR (the shared replay cache;
# on a host, DIR/redis.env when redis.sh started one; none: each instance
# keeps its own in memory).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || lab_die "usage: iis.sh run|start|stop DIR"
dir=$(cd "$dir" && pwd)
iislike=${IISLIKE:-iislike}
cbt=${LAB_IIS_CBT:-relaxed}
persistent=${LAB_IIS_PERSISTENT:-true}

# certs HOST: a CA and a server certificate for HOST, localhost and
# 127.0.0.1 (clients on the host reach published ports by address), valid
# two days. Made at each start, so no key outlives the lab.
certs() {
  local tls=$dir/tls
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=krbhttp lab CA" -keyout "$tls/ca.key" -out "$tls/ca.pem.tmp" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$1" -keyout "$tls/iis.key" -out "$tls/iis.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$1" >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/iis.csr" -CA "$tls/ca.pem.tmp" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext.cnf" -out "$tls/iis.pem" 2>/dev/null
  mv -f "$tls/ca.pem.tmp" "$tls/ca.pem"
}

prepare() {
  command -v "$iislike" >/dev/null || lab_die "$iislike not found (set IISLIKE to the iislike binary)"
  lab_wait_realm "$dir"
  # shellcheck source=/dev/null
  source "$dir/lab.env"
  # The replica serves no HTTPS: the certificate is its sibling's to make.
  if [[ ${LAB_IIS_TLS:-true} != false ]]; then certs "$LAB_IIS_HOST"; fi
  kt=$dir/keytabs/iis.keytab
  if [[ -z ${LAB_REDIS_ADDR:-} && -f $dir/redis.env ]]; then
    # shellcheck source=/dev/null
    source "$dir/redis.env"
  fi
  common=(-v --keytab "$kt" --persistent-auth="$persistent")
  if [[ -n ${LAB_REDIS_ADDR:-} ]]; then common+=(--replay-redis "$LAB_REDIS_ADDR"); fi
}

stop_all() {
  local f
  for f in iis-http iis-https iis-http2; do lab_stop_pid "$dir/$f.pid" iislike; done
}

case $cmd in
run)
  prepare
  "$iislike" "${common[@]}" --listen "${LAB_IIS_HTTP_LISTEN:-:80}" &
  pids=($!)
  if [[ ${LAB_IIS_TLS:-true} != false ]]; then
    "$iislike" "${common[@]}" --listen "${LAB_IIS_HTTPS_LISTEN:-:443}" \
      --tls-cert "$dir/tls/iis.pem" --tls-key "$dir/tls/iis.key" --cbt "$cbt" &
    pids+=($!)
  fi
  # As PID 1 of the container this shell gets docker stop's SIGTERM: pass
  # it on. Either server ending ends the container, so a crash shows.
  stopping=0
  trap 'stopping=1; kill -TERM "${pids[@]}" 2>/dev/null || true' TERM INT
  status=0
  wait -n "${pids[@]}" || status=$?
  if ((stopping)); then status=0; fi
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" || true
  exit "$status"
  ;;
start)
  prepare
  http_port=${LAB_IIS_HTTP_PORT:-$(lab_free_port)}
  https_port=${LAB_IIS_HTTPS_PORT:-$(lab_free_port)}
  http2_port=${LAB_IIS_HTTP2_PORT:-$(lab_free_port)}
  "$iislike" "${common[@]}" --listen "127.0.0.1:$http_port" </dev/null >>"$dir/iis-http.out" 2>&1 &
  echo $! >"$dir/iis-http.pid"
  "$iislike" "${common[@]}" --listen "127.0.0.1:$https_port" \
    --tls-cert "$dir/tls/iis.pem" --tls-key "$dir/tls/iis.key" --cbt "$cbt" \
    </dev/null >>"$dir/iis-https.out" 2>&1 &
  echo $! >"$dir/iis-https.pid"
  "$iislike" "${common[@]}" --listen "127.0.0.1:$http2_port" </dev/null >>"$dir/iis-http2.out" 2>&1 &
  echo $! >"$dir/iis-http2.pid"
  up() { lab_tcp_open 127.0.0.1 "$http_port" && lab_tcp_open 127.0.0.1 "$https_port" && lab_tcp_open 127.0.0.1 "$http2_port"; }
  if ! lab_wait 10 "iislike on 127.0.0.1:$http_port, :$https_port and :$http2_port" up; then
    stop_all
    lab_die "iislike did not start: $(tail -n 3 "$dir/iis-http.out" "$dir/iis-https.out" "$dir/iis-http2.out")"
  fi
  printf 'LAB_IIS_HTTP_PORT=%s\nLAB_IIS_HTTPS_PORT=%s\nLAB_IIS_HTTP2_PORT=%s\n' "$http_port" "$https_port" "$http2_port" >"$dir/iis.ports"
  echo "iis.sh: iislike for HTTP/$LAB_IIS_HOST on http://127.0.0.1:$http_port, https://127.0.0.1:$https_port and (replica) http://127.0.0.1:$http2_port; replay cache: ${LAB_REDIS_ADDR:-in memory, each its own}"
  ;;
stop)
  stop_all
  ;;
*)
  lab_die "usage: iis.sh run|start|stop DIR"
  ;;
esac
