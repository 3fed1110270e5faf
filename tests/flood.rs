//! A flood of new source addresses against the record limit: 1,000,000 vectors from
//! random IPv4 sources with a limit of 100,000 records.

use afterimage::engine::stats::c_pow;
use afterimage::{Address, Config, Engine, LimitPolicy, Protocol, TrafficVector, UpdateError};

const VECTORS: u64 = 1_000_000;
const LIMIT: u64 = 100_000;

/// A vector from a pseudo-random source (a 64-bit linear congruential sequence) to one
/// fixed server, one microsecond after the previous one.
fn flood_vector(index: u64) -> TrafficVector {
    let mixed = index.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let source = (mixed >> 32) as u32;
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, 1]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 2]),
        src_ip: Address::Ipv4(source.to_be_bytes()),
        src_protocol: Protocol::Port((mixed >> 16) as u16),
        dst_ip: Address::Ipv4([192, 0, 2, 1]),
        dst_protocol: Protocol::Port(443),
        timestamp: 1_000.0 + index as f64 * 1e-6,
        size: 60 + (index % 1400) as u32,
    }
}

/// A vector between two hosts that stay known throughout.
fn known_vector(timestamp: f64) -> TrafficVector {
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, 7]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 2]),
        src_ip: Address::Ipv4([192, 0, 2, 7]),
        src_protocol: Protocol::Port(5000),
        dst_ip: Address::Ipv4([192, 0, 2, 1]),
        dst_protocol: Protocol::Port(443),
        timestamp,
        size: 100,
    }
}

#[test]
fn evict_policy_bounds_memory_under_flood() {
    let config = Config { record_limit: Some(LIMIT), limit_policy: LimitPolicy::Evict, ..Config::default() };
    let mut engine = Engine::new(config).unwrap();
    let mut row = vec![0.0; engine.feature_count()];
    let mut peak_bytes = 0;
    let mut peak_records = 0;
    for index in 0..VECTORS {
        engine.update(&flood_vector(index), &mut row).unwrap();
        if index % 10_000 == 0 {
            let stats = engine.stats();
            peak_bytes = peak_bytes.max(stats.bytes);
            peak_records = peak_records.max(stats.records);
        }
    }
    let stats = engine.stats();
    assert!(stats.records <= LIMIT);
    assert!(peak_records <= LIMIT);
    assert_eq!(stats.updates, VECTORS);
    // Links are bounded by the records they join: each vector adds at most two.
    assert!(stats.links <= 2 * LIMIT, "{} links", stats.links);
    // 100,000 records at 256 bytes and their links at 128 bytes, with room for the
    // slack of growing tables.
    let bound = 2 * LIMIT * (256 + 2 * 128);
    assert!(peak_bytes <= bound, "peak {peak_bytes} bytes exceeds {bound}");
    println!("evict: peak {peak_bytes} bytes for at most {peak_records} records; final {} records, {} links", stats.records, stats.links);
}

#[test]
fn reject_policy_keeps_state_consistent_under_flood() {
    let config = Config { record_limit: Some(LIMIT), ..Config::default() };
    let mut engine = Engine::new(config).unwrap();
    let mut row = vec![0.0; engine.feature_count()];
    engine.update(&known_vector(999.0), &mut row).unwrap();

    let mut accepted = 1u64;
    let mut rejected = 0u64;
    for index in 0..VECTORS {
        match engine.update(&flood_vector(index), &mut row) {
            Ok(()) => accepted += 1,
            Err(UpdateError::RecordLimit { limit, .. }) => {
                assert_eq!(limit, LIMIT);
                rejected += 1;
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let stats = engine.stats();
    assert!(stats.records <= LIMIT);
    assert!(rejected > 0, "the flood reached the limit");
    assert_eq!(stats.updates, accepted, "only accepted vectors count as updates");

    // Known hosts keep working once the store is full (the flood ended at 1001 s).
    let before = engine.stats();
    engine.update(&known_vector(1_001.5), &mut row).unwrap();
    assert!(engine.stats().records <= before.records, "no new record for a known flow");
    assert_eq!(row[0], 1.0 + c_pow(2.0, -5.0 * 2.5), "the known MAC-IP record continues");
    println!("reject: {accepted} accepted, {rejected} rejected, {} records", stats.records);
}
