//! Frame parsing and the whole extract pipeline (capture reading, parsing, the engine
//! and CSV or .npy formatting into memory) on a real 13,472-packet capture.

use afterimage::capture::CaptureReader;
use afterimage::output::{format_meta_row, push_python_float};
use afterimage::parse::parse_frame;
use afterimage::{Config, Engine};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/captures/ics-modbus-lan-13k.pcap");

/// The capture's frames with their link types and timestamps.
fn frames() -> Vec<(u32, Vec<u8>, f64)> {
    let bytes = std::fs::read(CAPTURE).unwrap();
    let mut reader = CaptureReader::new(&bytes[..], Some(bytes.len() as u64)).unwrap();
    let mut frames = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        frames.push((record.link_type, record.data.to_vec(), record.timestamp.unwrap().seconds()));
    }
    frames
}

fn pipeline(c: &mut Criterion) {
    let frames = frames();
    let bytes = std::fs::read(CAPTURE).unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.sample_size(20);

    group.bench_function("parse_modbus_13k", |b| {
        b.iter(|| {
            let mut parsed = 0;
            for (link_type, frame, timestamp) in &frames {
                parsed += usize::from(parse_frame(*link_type, frame, *timestamp).is_ok());
            }
            parsed
        })
    });

    for csv in [true, false] {
        let name = if csv { "extract_csv_modbus_13k" } else { "extract_npy_modbus_13k" };
        group.bench_function(name, |b| {
            let mut text = String::with_capacity(1 << 24);
            let mut binary: Vec<u8> = Vec::with_capacity(1 << 24);
            b.iter(|| {
                text.clear();
                binary.clear();
                let mut reader = CaptureReader::new(&bytes[..], Some(bytes.len() as u64)).unwrap();
                let mut engine = Engine::new(Config::default()).unwrap();
                let mut row = vec![0.0; engine.feature_count()];
                while let Some(record) = reader.next_record().unwrap() {
                    let timestamp = record.timestamp.unwrap().seconds();
                    let Ok(vector) = parse_frame(record.link_type, record.data, timestamp) else { continue };
                    engine.update(&vector, &mut row).unwrap();
                    format_meta_row(&mut text, &vector);
                    if csv {
                        for value in &row {
                            push_python_float(&mut binary, *value);
                            binary.push(b',');
                        }
                        binary.push(b'\n');
                    } else {
                        for value in &row {
                            binary.extend_from_slice(&value.to_le_bytes());
                        }
                    }
                }
                text.len() + binary.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
