#!/usr/bin/env bash
# redis.sh run|start|stop DIR: the lab's Redis server (Debian's
# redis-server), where the IIS-like replicas share their replay cache
# (iislike --replay-redis). Its data lives in DIR/redis, with append-only
# persistence, so a stopped server started again still knows the tokens
# used before (the Redis-outage tests rely on it); the eviction policy is
# noeviction, so no live entry is ever dropped to make room.
#
#   run    the compose redis service's entry point: redis-server in the
#          foreground on port 6379 of the container (the compose network
#          only: not published), so the container lives and dies with it.
#   start  on a host: redis-server in the background on a loopback port
#          (LAB_REDIS_PORT, or the port of an earlier start, or a free
#          one), pid in DIR/redis.pid, address in DIR/redis.env
#          (LAB_REDIS_ADDR); returns once it answers.
#   stop   stops the server started by "start", by its pid (SIGTERM: Redis
#          writes out its append-only file first).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || lab_die "usage: redis.sh run|start|stop DIR"
mkdir -p "$dir/redis"
dir=$(cd "$dir" && pwd)
data=$dir/redis

# config BIND PORT: the server's configuration, written into its
# directory (nothing under /etc is read).
config() {
  local protected=yes
  [[ $1 == 127.0.0.1 ]] || protected=no # the compose network only
  cat >"$data/redis.conf" <<CONF
bind $1
port $2
protected-mode $protected
daemonize no
dir $data
logfile ""
appendonly yes
appendfsync everysec
save ""
maxmemory-policy noeviction
CONF
}

answers() { [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

command -v redis-server >/dev/null || lab_die "redis-server not found (apt-get install redis-server, or bash scripts/setup.sh)"

case $cmd in
run)
  config 0.0.0.0 6379
  exec redis-server "$data/redis.conf"
  ;;
start)
  port=${LAB_REDIS_PORT:-}
  fixed=$port
  if [[ -z $port && -f $dir/redis.env ]]; then
    # shellcheck source=/dev/null
    source "$dir/redis.env"
    port=${LAB_REDIS_ADDR##*:}
    fixed=$port
  fi
  for attempt in 1 2 3; do
    if [[ -z $port ]]; then port=$(lab_free_port); fi
    config 127.0.0.1 "$port"
    redis-server "$data/redis.conf" </dev/null >>"$dir/redis.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/redis.pid"
    deadline=$((SECONDS + 10))
    while lab_alive "$pid" && ! answers "$port" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if lab_alive "$pid" && answers "$port"; then
      echo "LAB_REDIS_ADDR=127.0.0.1:$port" >"$dir/redis.env"
      echo "redis.sh: Redis on 127.0.0.1:$port (pid $pid, data in $data)"
      exit 0
    fi
    lab_stop_pid "$dir/redis.pid" redis-server
    echo "redis.sh: attempt $attempt: Redis did not come up on port $port: $(tail -n 3 "$dir/redis.out")" >&2
    [[ -z $fixed ]] || break
    port=
  done
  lab_die "Redis did not start (see $dir/redis.out)"
  ;;
stop)
  lab_stop_pid "$dir/redis.pid" redis-server
  ;;
*)
  lab_die "usage: redis.sh run|start|stop DIR"
  ;;
esac
