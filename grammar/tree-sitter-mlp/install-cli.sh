#!/usr/bin/env bash
# Installs the tree-sitter CLI (0.22, from Debian trixie) into a private
# directory on a Debian 12 (bookworm) machine, without touching the system.
#
#   grammar/tree-sitter-mlp/install-cli.sh [DIR]    (default: build/tools/tree-sitter)
#
# The npm package tree-sitter-cli fetches its binary from GitHub, and bookworm
# has no tree-sitter-cli package. trixie's package needs glibc >= 2.39 while
# bookworm has 2.36, so this script downloads trixie's `tree-sitter-cli` and
# `libc6` packages, extracts both under DIR/root with `dpkg-deb -x`, and
# writes DIR/tree-sitter, a wrapper that starts the binary through trixie's
# dynamic loader with trixie's libc. Only that one process uses the newer
# glibc: programs it starts (node, cc) run normally, and the parsers that
# `tree-sitter test` compiles with the host cc only need bookworm's symbol
# versions, which the newer libc also provides.
#
# Trust chain: the suite's InRelease file is checked with gpgv against the
# Debian archive keyring installed on this machine; it gives the SHA256 of
# the Packages index, which gives the SHA256 of each .deb.
#
# Idempotent: when DIR/tree-sitter exists, runs, and DIR/.installed is
# present, nothing is downloaded.
#
# Environment:
#   MLC_DEBIAN_MIRROR  archive base URL (default http://deb.debian.org/debian)
#   MLC_DEBIAN_SUITE   suite to take the packages from (default trixie)
#   MLC_DEBIAN_KEYRING keyring for gpgv (default
#                      /usr/share/keyrings/debian-archive-keyring.gpg)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
dest=${1:-$repo_root/build/tools/tree-sitter}
mirror=${MLC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${MLC_DEBIAN_SUITE:-trixie}
keyring=${MLC_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
packages=(tree-sitter-cli libc6)

log() { printf 'install-cli: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$dest" in /*) ;; *) dest=$PWD/$dest ;; esac

# --- already installed? ------------------------------------------------------
if [[ -x $dest/tree-sitter && -f $dest/.installed ]] &&
   version=$("$dest/tree-sitter" --version 2>/dev/null); then
  log "already installed: $version ($dest/tree-sitter)"
  exit 0
fi

# --- prerequisites -----------------------------------------------------------
arch=$(dpkg --print-architecture 2>/dev/null) || die "dpkg not found (this script is for Debian)"
case "$arch" in
  amd64) triplet=x86_64-linux-gnu;  loader=ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu; loader=ld-linux-aarch64.so.1 ;;
  *) die "unsupported architecture '$arch' (amd64 and arm64 are)" ;;
esac
for tool in dpkg-deb gpgv xz sha256sum awk; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install dpkg gpgv xz-utils coreutils gawk)"
done
if command -v curl >/dev/null; then
  fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
  fetch() { wget -q --tries=3 -O "$2" "$1"; }
else
  die "neither curl nor wget is installed"
fi
[[ -r $keyring ]] || die "keyring $keyring is not readable (apt-get install debian-archive-keyring)"

mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- InRelease: signature, then the Packages index hash ----------------------
base=$mirror/dists/$suite
log "fetching $base/InRelease"
fetch "$base/InRelease" "$work/InRelease" || die "cannot download $base/InRelease"
# gpgv fails as soon as one of several signatures has no key here, so read its
# status lines: at least one good signature (by a known, unexpired key) and
# no bad one.
if ! gpgv --keyring "$keyring" --status-fd 3 --output "$work/Release" "$work/InRelease" \
       3>"$work/gpgv.status" 2>"$work/gpgv.log"; then
  : # judged from the status lines below
fi
if grep -q '^\[GNUPG:\] BADSIG' "$work/gpgv.status"; then
  cat "$work/gpgv.log" >&2
  die "InRelease of $suite has a BAD signature (a corrupt or tampered download)"
fi
if ! grep -q '^\[GNUPG:\] GOODSIG' "$work/gpgv.status" || [[ ! -s $work/Release ]]; then
  cat "$work/gpgv.log" >&2
  die "InRelease of $suite has no good signature from a key in $keyring" \
      "(bookworm's debian-archive-keyring has the trixie keys from version 2023.3+deb12u2 on:" \
      "apt-get update && apt-get install debian-archive-keyring)"
fi
index=main/binary-$arch/Packages.xz
index_sha=$(awk -v f="$index" '
  /^SHA256:/ { in256 = 1; next }
  /^[^ ]/    { in256 = 0 }
  in256 && $3 == f { print $1; exit }' "$work/Release")
[[ -n $index_sha ]] || die "$index is not listed in the signed Release file"

log "fetching $base/$index"
fetch "$base/$index" "$work/Packages.xz" || die "cannot download $base/$index"
echo "$index_sha  $work/Packages.xz" | sha256sum -c --quiet - >/dev/null 2>&1 ||
  die "SHA256 mismatch for $index"
xz -dc "$work/Packages.xz" >"$work/Packages"

# --- the packages ----------------------------------------------------------------
mkdir -p "$work/out/root"
stamp=""
for pkg in "${packages[@]}"; do
  read -r filename sha version < <(awk -v p="$pkg" '
    /^Package: / { cur = $2; file = ""; sha = ""; ver = "" }
    cur == p && /^Filename: / { file = $2 }
    cur == p && /^SHA256: /   { sha = $2 }
    cur == p && /^Version: /  { ver = $2 }
    /^$/ { if (cur == p && file != "") { print file, sha, ver; exit } cur = "" }
    END  { if (cur == p && file != "") print file, sha, ver }' "$work/Packages") ||
    die "package $pkg not found in $suite/$index"
  [[ -n ${sha:-} ]] || die "no SHA256 for $pkg in the index"
  deb=$work/$(basename "$filename")
  log "fetching $pkg $version"
  fetch "$mirror/$filename" "$deb" || die "cannot download $mirror/$filename"
  echo "$sha  $deb" | sha256sum -c --quiet - >/dev/null 2>&1 || die "SHA256 mismatch for $filename"
  dpkg-deb -x "$deb" "$work/out/root"
  stamp+="$pkg $version $sha"$'\n'
done

root=$work/out/root
libdir=usr/lib/$triplet
[[ -e $root/$libdir/$loader ]] || libdir=lib/$triplet   # pre-merged-usr layout
[[ -e $root/$libdir/$loader ]] || die "no $loader in the extracted libc6"
[[ -x $root/usr/bin/tree-sitter ]] || die "no usr/bin/tree-sitter in the extracted package"

# The wrapper finds its files relative to itself, so DIR may be moved.
cat >"$work/out/tree-sitter" <<EOF
#!/bin/sh
# Written by grammar/tree-sitter-mlp/install-cli.sh: runs Debian $suite's
# tree-sitter through $suite's own dynamic loader and libc (see that script).
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/root/$libdir/$loader" --library-path "\$d/root/$libdir" \\
  --argv0 "\$0" "\$d/root/usr/bin/tree-sitter" "\$@"
EOF
chmod +x "$work/out/tree-sitter"
version=$("$work/out/tree-sitter" --version) || die "the installed tree-sitter does not run"
printf '%s' "$stamp" >"$work/out/.installed"

rm -rf "$dest"
mv "$work/out" "$dest"
log "installed $version as $dest/tree-sitter"
