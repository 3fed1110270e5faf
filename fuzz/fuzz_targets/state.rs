//! State loading on arbitrary bytes. A state that loads must keep working: it takes an
//! update and saves again to the length it announces. Inputs whose first byte is odd
//! get their length field and checksum repaired first, so that mutations reach the
//! record and link parsing behind the checksum.
#![no_main]

use afterimage::{state, Address, Protocol, TrafficVector};
use libfuzzer_sys::fuzz_target;

/// FNV-1a 64, the state format's checksum.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if data.first().is_some_and(|first| first & 1 == 1) && bytes.len() >= 28 {
        // Magic (8), version (4), then the file length (8).
        bytes[..8].copy_from_slice(b"AFTIMG\r\n");
        let length = bytes.len() as u64;
        bytes[12..20].copy_from_slice(&length.to_le_bytes());
        let body = bytes.len() - 8;
        let checksum = fnv1a(&bytes[..body]);
        bytes[body..].copy_from_slice(&checksum.to_le_bytes());
    }
    let Ok(mut engine) = state::load_from_bytes(&bytes, None) else { return };
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
    state::save(&engine, &mut saved).unwrap();
    assert_eq!(saved.len() as u64, state::encoded_length(&engine));
    state::load_from_bytes(&saved, None).unwrap();
});
