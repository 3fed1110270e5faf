#!/usr/bin/env bash
# Runs the afterimage Suricata plugin inside a real Suricata 8 and checks its output.
#
# Host: Debian 12 (bookworm), x86-64, run as root, with access to a Debian mirror and to
# crates.io. Debian 12 has no Suricata 8 package, and the Suricata 8 packages need glibc
# 2.39, so the script builds a Debian 13 (trixie) chroot with debootstrap and installs
# Suricata from trixie-backports in it. Suricata's plugin headers are not packaged: they
# come from the upstream source tarball that Debian's source archive serves (sid's
# suricata_8.0.7.orig.tar.gz), through ./configure and `make install-headers` (no
# Suricata build). libafterimage.so is built on the host with cargo and runs in the
# chroot, whose glibc is newer.
#
# Usage: tests/suricata/run.sh
#   AFTERIMAGE_SURICATA_ENV  where the chroot lives [/var/tmp/afterimage-suricata], about 1.5 GB
#   MIRROR                   Debian mirror [taken from the host's apt sources]
#
# Every setup step is skipped once done, so a rerun takes about 20 s. The script reads
# capture files only (suricata -r), never a network interface. It prints one line per
# check, PASS or FAIL, and exits non-zero when a check fails.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ENV_DIR=${AFTERIMAGE_SURICATA_ENV:-/var/tmp/afterimage-suricata}
CH=$ENV_DIR/chroot-trixie
CAPTURES=$ROOT/tests/fixtures/captures
# Paths inside the chroot.
WORK=/build/afterimage
HEADERS=/build/hdr/usr/include/suricata

started=$(date +%s)
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
note() { echo "setup: $*"; }
die() { echo "FAIL setup: $*"; exit 1; }
in_ch() {
    chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"

host_mirror() {
    { grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'
    } | grep -v security | head -1 || true
}
MIRROR=${MIRROR:-$(host_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$ENV_DIR"

# --- the library, built on the host while the chroot is set up ------------------------
(cd "$ROOT" && cargo build --release --locked) > "$ENV_DIR/cargo.log" 2>&1 &
cargo_pid=$!

# --- 1. trixie chroot -----------------------------------------------------------------
if [ ! -e "$CH/.stamp-debootstrap" ]; then
    if ! command -v debootstrap > /dev/null; then
        note "installing debootstrap on the host"
        apt-get update -qq && apt-get install -y -qq debootstrap > /dev/null || die "apt-get install debootstrap failed"
    fi
    grep -qE " $CH(/| )" /proc/mounts && die "something is mounted under $CH"
    rm -rf "$CH"
    note "debootstrap --variant=minbase trixie from $MIRROR"
    debootstrap --variant=minbase trixie "$CH" "$MIRROR" > "$ENV_DIR/debootstrap.log" 2>&1 \
        || { tail -20 "$ENV_DIR/debootstrap.log"; die "debootstrap failed (log above)"; }
    touch "$CH/.stamp-debootstrap"
fi

# --- 2. Suricata and the tools to configure its source and compile the plugin -----------
if [ ! -e "$CH/.stamp-apt" ]; then
    note "installing suricata from trixie-backports, compilers and configure's dependencies"
    # Keep maintainer scripts from starting suricata.service in the chroot.
    printf '#!/bin/sh\nexit 101\n' > "$CH/usr/sbin/policy-rc.d"
    chmod +x "$CH/usr/sbin/policy-rc.d"
    # A mirror that is a frozen snapshot may serve sid's index past its Valid-Until date.
    echo 'Acquire::Check-Valid-Until "false";' > "$CH/etc/apt/apt.conf.d/99no-check-valid-until"
    # The chroot has no /dev/pts.
    echo 'Dpkg::Use-Pty "0";' > "$CH/etc/apt/apt.conf.d/99no-pty"
    cat > "$CH/etc/apt/sources.list" <<EOF
deb $MIRROR trixie main
deb $MIRROR trixie-backports main
deb-src $MIRROR sid main
deb-src $MIRROR trixie-backports main
EOF
    in_ch apt-get update -qq || die "apt-get update in the chroot failed"
    in_ch apt-get install -y -qq --no-install-recommends -t trixie-backports suricata > /dev/null \
        || die "apt-get install suricata (trixie-backports) failed"
    # rustc and cargo: Suricata's ./configure refuses to run without them (it only runs --version).
    in_ch apt-get install -y -qq --no-install-recommends gcc make pkgconf libc6-dev libpcap-dev \
        libyaml-dev libjansson-dev libpcre2-dev zlib1g-dev rustc cargo python3 > /dev/null \
        || die "apt-get install of the build tools failed"
    touch "$CH/.stamp-apt"
fi
SURICATA_VERSION=$(in_ch suricata -V 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p')
case "$SURICATA_VERSION" in 8.*) ;; *) die "suricata -V gives '$SURICATA_VERSION', expected 8.x" ;; esac

# --- 3. plugin headers from the upstream source tarball ---------------------------------
if [ ! -e "$CH$HEADERS/autoconf.h" ]; then
    mkdir -p "$CH/build"
    tarball=$(ls "$CH"/build/suricata_8.*.orig.tar.gz 2>/dev/null | head -1)
    if [ -z "$tarball" ]; then
        # Only the orig tarball is needed; `apt-get source` exits non-zero when the archive
        # lacks the .dsc, so the tarball itself is checked (apt verifies its checksum).
        for v in $(in_ch apt-cache showsrc suricata | sed -n 's/^Version: //p' | sort -u | sort -rV); do
            up=$(echo "$v" | sed 's/^[0-9]*://; s/-[^-]*$//')
            case "$up" in 8.*) ;; *) continue ;; esac
            in_ch sh -c "cd /build && apt-get source -qq --download-only suricata=$v" > /dev/null 2>&1 || true
            [ -s "$CH/build/suricata_$up.orig.tar.gz" ] && { tarball=$CH/build/suricata_$up.orig.tar.gz; break; }
        done
    fi
    [ -n "$tarball" ] || die "no Suricata 8 source tarball could be downloaded with apt-get source"
    source_version=$(basename "$tarball" | sed 's/^suricata_//; s/\.orig\.tar\.gz$//')
    note "headers from suricata_$source_version.orig.tar.gz (configure + make install-headers)"
    src=/build/suricata-$source_version
    rm -rf "$CH$src" "$CH/build/hdr"
    tar xzf "$tarball" -C "$CH/build" || die "cannot unpack $tarball"
    # Generic options: those that differ from Debian's build only add members to a capture
    # union in Packet that is padded to a fixed size, so the Packet layout is the same.
    in_ch sh -c "cd $src && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
        --disable-gccmarch-native > /build/configure.log 2>&1" \
        || { tail -30 "$CH/build/configure.log"; die "Suricata's ./configure failed (log above)"; }
    in_ch make -s -C "$src/src" install-headers DESTDIR=/build/hdr > /dev/null || die "make install-headers failed"
    echo "$source_version" > "$CH/build/hdr/version"
    rm -rf "$CH$src"
fi
HEADERS_VERSION=$(cat "$CH/build/hdr/version" 2>/dev/null || echo unknown)

# --- 4. libafterimage (host) and the plugin (chroot) -------------------------------------
wait "$cargo_pid" || { tail -30 "$ENV_DIR/cargo.log"; die "cargo build --release failed (log above)"; }
AFTERIMAGE=$ROOT/target/release/afterimage
mkdir -p "$CH$WORK"/{include,lib,plugin,captures,expected,out}
cp "$ROOT/include/afterimage.h" "$CH$WORK/include/"
cp "$ROOT/target/release/libafterimage.so" "$CH$WORK/lib/"
cp "$ROOT/examples/suricata/afterimage-plugin.c" "$ROOT/examples/suricata/Makefile" "$CH$WORK/plugin/"
cp "$CAPTURES"/* "$CH$WORK/captures/"
if in_ch make -s -C "$WORK/plugin" CFLAGS="-O2 -g -Werror" SURICATA_INCLUDE="$HEADERS" \
        AFTERIMAGE_INCLUDE="$WORK/include" AFTERIMAGE_LIB="$WORK/lib" > "$ENV_DIR/make.log" 2>&1; then
    pass "plugin builds without warnings (Suricata $HEADERS_VERSION headers, Suricata $SURICATA_VERSION runs it)"
else
    cat "$ENV_DIR/make.log"
    fail "plugin build (compiler output above)"
    exit 1
fi
PLUGIN=$WORK/plugin/afterimage-suricata.so

# Compares the plugin's tables with the command-line tool's: features as float64 bits
# (CSV values parsed, .npy data read raw) and meta rows as text.
cat > "$CH$WORK/compare.py" <<'EOF'
import struct, sys

def npy(path):
    data = open(path, 'rb').read()
    length = struct.unpack('<H', data[8:10])[0]
    header = data[10:10 + length].decode()
    shape = header.split("'shape': (")[1].split(')')[0]
    rows, columns = (int(part) for part in shape.split(','))
    body = data[10 + length:]
    if len(body) != rows * columns * 8:
        sys.exit(f'{path}: header says {rows}x{columns} but holds {len(body)} bytes')
    return [], [body[i * columns * 8:(i + 1) * columns * 8] for i in range(rows)]

def csv(path):
    lines = open(path).read().split('\n')
    if lines[-1] != '':
        sys.exit(f'{path}: no newline at the end')
    rows = [struct.pack(f'<{len(line.split(","))}d', *map(float, line.split(','))) for line in lines[1:-1]]
    return lines[0], rows

kind, got_features, want_features, got_meta, want_meta = sys.argv[1:]
read = npy if kind == 'npy' else csv
got_header, got = read(got_features)
want_header, want = read(want_features)
if got_header != want_header:
    sys.exit('feature names differ')
if len(got) != len(want):
    sys.exit(f'{len(got)} feature rows, expected {len(want)}')
for i, (a, b) in enumerate(zip(got, want)):
    if a != b:
        sys.exit(f'feature row {i + 1} differs in its float64 bits')
got_lines = open(got_meta).read().split('\n')
want_lines = open(want_meta).read().split('\n')
if len(got_lines) != len(want_lines):
    sys.exit(f'{len(got_lines) - 2} meta rows, expected {len(want_lines) - 2}')
for i, (a, b) in enumerate(zip(got_lines, want_lines)):
    if a != b:
        sys.exit(f'meta line {i + 1} differs: {a!r} != {b!r}')
print(f'{len(got)} rows')
EOF

# Runs Suricata on a capture. Arguments: name, capture file, runmode, extra --set options.
# Output lands in $WORK/out/NAME; the exit status is Suricata's (124 on timeout).
run_suricata() {
    local name=$1 capture=$2 runmode=$3
    shift 3
    local out=$WORK/out/$name
    rm -rf "$CH$out"
    mkdir -p "$CH$out"
    local sets=()
    for option in "$@"; do sets+=(--set "$option"); done
    # A capture Suricata cannot open makes --runmode single wait 61 s before it fails.
    in_ch timeout 120 suricata -c /etc/suricata/suricata.yaml --set "plugins.0=$PLUGIN" \
        "${sets[@]}" -r "$WORK/captures/$capture" -l "$out" -k none --runmode "$runmode" \
        > "$CH$out/console.log" 2>&1
}

# "read R packets, wrote W rows, skipped S ..., errors E" from the plugin's closing line.
plugin_counts() {
    sed -n 's/.*afterimage: read \([0-9]*\) packets, wrote \([0-9]*\) rows, skipped \([0-9]*\) .*errors \([0-9]*\),.*/\1 \2 \3 \4/p' "$1"
}
# The number of packets Suricata read, from its "pcap: read N file(s), M packets" line.
suricata_read() {
    sed -n 's/.*pcap: read [0-9]* files\{0,1\}, \([0-9]*\) packets.*/\1/p' "$1"
}

# --- 5. exact features: --runmode single, one shared engine ------------------------------
# Microsecond captures covering Ethernet with VLAN tags, ARP, Linux SLL, raw IP (DLT 101
# and 228), and a larger ICS capture.
EXACT="vlan-8021q-and-stacked.pcap arp-scan-nmap.pcap linux-sll-cooked-v1.pcap raw-ip-dlt101.pcap
raw-ipv4-dlt228.pcap ics-modbus-lan-13k.pcap"
# compare NAME CAPTURE FORMAT "CLI OPTIONS" SURICATA-SETTINGS...
compare() {
    local name=$1 capture=$2 format=$3 cli_options=$4
    shift 4
    local extension=$format want=$CH$WORK/expected/$name
    [ "$format" = csv ] || extension=npy
    rm -rf "$want"
    mkdir -p "$want"
    # shellcheck disable=SC2086
    "$AFTERIMAGE" extract "$CAPTURES/$capture" -o "$want/features.$extension" --format "$format" \
        --quiet $cli_options || { fail "$name: afterimage extract failed"; return; }
    run_suricata "$name" "$capture" single "afterimage.threads=shared" "afterimage.format=$format" \
        "afterimage.filename=features.$extension" "$@"
    local status=$?
    if [ "$status" != 0 ]; then
        fail "$name: suricata exited with status $status ($(tail -1 "$CH$WORK/out/$name/console.log"))"
        return
    fi
    local result
    if result=$(in_ch python3 "$WORK/compare.py" "$format" "$WORK/out/$name/features.$extension" \
            "$WORK/expected/$name/features.$extension" "$WORK/out/$name/features_meta.csv" \
            "$WORK/expected/$name/features_meta.csv" 2>&1); then
        pass "$name: single runmode, shared engine: features and meta equal afterimage extract ($result)"
    else
        fail "$name: single runmode, shared engine: $result"
    fi
}
for capture in $EXACT; do
    compare "exact-${capture%.pcap}" "$capture" csv ""
done
compare "exact-npy-custom-settings" ics-modbus-lan-13k.pcap npy "--decay 2,0.5 --limit 40 --limit-policy evict" \
    "afterimage.decay-factors=2,0.5" "afterimage.record-limit=40" "afterimage.limit-policy=evict"
compare "exact-record-limit-reject" arp-scan-nmap.pcap csv "--limit 30 --limit-policy reject" \
    "afterimage.record-limit=30" "afterimage.limit-policy=reject"
compare "exact-preallocated" arp-scan-nmap.pcap csv "" "afterimage.preallocate=20000"

# The same capture, given the settings as a YAML section instead of --set options.
cat > "$CH$WORK/afterimage.yaml" <<'EOF'
%YAML 1.1
---
afterimage:
  threads: shared
  format: csv
  filename: yaml.csv
  decay-factors: [5, 3, 1, 0.1, 0.01]
  state-file: afterimage.state
EOF
name=yaml-section
if in_ch timeout 120 suricata -c /etc/suricata/suricata.yaml --include "$WORK/afterimage.yaml" \
        --set "plugins.0=$PLUGIN" -r "$WORK/captures/arp-scan-nmap.pcap" -l "$WORK/out/exact-arp-scan-nmap" \
        -k none --runmode single > "$CH$WORK/out/$name.log" 2>&1 \
    && cmp -s "$CH$WORK/out/exact-arp-scan-nmap/yaml.csv" "$CH$WORK/expected/exact-arp-scan-nmap/features.csv" \
    && [ -s "$CH$WORK/out/exact-arp-scan-nmap/afterimage.state" ]; then
    pass "$name: settings from a YAML afterimage: section give the same features; the state file is saved"
else
    fail "$name: see $CH$WORK/out/$name.log"
fi
# Resuming loads the saved state (same settings) and keeps going.
if in_ch timeout 120 suricata -c /etc/suricata/suricata.yaml --include "$WORK/afterimage.yaml" \
        --set "plugins.0=$PLUGIN" --set afterimage.resume=yes -r "$WORK/captures/arp-scan-nmap.pcap" \
        -l "$WORK/out/exact-arp-scan-nmap" -k none --runmode single > "$CH$WORK/out/resume.log" 2>&1 \
    && grep -q "resumed from" "$CH$WORK/out/resume.log"; then
    pass "resume: a second run loads the saved state"
else
    fail "resume: see $CH$WORK/out/resume.log"
fi

# Settings errors stop Suricata at startup instead of leaving it running without the logger.
for setting in afterimage.format=parquet afterimage.decay-factors=0 afterimage.filename=/nonexistent/features.csv \
        afterimage.preallocate=4000000000; do
    name=invalid-${setting#afterimage.}
    name=${name%%=*}
    run_suricata "$name" arp-scan-nmap.pcap single "$setting"
    status=$?
    if [ "$status" != 0 ] && [ "$status" != 124 ] && grep -q '^E: afterimage' "$CH$WORK/out/$name/console.log"; then
        pass "$name: --set $setting stops Suricata (status $status): $(grep -m1 '^E: afterimage' "$CH$WORK/out/$name/console.log")"
    else
        fail "$name: --set $setting gave status $status and no afterimage error"
    fi
done

# --- 6. every capture, autofp runmode, one engine per worker thread -----------------------
# Suricata's packet count must equal the plugin's rows plus the packets it skipped.
for path in "$CAPTURES"/*; do
    capture=$(basename "$path")
    name=autofp-$capture
    log=$CH$WORK/out/$name/console.log
    run_suricata "$name" "$capture" autofp "afterimage.threads=per-thread"
    status=$?
    if [ "$status" != 0 ]; then
        fail "$name: suricata exited with status $status$([ "$status" = 124 ] && echo ' (timeout)')"
        continue
    fi
    counts=$(plugin_counts "$log")
    if [ -z "$counts" ]; then
        fail "$name: the plugin's closing line is missing"
        continue
    fi
    read -r read_ written skipped errors <<< "$counts"
    # Rows on disk, over the per-thread files (afterimage-N.csv, each with a header line).
    files=0 rows=0
    for table in "$CH$WORK/out/$name"/afterimage-*.csv; do
        case "$table" in *_meta.csv | *'*'*) continue ;; esac
        files=$((files + 1))
        rows=$((rows + $(wc -l < "$table") - 1))
    done
    suricata=$(suricata_read "$log")
    if [ -z "$suricata" ]; then
        reason=$(grep -m1 '^E: pcap' "$log" | sed 's/^E: pcap: //')
        if [ "$read_" = 0 ] && [ "$rows" = 0 ]; then
            pass "$name: Suricata cannot read it ($reason); exited cleanly with no rows"
        else
            fail "$name: Suricata read nothing but the plugin counted $read_ packets, $rows rows"
        fi
    elif [ "$suricata" = "$((written + skipped))" ] && [ "$read_" = "$suricata" ] && [ "$errors" = 0 ] \
        && [ "$rows" = "$written" ] && [ "$files" -ge 1 ]; then
        pass "$name: Suricata read $suricata = $written rows + $skipped skipped, in $files per-thread files"
    else
        fail "$name: Suricata read $suricata; plugin read $read_, wrote $written ($rows on disk in $files files), skipped $skipped, errors $errors"
    fi
done

elapsed=$(($(date +%s) - started))
if [ "$failures" = 0 ]; then
    echo "all checks passed in $elapsed s"
else
    echo "$failures check(s) failed ($elapsed s)"
    exit 1
fi
