//! State files through the Rust API: save, load and continue equals never stopping,
//! including across cleaning rounds and evictions; damaged states are rejected.

use afterimage::state::{self, StateError};
use afterimage::{Address, Config, Engine, LimitPolicy, Protocol, TrafficVector};

/// Vectors among a few dozen hosts with gaps long enough for cleaning to remove some.
fn vector(i: u64) -> TrafficVector {
    let mix = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    let host = |n: u64| Address::Ipv4([192, 168, (n % 3) as u8, (n % 37) as u8]);
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, (mix % 37) as u8]),
        dst_mac: Address::Mac([2, 0, 0, 0, 1, (mix / 37 % 37) as u8]),
        src_ip: host(mix),
        src_protocol: if mix % 11 == 0 { Protocol::Arp } else { Protocol::Port((mix % 5) as u16 + 1024) },
        dst_ip: host(mix / 37),
        dst_protocol: if mix % 11 == 0 { Protocol::Arp } else { Protocol::Port(443) },
        timestamp: i as f64 * 0.37 + if i % 97 == 0 { 30.0 } else { 0.0 } + (i / 97) as f64 * 30.0,
        size: 60 + (mix % 1400) as u32,
    }
}

fn run_with_restarts(config: &Config, restarts: &[u64], total: u64) {
    let mut never_stopped = Engine::new(config.clone()).unwrap();
    let mut restarted = Engine::new(config.clone()).unwrap();
    let mut expected = vec![0.0; never_stopped.feature_count()];
    let mut got = expected.clone();
    for i in 0..total {
        if restarts.contains(&i) {
            let mut bytes = Vec::new();
            state::save(&restarted, &mut bytes).unwrap();
            restarted = state::load(bytes.as_slice(), Some(config)).unwrap();
            assert_eq!(restarted.stats().records, never_stopped.stats().records, "records after load at {i}");
            assert_eq!(restarted.stats().links, never_stopped.stats().links, "links after load at {i}");
        }
        let first = never_stopped.update(&vector(i), &mut expected);
        let second = restarted.update(&vector(i), &mut got);
        assert_eq!(first, second, "update result at {i}");
        let expected_bits: Vec<u64> = expected.iter().map(|value| value.to_bits()).collect();
        let got_bits: Vec<u64> = got.iter().map(|value| value.to_bits()).collect();
        assert_eq!(got_bits, expected_bits, "features at vector {i}");
    }
}

#[test]
fn save_load_continue_equals_never_stopping() {
    let config = Config { cleaning_interval: 50, ..Config::default() };
    run_with_restarts(&config, &[0, 1, 49, 50, 51, 333, 700], 1500);
}

#[test]
fn save_load_continue_with_eviction() {
    let config = Config { record_limit: Some(40), limit_policy: LimitPolicy::Evict, cleaning_interval: 64, ..Config::default() };
    run_with_restarts(&config, &[10, 64, 65, 400, 901], 1500);
}

#[test]
fn save_load_continue_with_rejection() {
    let config = Config { record_limit: Some(60), ..Config::default() };
    run_with_restarts(&config, &[5, 200, 777], 1200);
}

#[test]
fn file_save_is_atomic_and_loads() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("state.bin");
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut row = vec![0.0; engine.feature_count()];
    for i in 0..100 {
        engine.update(&vector(i), &mut row).unwrap();
    }
    std::fs::write(&path, b"old contents").unwrap();
    state::save_to_path(&engine, &path).unwrap();
    let entries: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file is left behind");
    let loaded = state::load_from_path(&path, None).unwrap();
    assert_eq!(loaded.stats().records, engine.stats().records);
    assert_eq!(loaded.updates(), 100);
}

#[test]
fn damaged_states_are_rejected() {
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut row = vec![0.0; engine.feature_count()];
    for i in 0..20 {
        engine.update(&vector(i), &mut row).unwrap();
    }
    let mut bytes = Vec::new();
    state::save(&engine, &mut bytes).unwrap();

    for length in [0, 7, 8, 12, 19, bytes.len() / 2, bytes.len() - 1] {
        let result = state::load_from_bytes(&bytes[..length], None);
        assert!(result.is_err(), "a state cut to {length} bytes must be rejected");
    }
    for position in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x40;
        assert!(state::load_from_bytes(&damaged, None).is_err(), "a flipped byte at {position} must be rejected");
    }

    let mut newer = bytes.clone();
    newer[8] = 2;
    assert!(matches!(state::load_from_bytes(&newer, None), Err(StateError::UnsupportedVersion { found: 2 })));

    let other = Config { decay_factors: vec![1.0], ..Config::default() };
    assert!(matches!(state::load_from_bytes(&bytes, Some(&other)), Err(StateError::ConfigMismatch(_))));
}

#[test]
fn huge_counts_fail_before_allocating() {
    // A record count of 2^60 with a valid checksum must be rejected by the size check.
    let engine = Engine::new(Config { decay_factors: vec![1.0], ..Config::default() }).unwrap();
    let mut bytes = Vec::new();
    state::save(&engine, &mut bytes).unwrap();
    let body_length = bytes.len() - 8;
    // The record count sits just before the link count (8 bytes) at the end of the body.
    let count_offset = body_length - 16;
    bytes[count_offset..count_offset + 8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in &bytes[..body_length] {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    bytes[body_length..].copy_from_slice(&hash.to_le_bytes());
    match state::load_from_bytes(&bytes, None) {
        Err(StateError::Corrupt { problem, .. }) => assert!(problem.contains("do not fit"), "{problem}"),
        other => panic!("expected a corrupt-state error, got {:?}", other.map(|_| ())),
    }
}
