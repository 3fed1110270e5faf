//! Memory per record and link, as the database statistics report it (slot arrays,
//! sums, key and link indexes, expiry index and heap keys included).

use afterimage::{Address, Config, Engine, Protocol, TrafficVector};

/// A vector from source `host` to one of 64 servers: four new records (MAC-IP, jitter,
/// channel and socket source) and two new links per new source.
fn vector(host: u64) -> TrafficVector {
    let source = (host as u32).wrapping_mul(2_654_435_761).to_be_bytes();
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, source[0], source[1], source[2], source[3]]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 1]),
        src_ip: Address::Ipv4(source),
        src_protocol: Protocol::Port(40_000 + (host % 20_000) as u16),
        dst_ip: Address::Ipv4([192, 0, 2, (host % 64) as u8]),
        dst_protocol: Protocol::Port(443),
        timestamp: 1_000.0 + host as f64 * 1e-6,
        size: 100,
    }
}

#[test]
fn bytes_per_record_and_link_within_budget() {
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut row = vec![0.0; engine.feature_count()];
    for count in [1_000u64, 30_000, 150_000] {
        for host in engine.stats().updates..count {
            engine.update(&vector(host), &mut row).unwrap();
        }
        let stats = engine.stats();
        let budget = 256 * stats.records + 128 * stats.links;
        println!(
            "{} records, {} links: {} bytes, {:.1} bytes per record with links at 128",
            stats.records,
            stats.links,
            stats.bytes,
            (stats.bytes - 128 * stats.links) as f64 / stats.records as f64
        );
        // Small stores pay for fixed chunk sizes; the budget applies from 100k records.
        if stats.records >= 100_000 {
            assert!(stats.bytes <= budget, "{} bytes exceed the budget of {budget}", stats.bytes);
        }
    }
}
