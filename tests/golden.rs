//! Differential tests against outputs of the Python reference for every fixture
//! capture: the feature values must be the same float64 bits and the meta rows the
//! same text, apart from the deviations the README documents.

mod common;

use common::*;

/// Captures whose output differs from the reference on purpose; each is tested on its
/// own below.
const DEVIATING: [&str; 6] = [
    // Simple Packet Blocks: the reference stamps them with the wall-clock time and
    // numbers interfaces across sections.
    "pcapng-big-endian-multi-section.pcapng",
    // Damaged files: the reference delivers bogus records, afterimage stops with an
    // error after the good ones.
    "fuzz-pcap-caplen-0xffffffff.pcap",
    "fuzz-pcapng-epb-unbounded-length.pcapng",
    // Rejected headers.
    "fuzz-pcapng-shb-zeroed.pcapng",
    "pcap-linktype-reserved-bits-empty.pcap",
    // FCS bits in the link-type field: read as raw IP, which the reference skips.
    "fuzz-pcap-header-then-bad-record.pcap",
];

#[test]
fn extract_matches_reference_on_every_capture() {
    let mut failures = Vec::new();
    for name in capture_names() {
        if DEVIATING.contains(&name.as_str()) {
            continue;
        }
        let stem = stem(&name);
        let extracted = extract(&capture(&name), &[]);
        let expected_features = expected(&stem, "features.csv").expect("expected features exist");
        let expected_meta = expected(&stem, "meta.csv").expect("expected meta exists");
        let Some(features) = extracted.features else {
            failures.push(format!("{name}: no feature table; stderr: {}", String::from_utf8_lossy(&extracted.output.stderr)));
            continue;
        };
        if let Err(problem) = compare_features(&expected_features, &features) {
            failures.push(format!("{name}: features: {problem}"));
        }
        if let Err(problem) = compare_meta(&expected_meta, extracted.meta.as_deref().unwrap_or_default()) {
            failures.push(format!("{name}: meta: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{} captures differ from the reference:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn replay_matches_reference_features() {
    let mut failures = Vec::new();
    for name in capture_names() {
        let stem = stem(&name);
        let (Some(meta), Some(expected_features)) = (expected(&stem, "meta.csv"), expected(&stem, "features.csv")) else {
            continue;
        };
        let folder = tempfile::tempdir().unwrap();
        let meta_path = folder.path().join("input_meta.csv");
        let features_path = folder.path().join("features.csv");
        std::fs::write(&meta_path, meta).unwrap();
        let output = afterimage(&[
            "replay".as_ref(),
            meta_path.as_os_str(),
            "-o".as_ref(),
            features_path.as_os_str(),
            "--quiet".as_ref(),
        ]);
        assert!(output.status.success(), "{name}: replay failed: {}", String::from_utf8_lossy(&output.stderr));
        let features = std::fs::read_to_string(&features_path).unwrap();
        if let Err(problem) = compare_features(&expected_features, &features) {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "replayed features differ:\n{}", failures.join("\n"));
}

#[test]
fn simple_packet_blocks_take_previous_timestamp() {
    let name = "pcapng-big-endian-multi-section.pcapng";
    let extracted = extract(&capture(name), &[]);
    assert!(extracted.output.status.success());
    let expected_meta = expected(&stem(name), "meta.csv").unwrap();
    let meta = extracted.meta.unwrap();
    let expected_rows: Vec<&str> = expected_meta.lines().collect();
    let rows: Vec<&str> = meta.lines().collect();
    assert_eq!(rows.len(), expected_rows.len());

    // Lines 5 and 7 come from Simple Packet Blocks: the reference stamped them with
    // the time it read them and cut them to the first section's snap length (96).
    for line in [1, 2, 3, 4, 6, 8, 9] {
        assert_eq!(rows[line - 1], expected_rows[line - 1], "meta line {line}");
    }
    for line in [5, 7] {
        let fields: Vec<&str> = rows[line - 1].split(',').collect();
        let previous: Vec<&str> = rows[line - 2].split(',').collect();
        assert_eq!(fields[7], previous[7], "line {line} takes its predecessor's timestamp");
        assert_eq!(fields[8], "128", "line {line} keeps its section's snap length");
    }

    // Features before the first Simple Packet Block are the reference's.
    let expected_features: String = expected(&stem(name), "features.csv").unwrap().lines().take(4).map(|line| format!("{line}\n")).collect();
    let features: String = extracted.features.unwrap().lines().take(4).map(|line| format!("{line}\n")).collect();
    compare_features(&expected_features, &features).unwrap();
}

#[test]
fn link_type_fcs_bits_are_ignored() {
    // The link-type field 0x20000065 is LINKTYPE_RAW (101) with FCS bits set, and the
    // file is format version 2.2, whose captured and original lengths are swapped.
    let extracted = extract(&capture("fuzz-pcap-header-then-bad-record.pcap"), &[]);
    assert!(extracted.output.status.success(), "{}", String::from_utf8_lossy(&extracted.output.stderr));
    let meta = extracted.meta.unwrap();
    let rows: Vec<&str> = meta.lines().skip(1).collect();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].ends_with(",21"), "the 21-byte record keeps its captured length: {}", rows[0]);
}
