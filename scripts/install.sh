#!/usr/bin/env bash
# Installs the shared and static libraries, the header and a pkg-config file under
# PREFIX (default /usr/local), after `cargo build --release`.
# Usage: PREFIX=/opt/afterimage scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-/usr/local}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"

install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0644 include/afterimage.h "$prefix/include/"
install -m 0755 target/release/libafterimage.so "$prefix/lib/"
install -m 0644 target/release/libafterimage.a "$prefix/lib/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" afterimage.pc.in > "$prefix/lib/pkgconfig/afterimage.pc"
echo "installed afterimage $version under $prefix"
