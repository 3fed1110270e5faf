//! Statistics engine throughput on real traffic: the traffic vectors of a 13,450-vector
//! industrial capture, as the reference extracted them.

use std::io::Read;

use afterimage::output::parse_meta_row;
use afterimage::{Config, Engine, TrafficVector};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn load_vectors() -> Vec<TrafficVector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/expected/ics-modbus-lan-13k/meta.csv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text.lines().skip(1).map(|line| parse_meta_row(line).unwrap()).collect()
}

fn engine_update(c: &mut Criterion) {
    let vectors = load_vectors();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(vectors.len() as u64));
    group.sample_size(20);
    group.bench_function("update_modbus_13k", |b| {
        b.iter_batched(
            || Engine::new(Config::default()).unwrap(),
            |mut engine| {
                let mut out = vec![0.0; engine.feature_count()];
                for vector in &vectors {
                    engine.update(vector, &mut out).unwrap();
                }
                out[0]
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, engine_update);
criterion_main!(benches);
