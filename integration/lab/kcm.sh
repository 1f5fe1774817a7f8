#!/usr/bin/env bash
# kcm.sh start|stop DIR: sssd_kcm, the KCM credential cache daemon of
# Fedora and RHEL ("KCM:" caches), for the lab.
#
#   start  on a host (root): sssd_kcm in a mount namespace of its own, with
#          /var/lib/sss/db and /var/lib/sss/secrets mounted from DIR/kcm and
#          its socket at DIR/kcm/kcm.sock (its configuration database names
#          it), so nothing of the machine's sssd is used or changed and
#          several labs can run at once. In a container, where no mount
#          namespace can be made, the container's own /var/lib/sss and the
#          default socket are used. Writes the socket path to
#          DIR/kcm.socket and returns once the daemon accepts connections.
#   stop   stops the daemon "start" started, by its pid.
#
# sssd_kcm asks the kernel to kill it when its parent dies: the parent
# here is a shell that waits for it (and runs in its own session), so the
# daemon outlives this script.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $dir ]] || lab_die "usage: kcm.sh start|stop DIR"

sssd=/usr/sbin/sssd
kcm=/usr/libexec/sssd/sssd_kcm

# kcm_accepts SOCKET: whether a connect() succeeds (the socket file
# appears before the daemon accepts).
kcm_accepts() {
  python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

case $cmd in
start)
  [[ -x $kcm && -x $sssd ]] || lab_die "sssd_kcm missing: apt-get install -y sssd-kcm"
  state=$dir/kcm
  mkdir -p "$state/db" "$state/secrets"
  chmod 700 "$state"
  if unshare --mount --propagation private true 2>/dev/null; then
    socket=$state/kcm.sock
    printf '[sssd]\nservices = kcm\n\n[kcm]\nsocket_path = %s\n' "$socket" >"$state/sssd.conf"
    chmod 600 "$state/sssd.conf"
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid unshare --mount --propagation private sh -c '
      set -e
      mount --bind "$1/db" /var/lib/sss/db
      mount --bind "$1/secrets" /var/lib/sss/secrets
      "$2" --genconf-section=kcm --config "$1/sssd.conf" --logger=stderr
      "$3" --uid 0 --gid 0 --logger=stderr --debug-level=0x0070 &
      echo $! >"$4"
      wait' sh "$state" "$sssd" "$kcm" "$dir/kcm.pid" </dev/null >>"$dir/kcm.out" 2>&1 &
  else
    # A container: its /var/lib/sss and /run are its own.
    socket=/var/run/.heim_org.h5l.kcm-socket
    # shellcheck disable=SC2016
    setsid sh -c '"$1" --uid 0 --gid 0 --logger=stderr --debug-level=0x0070 &
      echo $! >"$2"
      wait' sh "$kcm" "$dir/kcm.pid" </dev/null >>"$dir/kcm.out" 2>&1 &
  fi
  lab_wait 20 "sssd_kcm on $socket" kcm_accepts "$socket" || {
    tail -n 5 "$dir/kcm.out" >&2
    lab_stop_pid "$dir/kcm.pid" sssd_kcm
    exit 1
  }
  echo "$socket" >"$dir/kcm.socket"
  echo "kcm.sh: sssd_kcm on $socket (pid $(<"$dir/kcm.pid"))"
  ;;
stop)
  lab_stop_pid "$dir/kcm.pid" sssd_kcm
  rm -f "$dir/kcm.socket"
  ;;
*)
  lab_die "usage: kcm.sh start|stop DIR"
  ;;
esac
