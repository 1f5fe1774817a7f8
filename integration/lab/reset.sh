#!/usr/bin/env bash
# reset.sh DIR: makes a lab that outlives one run of the integration suite
# ready for the next. It deletes the principals that are not the lab's own
# (those realm.sh listed in DIR/lab-principals, and DIR/partner/lab-principals
# for the partner realm): the suite adds some (alice,
# HTTP/localhost, one per test that counts KDC requests) and fails when
# they already exist. And it empties the KDC log, since the suite counts
# requests in it by principal name and a new run reuses the names. Works on
# the files directly (kadmin.local), wherever the KDC runs; the KDC appends
# to its log (O_APPEND), so truncating it under the running KDC is safe.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

dir=${1:?usage: reset.sh DIR}
lab_wait_realm "$dir"
# shellcheck source=/dev/null
source "$dir/lab.env"
export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf

# clean REALM CONFIG PRINCIPALS: deletes REALM's principals that are not
# listed in PRINCIPALS; prints how many.
clean() {
  local realm=$1 conf=$2 keep=$3 listed n=0 p
  listed=$(KRB5_CONFIG=$conf timeout 30 kadmin.local -r "$realm" -q listprincs 2>/dev/null | grep "@$realm\$" | sort)
  while read -r p; do
    [[ -n $p ]] || continue
    KRB5_CONFIG=$conf timeout 30 kadmin.local -r "$realm" -q "delprinc -force $p" >/dev/null 2>&1
    n=$((n + 1))
  done < <(comm -23 <(echo "$listed") "$keep")
  echo "$n"
}

n=$(clean "$LAB_REALM" "$dir/krb5.conf" "$dir/lab-principals")
if [[ -n ${LAB_PARTNER_REALM:-} ]]; then
  n=$((n + $(clean "$LAB_PARTNER_REALM" "$dir/partner/krb5.conf" "$dir/partner/lab-principals")))
fi
if ((n)); then
  echo "reset.sh: deleted $n principal(s) left by an earlier run, emptied the KDC log"
  : >"$dir/kdc.log"
fi
