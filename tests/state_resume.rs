//! Save, load and continue must give the same features, bit for bit, as never
//! stopping: through the library on real captures split at several points, and through
//! the command line's --state-out and --state-in on a capture cut in two files.

mod common;

use afterimage::capture::CaptureReader;
use afterimage::parse::parse_frame;
use afterimage::{state, Config, Engine, LimitPolicy, TrafficVector};
use common::*;

fn vectors_of(file_name: &str) -> Vec<TrafficVector> {
    let mut reader = CaptureReader::open(&capture(file_name)).unwrap();
    let mut vectors = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        let timestamp = record.timestamp.map_or(0.0, |timestamp| timestamp.seconds());
        if let Ok(vector) = parse_frame(record.link_type, record.data, timestamp) {
            vectors.push(vector);
        }
    }
    vectors
}

fn features(engine: &mut Engine, vectors: &[TrafficVector]) -> Vec<u64> {
    let mut row = vec![0.0; engine.feature_count()];
    let mut out = Vec::with_capacity(vectors.len() * row.len());
    for vector in vectors {
        engine.update(vector, &mut row).unwrap();
        out.extend(row.iter().map(|value| value.to_bits()));
    }
    out
}

#[test]
fn resumed_runs_equal_uninterrupted_runs() {
    let configs = [
        Config::default(),
        Config { record_limit: Some(300), limit_policy: LimitPolicy::Evict, ..Config::default() },
    ];
    for name in ["ics-modbus-lan-13k.pcap", "p2p-gnutella-mixed-epoch1970.pcap", "linux-sll-cooked-v1.pcap"] {
        let vectors = vectors_of(name);
        for config in &configs {
            let expected = features(&mut Engine::new(config.clone()).unwrap(), &vectors);
            let width = config.feature_count();
            // Split points around cleaning rounds (every 5000th update) and elsewhere.
            for split in [1, 97, 3000, 4999, 5000, 5001, vectors.len() - 1] {
                let split = split.min(vectors.len() - 1);
                let mut engine = Engine::new(config.clone()).unwrap();
                let mut got = features(&mut engine, &vectors[..split]);
                let mut bytes = Vec::new();
                state::save(&engine, &mut bytes).unwrap();
                let mut resumed = state::load_from_bytes(&bytes, Some(config)).unwrap();
                got.extend(features(&mut resumed, &vectors[split..]));
                assert_eq!(got.len(), expected.len());
                let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
                assert_eq!(first_difference.map(|index| index / width), None, "{name} split at {split}, {config:?}");
            }
        }
    }
}

/// Writes a little-endian microsecond pcap holding the given records of `source`.
fn write_pcap_part(source: &str, range: std::ops::Range<usize>, shift_seconds: u32, out: &std::path::Path) {
    let bytes = std::fs::read(capture(source)).unwrap();
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "the helper handles little-endian microsecond pcap only");
    let mut part = bytes[..24].to_vec();
    let mut offset = 24;
    let mut index = 0;
    while offset + 16 <= bytes.len() {
        let captured = u32::from_le_bytes(bytes[offset + 8..offset + 12].try_into().unwrap()) as usize;
        let end = offset + 16 + captured;
        if range.contains(&index) {
            let seconds = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) + shift_seconds;
            part.extend_from_slice(&seconds.to_le_bytes());
            part.extend_from_slice(&bytes[offset + 4..end]);
        }
        offset = end;
        index += 1;
    }
    std::fs::write(out, part).unwrap();
}

fn data_lines(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

#[test]
fn cli_state_out_then_in_continues_exactly() {
    let name = "arp-scan-nmap.pcap";
    let folder = tempfile::tempdir().unwrap();
    let first = folder.path().join("first.pcap");
    let second = folder.path().join("second.pcap");
    write_pcap_part(name, 0..200, 0, &first);
    write_pcap_part(name, 200..usize::MAX, 0, &second);
    let state_file = folder.path().join("state.bin");
    let state_arg = state_file.to_str().unwrap();

    let whole = extract(&capture(name), &[]);
    let part_one = extract(&first, &["--state-out", state_arg]);
    assert!(part_one.output.status.success(), "{}", String::from_utf8_lossy(&part_one.output.stderr));
    let part_two = extract(&second, &["--state-in", state_arg]);
    assert!(part_two.output.status.success(), "{}", String::from_utf8_lossy(&part_two.output.stderr));

    let whole_features = whole.features.unwrap();
    let mut joined = part_one.features.unwrap();
    for line in data_lines(part_two.features.as_deref().unwrap()) {
        joined.push_str(line);
        joined.push('\n');
    }
    compare_features(&whole_features, &joined).unwrap();
}

#[test]
fn cli_rebase_time_continues_from_saved_timestamp() {
    let name = "arp-scan-nmap.pcap";
    let folder = tempfile::tempdir().unwrap();
    let first = folder.path().join("first.pcap");
    let later = folder.path().join("later.pcap");
    write_pcap_part(name, 0..200, 0, &first);
    // The second part as if captured a day later.
    write_pcap_part(name, 200..usize::MAX, 86_400, &later);
    let state_file = folder.path().join("state.bin");
    let state_arg = state_file.to_str().unwrap();

    let part_one = extract(&first, &["--state-out", state_arg]);
    assert!(part_one.output.status.success());
    let last_saved: f64 = data_lines(part_one.meta.as_deref().unwrap()).last().unwrap().split(',').nth(7).unwrap().parse().unwrap();

    let rebased = extract(&later, &["--state-in", state_arg, "--rebase-time"]);
    assert!(rebased.output.status.success(), "{}", String::from_utf8_lossy(&rebased.output.stderr));
    let plain = extract(&later, &[]);
    let rebased_times: Vec<f64> =
        data_lines(rebased.meta.as_deref().unwrap()).iter().map(|line| line.split(',').nth(7).unwrap().parse().unwrap()).collect();
    let original_times: Vec<f64> =
        data_lines(plain.meta.as_deref().unwrap()).iter().map(|line| line.split(',').nth(7).unwrap().parse().unwrap()).collect();

    assert_eq!(rebased_times[0], last_saved, "the first packet continues at the saved time");
    let shift = original_times[0] - last_saved;
    assert!(shift > 86_000.0);
    for (rebased_time, original) in rebased_times.iter().zip(&original_times) {
        assert_eq!(*rebased_time, original - shift);
    }
}

#[test]
fn cli_state_with_other_decay_factors_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let state_file = folder.path().join("state.bin");
    let state_arg = state_file.to_str().unwrap();
    let saved = extract(&capture("raw-ip-dlt101.pcap"), &["--state-out", state_arg]);
    assert!(saved.output.status.success());

    let info = afterimage(&["state".as_ref(), "info".as_ref(), state_file.as_os_str()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("records:"), "{text}");
    assert!(text.contains("updates:           100"), "{text}");

    let mismatched = extract(&capture("raw-ip-dlt101.pcap"), &["--state-in", state_arg, "--decay", "1,0.1"]);
    let message = String::from_utf8_lossy(&mismatched.output.stderr);
    assert_eq!(mismatched.output.status.code(), Some(2));
    assert!(message.contains("--decay 1,0.1 differs from the state's setting 5,3,1,0.1,0.01"), "{message}");
    assert!(mismatched.features.is_none(), "no output is created");

    // Options left out are taken from the state, even when it was saved with others.
    let custom = folder.path().join("custom.bin");
    let custom_arg = custom.to_str().unwrap();
    let saved = extract(&capture("raw-ip-dlt101.pcap"), &["--state-out", custom_arg, "--decay", "2,0.5", "--limit", "500"]);
    assert!(saved.output.status.success());
    let continued = extract(&capture("raw-ip-dlt101.pcap"), &["--state-in", custom_arg]);
    assert!(continued.output.status.success(), "{}", String::from_utf8_lossy(&continued.output.stderr));
    assert!(continued.features.unwrap().starts_with("Src-MAC-IP_2_weight,Src-MAC-IP_0.5_weight,"));
}
