#!/usr/bin/env bash
# iis.sh run|start|stop DIR: the lab's IIS-like server (cmd/iislike) with
# the keytab realm.sh made (DIR/keytabs/iis.keytab), over HTTP and over
# HTTPS with a throwaway CA and certificate made at every start
# (DIR/tls/ca.pem is what clients trust). The HTTPS one also serves a KDC
# proxy at /KdcProxy (--kdc-proxy). Every instance of it keeps its replay
# cache on the lab's Redis (redis.sh) when there is one, so they are
# replicas of one service: a token accepted by one is refused by all.
# Beside them: an IIS-like server for the partner realm's
# HTTP/web.partner.test (keytabs/partner-iis.keytab), which accepts users of
# both realms, over HTTP; and python3-kdcproxy (kdcproxy-serve.py), the
# reference KDC proxy, over HTTPS with the same certificate, for both
# realms.
#
#   run    the compose iis and iis2 services' entry point: waits for the
#          realm (made by the kdc service on the shared volume), then serves
#          HTTP on :80, HTTPS on :443, the partner server on :8081 and
#          python3-kdcproxy on :8444 of the container in the foreground
#          (with LAB_IIS_TLS=false, as for the replica iis2, only HTTP on
#          :80: the certificate and the other servers are iis's); exits
#          when any server does, and stops them all on SIGTERM.
#   start  on a host: the same on loopback ports (LAB_IIS_HTTP_PORT,
#          LAB_IIS_HTTPS_PORT, LAB_PARTNER_PORT, LAB_KDCPROXY_PORT, or free
#          ones), plus a second HTTP replica (LAB_IIS_HTTP2_PORT, or a free
#          one), in the background, pids in DIR/iis-*.pid and
#          DIR/kdcproxy.pid, ports in DIR/iis.ports.
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
  partner_kt=$dir/keytabs/partner-iis.keytab
  # iislike --kdc-proxy relays to the KDCs this file names.
  export KRB5_CONFIG=$dir/krb5.conf
  printf '[global]\nuse_dns = false\n\n[%s]\nkerberos = kerberos://%s\n\n[%s]\nkerberos = kerberos://%s\n' \
    "$LAB_REALM" "$LAB_KDC_ADDR" "$LAB_PARTNER_REALM" "$LAB_KDC_ADDR" >"$dir/kdcproxy.conf"
  export KDCPROXY_CONFIG=$dir/kdcproxy.conf
  if [[ -z ${LAB_REDIS_ADDR:-} && -f $dir/redis.env ]]; then
    # shellcheck source=/dev/null
    source "$dir/redis.env"
  fi
  common=(-v --keytab "$kt" --persistent-auth="$persistent")
  if [[ -n ${LAB_REDIS_ADDR:-} ]]; then common+=(--replay-redis "$LAB_REDIS_ADDR"); fi
  partner=(-v --keytab "$partner_kt" --realms "$LAB_PARTNER_REALM,$LAB_REALM")
}

stop_all() {
  local f
  for f in iis-http iis-https iis-http2 iis-partner; do lab_stop_pid "$dir/$f.pid" iislike; done
  lab_stop_pid "$dir/kdcproxy.pid" python3
}

case $cmd in
run)
  prepare
  "$iislike" "${common[@]}" --listen "${LAB_IIS_HTTP_LISTEN:-:80}" &
  pids=($!)
  if [[ ${LAB_IIS_TLS:-true} != false ]]; then
    "$iislike" "${common[@]}" --listen "${LAB_IIS_HTTPS_LISTEN:-:443}" \
      --tls-cert "$dir/tls/iis.pem" --tls-key "$dir/tls/iis.key" --cbt "$cbt" --kdc-proxy &
    pids+=($!)
    "$iislike" "${partner[@]}" --listen "${LAB_PARTNER_LISTEN:-:8081}" &
    pids+=($!)
    /usr/bin/python3 "$here/kdcproxy-serve.py" "${LAB_KDCPROXY_LISTEN:-0.0.0.0:8444}" "$dir/tls/iis.pem" "$dir/tls/iis.key" &
    pids+=($!)
  fi
  # As PID 1 of the container this shell gets docker stop's SIGTERM: pass
  # it on. Any server ending ends the container, so a crash shows.
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
  partner_port=${LAB_PARTNER_PORT:-$(lab_free_port)}
  kdcproxy_port=${LAB_KDCPROXY_PORT:-$(lab_free_port)}
  "$iislike" "${common[@]}" --listen "127.0.0.1:$http_port" </dev/null >>"$dir/iis-http.out" 2>&1 &
  echo $! >"$dir/iis-http.pid"
  "$iislike" "${common[@]}" --listen "127.0.0.1:$https_port" \
    --tls-cert "$dir/tls/iis.pem" --tls-key "$dir/tls/iis.key" --cbt "$cbt" --kdc-proxy \
    </dev/null >>"$dir/iis-https.out" 2>&1 &
  echo $! >"$dir/iis-https.pid"
  "$iislike" "${common[@]}" --listen "127.0.0.1:$http2_port" </dev/null >>"$dir/iis-http2.out" 2>&1 &
  echo $! >"$dir/iis-http2.pid"
  "$iislike" "${partner[@]}" --listen "127.0.0.1:$partner_port" </dev/null >>"$dir/iis-partner.out" 2>&1 &
  echo $! >"$dir/iis-partner.pid"
  /usr/bin/python3 "$here/kdcproxy-serve.py" "127.0.0.1:$kdcproxy_port" "$dir/tls/iis.pem" "$dir/tls/iis.key" \
    </dev/null >>"$dir/kdcproxy.out" 2>&1 &
  echo $! >"$dir/kdcproxy.pid"
  up() {
    local p
    for p in "$http_port" "$https_port" "$http2_port" "$partner_port" "$kdcproxy_port"; do
      lab_tcp_open 127.0.0.1 "$p" || return 1
    done
  }
  if ! lab_wait 10 "iislike on 127.0.0.1:$http_port, :$https_port, :$http2_port, :$partner_port and python3-kdcproxy on :$kdcproxy_port" up; then
    stop_all
    lab_die "the servers did not start: $(tail -n 3 "$dir"/iis-*.out "$dir/kdcproxy.out")"
  fi
  printf 'LAB_IIS_HTTP_PORT=%s\nLAB_IIS_HTTPS_PORT=%s\nLAB_IIS_HTTP2_PORT=%s\nLAB_PARTNER_PORT=%s\nLAB_KDCPROXY_PORT=%s\n' \
    "$http_port" "$https_port" "$http2_port" "$partner_port" "$kdcproxy_port" >"$dir/iis.ports"
  echo "iis.sh: iislike for HTTP/$LAB_IIS_HOST on http://127.0.0.1:$http_port, https://127.0.0.1:$https_port (KDC proxy at /KdcProxy)" \
    "and (replica) http://127.0.0.1:$http2_port, replay cache: ${LAB_REDIS_ADDR:-in memory, each its own};" \
    "for HTTP/$LAB_PARTNER_HOST on http://127.0.0.1:$partner_port; python3-kdcproxy on https://127.0.0.1:$kdcproxy_port/KdcProxy"
  ;;
stop)
  stop_all
  ;;
*)
  lab_die "usage: iis.sh run|start|stop DIR"
  ;;
esac
