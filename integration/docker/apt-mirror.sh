# shellcheck shell=bash
# apt_mirror [ROOT]: prints the mirror this machine's apt uses
# for Debian's main archive (behind a corporate mirror, that is the one
# that answers), read from one-line ("deb URL SUITE ...") and deb822
# ("URIs:" and "Suites:") sources under ROOT (default /, for the tests).
# No host is assumed. Sourced by base.sh.
apt_mirror() {
  local f root=${1:-}
  for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    # deb [options] URL SUITE COMPONENTS...: the suite of the release
    # itself, not its -security or -updates companions.
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) !~ /-(security|updates|backports)$/) { print $i; exit } }' "$f"
  done
  for f in "$root"/etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # Stanzas separated by blank lines; the first whose Suites include a
    # plain release name.
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] !~ /-/) ok = 1 }
        }
        if (deb && ok && uri != "") { print uri; exit } }' "$f"
  done
}
