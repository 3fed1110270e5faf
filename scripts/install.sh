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
# The release build keeps line tables for profiling; installed copies do not need them.
strip --strip-debug "$prefix/lib/libafterimage.so" "$prefix/lib/libafterimage.a" 2>/dev/null || true
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" afterimage.pc.in > "$prefix/lib/pkgconfig/afterimage.pc"
echo "installed afterimage $version under $prefix"
if [ "$prefix" = /usr/local ] || [ "$prefix" = /usr ]; then
    ldconfig 2>/dev/null || true
else
    echo "programs linked against it need $prefix/lib on their library path (LD_LIBRARY_PATH, or -Wl,-rpath,$prefix/lib)"
fi
