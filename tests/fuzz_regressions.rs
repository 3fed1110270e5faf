//! Inputs that fuzzing found, replayed against the invariants the fuzz targets check.
//! Each file under `fuzz/seeds/frame/` named `regression-*` is a 4-byte link-type
//! selector followed by a frame, as the `frame` target reads it. Files under
//! `fuzz/seeds/state/` named `regression-*` are state inputs of the `state` target.

use afterimage::parse::parse_frame;
use afterimage::{Address, Protocol, TrafficVector};

const LINK_TYPES: [u32; 14] = [0, 1, 9, 12, 14, 23, 50, 51, 101, 108, 113, 228, 229, 276];

#[test]
fn frame_regressions_keep_size_invariant() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/frame");
    let mut checked = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("regression-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let selector = u32::from_le_bytes(data[..4].try_into().unwrap());
        let link_type = LINK_TYPES[selector as usize % LINK_TYPES.len()];
        let frame = &data[4..];
        if let Ok(vector) = parse_frame(link_type, frame, 1.0) {
            let captured = frame.len().min(65_535);
            assert!(vector.size as usize <= captured + 4, "{}: size {}", path.display(), vector.size);
        }
        checked += 1;
    }
    assert!(checked >= 1, "the regression inputs are present");
}

#[test]
fn igmp_regression_counts_router_alert() {
    // The first input fuzzing found: an IPv4 IGMP packet without options on a Linux
    // SLL2 link (selector 13). scapy adds a 4-byte router-alert option when it encodes the packet
    // again, so the reference counts 4 bytes more than were captured.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/frame/regression-igmp-router-alert-size");
    let data = std::fs::read(path).unwrap();
    assert_eq!(LINK_TYPES[data[0] as usize % LINK_TYPES.len()], 276);
    let vector = parse_frame(276, &data[4..], 1.0).unwrap();
    assert_eq!(vector.size as usize, data.len() - 4 + 4);
}

/// Repairs the length field and checksum of a state as the `state` fuzz target does
/// for inputs whose first byte is odd.
fn repaired_state(data: &[u8]) -> Vec<u8> {
    let fnv1a = |bytes: &[u8]| bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    let mut bytes = data.to_vec();
    if data.first().is_some_and(|first| first & 1 == 1) && bytes.len() >= 28 {
        bytes[..8].copy_from_slice(b"AFTIMG\r\n");
        let length = bytes.len() as u64;
        bytes[12..20].copy_from_slice(&length.to_le_bytes());
        let body = bytes.len() - 8;
        let checksum = fnv1a(&bytes[..body]);
        bytes[body..].copy_from_slice(&checksum.to_le_bytes());
    }
    bytes
}

#[test]
fn state_regressions_save_and_load_again() {
    // The first input was a state whose recency counter was six updates from 2^64: it
    // loaded, and after one update it saved records that no longer loaded.
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/state");
    let mut checked = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("regression-") {
            continue;
        }
        let bytes = repaired_state(&std::fs::read(&path).unwrap());
        let Ok(mut engine) = afterimage::state::load_from_bytes(&bytes, None) else { continue };
        let vector = TrafficVector {
            ip_type: 0,
            src_mac: Address::Mac([2, 0, 0, 0, 0, 1]),
            dst_mac: Address::Mac([2, 0, 0, 0, 0, 2]),
            src_ip: Address::Ipv4([10, 0, 0, 1]),
            src_protocol: Protocol::Port(1234),
            dst_ip: Address::Ipv4([10, 0, 0, 2]),
            dst_protocol: Protocol::Port(80),
            timestamp: engine.last_timestamp().unwrap_or(0.0) + 0.5,
            size: 100,
        };
        let mut out = vec![0.0; engine.feature_count()];
        let _ = engine.update(&vector, &mut out);
        let mut saved = Vec::new();
        afterimage::state::save(&engine, &mut saved).unwrap();
        assert_eq!(saved.len() as u64, afterimage::state::encoded_length(&engine), "{}", path.display());
        if let Err(error) = afterimage::state::load_from_bytes(&saved, None) {
            panic!("{}: the saved state does not load: {error}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 2, "the state regression inputs load");
}
