//! Update latency and peek cost with many live records.
//!
//! Fills an engine with about a million live records from distinct sources, then times
//! every update of a further stream of vectors one by one (cleaning rounds included)
//! and prints the median, 99.9th percentile and maximum, then does the same while a
//! cleaning round removes every one of those records. Then times peeks of 16
//! vectors against stores of about 1,000 and about 1,000,000 records.
//! Run with `cargo bench --bench latency`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use afterimage::{Address, Config, Engine, Protocol, TrafficVector};

/// A vector from source `host` (a pseudo-random IPv4 address) to one of 64 servers.
fn vector(host: u64, timestamp: f64) -> TrafficVector {
    let mixed = host.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let source = ((mixed >> 32) as u32).to_be_bytes();
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, source[0], source[1], source[2], source[3]]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 1]),
        src_ip: Address::Ipv4(source),
        src_protocol: Protocol::Port((mixed >> 16) as u16),
        dst_ip: Address::Ipv4([192, 0, 2, (host % 64) as u8]),
        dst_protocol: Protocol::Port(443),
        timestamp,
        size: 60 + (host % 1400) as u32,
    }
}

/// Fills an engine with `hosts` sources, 1 µs apart; returns it and the next timestamp.
/// The record limit (2,000,000, never reached) sizes the indexes up front.
fn filled(hosts: u64) -> (Engine, f64) {
    let config = Config { record_limit: Some(2_000_000), ..Config::default() };
    let mut engine = Engine::new(config).unwrap();
    let mut out = vec![0.0; engine.feature_count()];
    let mut timestamp = 1_000.0;
    for host in 0..hosts {
        engine.update(&vector(host, timestamp), &mut out).unwrap();
        timestamp += 1e-6;
    }
    (engine, timestamp)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn main() {
    // Each new source creates four records (MAC-IP, jitter, channel, socket).
    let (mut engine, mut timestamp) = filled(250_000);
    println!("store: {} records, {} links, {} bytes", engine.stats().records, engine.stats().links, engine.stats().bytes);

    // Half the updates revisit known sources, half bring new ones; the stream spans
    // 20 cleaning rounds.
    let mut out = vec![0.0; engine.feature_count()];
    let mut latencies = Vec::with_capacity(100_000);
    for index in 0..100_000u64 {
        let host = if index % 2 == 0 { index % 250_000 } else { 250_000 + index };
        let vector = vector(host, timestamp);
        timestamp += 1e-6;
        let started = Instant::now();
        engine.update(&vector, &mut out).unwrap();
        latencies.push(started.elapsed());
    }
    let mut indexed: Vec<(Duration, usize)> = latencies.iter().copied().zip(0..).collect();
    indexed.sort();
    for (latency, index) in indexed.iter().rev().take(5) {
        println!("slow update {index}: {latency:?}");
    }
    latencies.sort();
    println!(
        "update latency with {} records: median {:?}, 99.9th percentile {:?}, maximum {:?}",
        engine.stats().records,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.999),
        latencies[latencies.len() - 1]
    );

    // A mass expiry: an hour later every record is outdated, and the next cleaning
    // round removes a million records while updates go on.
    timestamp += 3_600.0;
    let mut latencies = Vec::with_capacity(20_000);
    for index in 0..20_000u64 {
        let vector = vector(5_000_000 + index, timestamp);
        timestamp += 1e-6;
        let started = Instant::now();
        engine.update(&vector, &mut out).unwrap();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "update latency while a million records expire: median {:?}, 99.9th percentile {:?}, maximum {:?}; {} records left",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.999),
        latencies[latencies.len() - 1],
        engine.stats().records
    );

    // Peek cost against a small and a large store.
    for hosts in [250, 250_000] {
        let (engine, timestamp) = filled(hosts);
        let batch: Vec<TrafficVector> = (0..16).map(|i| vector(i * 7, timestamp + i as f64 * 1e-6)).collect();
        let mut out = vec![0.0; engine.feature_count() * batch.len()];
        let rounds = 2_000;
        let started = Instant::now();
        for _ in 0..rounds {
            engine.peek(black_box(&batch), &mut out).unwrap();
        }
        let per_peek = started.elapsed() / rounds;
        println!("peek of {} vectors with {} records: {:?} per peek", batch.len(), engine.stats().records, per_peek);
    }
}
