#!/usr/bin/env bash
# realm.sh DIR: writes the lab realm's configuration into DIR and, the first
# time, creates its database, principals and keytabs. It never starts
# anything (kdc.sh does), so it is the one place that says what the lab
# realm holds, on a host and in the compose kdc service alike.
#
# Re-running it on an existing DIR rewrites krb5.conf and kdc.conf (the KDC
# address may have changed) and keeps the database, so a restarted KDC
# serves the same keys the running servers and caches already hold.
#
# Environment (defaults are the host's loopback lab; compose sets its own):
#   LAB_REALM       realm name (KRBHTTP.TEST, as auth/kdctest)
#   LAB_KDC_LISTEN  what the KDC listens on: "88" (all addresses, in a
#                   container) or "127.0.0.1:PORT" (required on a host)
#   LAB_KDC_ADDR    the KDC address written into krb5.conf for clients
#                   (default: LAB_KDC_LISTEN)
#   LAB_HOST_KDC    optional: a host:port for krb5.host.conf, the file for
#                   clients outside the container network (published port)
#   LAB_IIS_HOST    host name of the IIS-like server (iis.example.test)
#
# What the realm holds (passwords are throwaway, the realm is too):
#   labuser@R        password labuser-secret-1    (user with a password)
#   labkt@R          keytabs/labkt.keytab         (user with a keytab)
#   labshort@R       password labshort-secret-1, tickets of at most 1 minute
#                    (expiry tests)
#   HTTP/<iis>@R     +ok_as_delegate, and HTTP/nodeleg.<domain>@R without it,
#                    both in keytabs/iis.keytab (the IIS-like server's)
#   HTTP/proxy.<domain>@R  keytabs/proxy.keytab (the lab's Squid, squid.sh)
# Every ticket may be forwardable (krb5.conf asks for forwardable ones).
#
# A second realm, PARTNER.TEST (LAB_PARTNER_REALM), served by the same KDC
# process, with its database and a krb5.conf of its own in DIR/partner
# (kdctest.Attach reads it there), trusts R both ways: krbtgt/PARTNER@R and
# krbtgt/R@PARTNER, each with the same key in both databases. Both
# krb5.conf files list both realms and map partner.test to PARTNER.TEST:
#   HTTP/web.partner.test@PARTNER   keytabs/partner-iis.keytab (an IIS-like
#                                   server that accepts users of R too)
set -euo pipefail

dir=${1:?usage: realm.sh DIR}
realm=${LAB_REALM:-KRBHTTP.TEST}
listen=${LAB_KDC_LISTEN:?LAB_KDC_LISTEN must be set, e.g. 127.0.0.1:PORT or 88}
addr=${LAB_KDC_ADDR:-$listen}
iis_host=${LAB_IIS_HOST:-iis.example.test}
domain=${iis_host#*.}
nodeleg_host=nodeleg.$domain
partner=${LAB_PARTNER_REALM:-PARTNER.TEST}
partner_domain=$(echo "$partner" | tr '[:upper:]' '[:lower:]')
partner_host=web.$partner_domain

mkdir -p "$dir/keytabs" "$dir/partner"
dir=$(cd "$dir" && pwd)
export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf

# krb5conf KDC-ADDRESS [host]: the client configuration. The settings are
# those of auth/kdctest, for the same reasons: no DNS, no reverse lookups
# (the SPN is exactly HTTP/<URL host>), forwardable tickets. The default
# cache and client keytab are in DIR, except in the file for another host,
# where DIR does not exist (MIT's defaults apply there).
krb5conf() {
  local files="" default=${3:-$realm}
  if [[ ${2:-} != host ]]; then
    files=$'\tdefault_ccache_name = FILE:'"$dir"$'/krb5cc_default\n\tdefault_client_keytab_name = FILE:'"$dir"$'/client.keytab\n'
  fi
  cat <<CONF
[libdefaults]
	default_realm = $default
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	forwardable = true
${files}
[realms]
	$realm = {
		kdc = $1
	}
	$partner = {
		kdc = $1
	}

[domain_realm]
	localhost = $realm
	127.0.0.1 = $realm
	::1 = $realm
	.krbhttp.test = $realm
	krbhttp.test = $realm
	.$domain = $realm
	$domain = $realm
	.$partner_domain = $partner
	$partner_domain = $partner
CONF
}

# Written to a temporary name and renamed: a client reading the shared
# volume never sees half a file.
write() {
  cat >"$1.tmp"
  mv -f "$1.tmp" "$1"
}

krb5conf "$addr" | write "$dir/krb5.conf"
krb5conf "$addr" "" "$partner" | write "$dir/partner/krb5.conf"
# The partner realm shares the KDC, its kdc.conf and its log.
ln -sf ../kdc.conf "$dir/partner/kdc.conf"
ln -sf ../kdc.log "$dir/partner/kdc.log"
if [[ -n ${LAB_HOST_KDC:-} ]]; then
  krb5conf "$LAB_HOST_KDC" host | write "$dir/krb5.host.conf"
fi
write "$dir/kdc.conf" <<CONF
[kdcdefaults]
	kdc_listen = $listen
	kdc_tcp_listen = $listen

[realms]
	$realm = {
		database_name = $dir/principal
		key_stash_file = $dir/stash
		acl_file = $dir/kadm5.acl
		max_life = 10h
		max_renewable_life = 7d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
		default_principal_flags = +preauth
	}
	$partner = {
		database_name = $dir/partner/principal
		key_stash_file = $dir/partner/stash
		acl_file = $dir/kadm5.acl
		max_life = 10h
		max_renewable_life = 7d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
		default_principal_flags = +preauth
	}

[plugins]
	kdcpreauth = {
		disable = spake
	}

[logging]
	kdc = FILE:$dir/kdc.log
	kdc = STDERR
	admin_server = FILE:$dir/kadmin.log
	default = FILE:$dir/krb5lib.log
CONF
: >"$dir/kadm5.acl"

# lab.env marks a complete realm: it is written last.
if [[ -f $dir/lab.env ]]; then
  exit 0
fi

kadmin() {
  local out r=${2:-$realm}
  out=$(timeout 30 kadmin.local -r "$r" -q "$1" 2>&1) || { echo "$out" >&2; return 1; }
  # kadmin.local exits 0 on most failures: look for what success prints.
  if [[ $1 == addprinc* && $out != *created* ]]; then
    echo "realm.sh: $1: $out" >&2
    return 1
  fi
}

rm -f "$dir"/principal* "$dir/stash" "$dir"/partner/principal* "$dir/partner/stash" "$dir"/keytabs/*
timeout 60 kdb5_util -r "$realm" create -s -P "lab-master-$RANDOM$RANDOM" >/dev/null
timeout 60 kdb5_util -r "$partner" create -s -P "lab-master-$RANDOM$RANDOM" >/dev/null
kadmin "addprinc -pw labuser-secret-1 labuser@$realm"
kadmin "addprinc -randkey labkt@$realm"
kadmin "ktadd -k $dir/keytabs/labkt.keytab labkt@$realm"
kadmin "addprinc -pw labshort-secret-1 -maxlife \"1 minute\" labshort@$realm"
kadmin "addprinc -randkey +ok_as_delegate HTTP/$iis_host@$realm"
kadmin "addprinc -randkey HTTP/$nodeleg_host@$realm"
kadmin "ktadd -k $dir/keytabs/iis.keytab HTTP/$iis_host@$realm HTTP/$nodeleg_host@$realm"
kadmin "addprinc -randkey HTTP/proxy.$domain@$realm"
kadmin "ktadd -k $dir/keytabs/proxy.keytab HTTP/proxy.$domain@$realm"
# The trust: each cross-realm key in both databases, the same password.
for tgs in "krbtgt/$partner@$realm" "krbtgt/$realm@$partner"; do
  pw="lab-cross-$RANDOM$RANDOM$RANDOM"
  kadmin "addprinc -pw $pw $tgs" "$realm"
  kadmin "addprinc -pw $pw $tgs" "$partner"
done
kadmin "addprinc -randkey HTTP/$partner_host@$partner" "$partner"
kadmin "ktadd -k $dir/keytabs/partner-iis.keytab HTTP/$partner_host@$partner" "$partner"
# The principals a client run may not delete (client.sh resets the rest).
timeout 30 kadmin.local -r "$realm" -q listprincs 2>/dev/null | grep "@$realm\$" | sort | write "$dir/lab-principals"
KRB5_CONFIG=$dir/partner/krb5.conf timeout 30 kadmin.local -r "$partner" -q listprincs 2>/dev/null |
  grep "@$partner\$" | sort | write "$dir/partner/lab-principals"
write "$dir/lab.env" <<ENV
# The lab realm, as realm.sh made it.
LAB_REALM=$realm
LAB_KDC_ADDR=$addr
LAB_IIS_HOST=$iis_host
LAB_NODELEG_HOST=$nodeleg_host
LAB_PARTNER_REALM=$partner
LAB_PARTNER_HOST=$partner_host
LAB_USER=labuser@$realm
LAB_USER_PASSWORD=labuser-secret-1
ENV
echo "realm.sh: realm $realm created in $dir (KDC $addr)"
