//! Update latency and peek cost with many live records.
//!
//! Fills an engine with about a million live records from distinct sources, then times
//! every update of a further stream of vectors one by one (cleaning rounds included)
//! and prints the median, 99.9th percentile and maximum, then does the same while
//! cleaning rounds remove every one of those records (about 1.2 million). It needs
//! about 0.9 GB of memory and runs for a few seconds. For comparison it times a loop of
//! fixed arithmetic of about the same median in the same run: its slowest iterations
//! show how long this machine itself stalls a thread. Then it times peeks of 16 vectors
//! against stores of about 1,000 and about 1,000,000 records.
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
/// Memory for five records per source is preallocated, and the record limit
/// (2,000,000, never reached) sizes the indexes up front.
fn filled(hosts: u64) -> (Engine, f64) {
    let config = Config { record_limit: Some(2_000_000), ..Config::default() };
    let mut engine = Engine::new(config).unwrap();
    // Maps the memory of every record the benchmark creates before timing starts.
    engine.preallocate(hosts * 5).unwrap();
    let mut out = vec![0.0; engine.feature_count()];
    let mut timestamp = 1_000.0;
    for host in 0..hosts {
        engine.update(&vector(host, timestamp), &mut out).unwrap();
        timestamp += 1e-6;
    }
    (engine, timestamp)
}

/// Times `count` calls of `step` one by one and prints the median, 99.9th percentile
/// and maximum, and the slowest calls with their time since the first call.
fn time_each(label: &str, count: u64, mut step: impl FnMut(u64)) -> Duration {
    let mut latencies = Vec::with_capacity(count as usize);
    let first = Instant::now();
    for index in 0..count {
        let started = Instant::now();
        step(index);
        latencies.push((started.elapsed(), started - first, index));
    }
    latencies.sort();
    let percentile = |fraction: f64| latencies[((latencies.len() - 1) as f64 * fraction).round() as usize].0;
    let median = percentile(0.5);
    println!(
        "{label}: median {median:?}, 99.9th percentile {:?}, maximum {:?}",
        percentile(0.999),
        latencies[latencies.len() - 1].0
    );
    for (latency, at, index) in latencies.iter().rev().take(4) {
        println!("    slow call {index} at {:.1} ms: {latency:?}", at.as_secs_f64() * 1e3);
    }
    median
}

/// Reads and writes one pseudo-random element of `memory` and returns the next position.
fn touch_memory(memory: &mut [u64], position: u64) -> u64 {
    let next = position.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let index = (next >> 33) as usize % memory.len();
    memory[index] = memory[index].wrapping_add(next);
    black_box(next)
}

/// Arithmetic that takes about the same time on every call.
fn fixed_work(rounds: u32) -> f64 {
    let mut value = 1.0f64;
    for round in 0..rounds {
        value = (value * 1.000_000_1 + f64::from(round)).sqrt();
    }
    value
}

fn main() {
    // Each new source creates four records (MAC-IP, jitter, channel, socket).
    let (mut engine, mut timestamp) = filled(250_000);
    let stats = engine.stats();
    println!("store: {} records, {} links, {} bytes", stats.records, stats.links, stats.bytes);

    // Half the updates revisit known sources, half bring new ones; the stream spans
    // 20 cleaning rounds.
    let mut out = vec![0.0; engine.feature_count()];
    let median = time_each("update latency with about 1,100,000 records", 100_000, |index| {
        let host = if index % 2 == 0 { index % 250_000 } else { 250_000 + index };
        engine.update(&vector(host, timestamp), &mut out).unwrap();
        timestamp += 1e-6;
    });

    // The machine's own stalls: fixed work calibrated to the same median.
    let started = Instant::now();
    black_box(fixed_work(black_box(100_000)));
    let per_round = started.elapsed() / 100_000;
    let rounds = (median.as_nanos() / per_round.as_nanos().max(1)).max(1) as u32;
    time_each("fixed arithmetic of the same median (this machine's stalls)", 100_000, |_| {
        black_box(fixed_work(black_box(rounds)));
    });

    // The same with memory: random reads and writes over 400 MB, as many per call
    // as give the same median. The engine's records are spread over as much memory.
    let mut memory = vec![1u64; 50 << 20];
    let mut position = 1u64;
    let started = Instant::now();
    for _ in 0..100_000 {
        position = touch_memory(&mut memory, position);
    }
    let per_touch = started.elapsed() / 100_000;
    let touches = (median.as_nanos() / per_touch.as_nanos().max(1)).max(1) as u32;
    time_each("random memory access of the same median (this machine's stalls)", 100_000, |_| {
        for _ in 0..touches {
            position = touch_memory(&mut memory, position);
        }
    });
    drop(memory);

    // A mass expiry: an hour later every record is outdated, and the following
    // cleaning rounds remove them all while updates from 10,000 new sources go on.
    timestamp += 3_600.0;
    let before = engine.stats().records;
    time_each("update latency while cleaning rounds remove 1,200,000 expired records", 170_000, |index| {
        engine.update(&vector(5_000_000 + index % 10_000, timestamp), &mut out).unwrap();
        timestamp += 1e-6;
    });
    let removed = before + 4 * 10_000 - engine.stats().records;
    println!("    {removed} of the {before} records there were at the start removed in these updates");

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
