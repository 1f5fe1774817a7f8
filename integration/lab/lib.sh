# Helpers shared by the lab scripts (kdc.sh, iis.sh, lab.sh, client.sh);
# sourced, never run. Every wait here is bounded.
# shellcheck shell=bash

lab_name=$(basename "$0")

lab_die() {
  echo "$lab_name: $*" >&2
  exit 1
}

# lab_tcp_open HOST PORT: whether something accepts TCP connections there
# (bash's /dev/tcp: the images have no nc).
lab_tcp_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout 2 bash -c ': <>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# lab_free_port: a loopback port nothing has bound, for TCP or UDP, picked
# at random below the kernel's ephemeral range (ip_local_port_range), so
# that two labs on one host rarely collide and a port is never one that an
# outgoing connection, or one in TIME_WAIT, already holds: a busy test run
# leaves thousands of those in the ephemeral range, and a daemon binding
# one of them fails with "Address already in use". A port can still be
# taken before it is bound: callers retry on a bind failure.
lab_free_port() {
  local port low=20000 high=32767 range
  if read -r range _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && ((range > low + 1000)); then
    high=$((range - 1))
  fi
  for _ in {1..50}; do
    port=$((low + (RANDOM * 32768 + RANDOM) % (high - low + 1)))
    if command -v ss >/dev/null; then
      [[ -z $(ss -Htuan "( sport = :$port )" 2>/dev/null) ]] || continue
    elif lab_tcp_open 127.0.0.1 "$port"; then
      continue
    fi
    echo "$port"
    return 0
  done
  echo "$lab_name: no free loopback port found" >&2
  return 1
}

# lab_wait SECONDS WHAT COMMAND...: runs COMMAND until it succeeds, for at
# most SECONDS.
lab_wait() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "$lab_name: $what: not ready within ${limit}s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# lab_alive PID: whether the process runs (a zombie does not: a server
# started by a script that has exited may wait for a parent that never
# reaps it).
lab_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null || return 1
  [[ $state != Z ]]
}

lab_gone() { ! lab_alive "$1"; }

# lab_stop_pid PIDFILE COMM: stops the process whose pid PIDFILE holds,
# if it still is COMM (the pid may have been reused since): TERM, then
# KILL after 5 seconds.
lab_stop_pid() {
  local file=$1 comm=$2 pid
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  if [[ $pid =~ ^[0-9]+$ ]] && lab_alive "$pid" && [[ $(<"/proc/$pid/comm") == "$comm" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! lab_wait 5 "$comm ($pid) to stop" lab_gone "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# lab_wait_realm DIR: waits for realm.sh to have finished (in the kdc
# container, when this runs in another).
lab_wait_realm() {
  lab_wait "${LAB_WAIT:-60}" "the realm in $1 (lab.env)" test -f "$1/lab.env"
}
