//! The command-line tool on damaged and unreadable captures, and its options.

mod common;

use common::*;

fn stderr(extracted: &Extracted) -> String {
    String::from_utf8_lossy(&extracted.output.stderr).into_owned()
}

fn data_rows(table: &Option<String>) -> usize {
    table.as_deref().map_or(0, |text| text.lines().count().saturating_sub(1))
}

#[test]
fn damaged_capture_keeps_rows_before_damage() {
    // (capture, rows written, record number and byte offset of the damage)
    let cases = [
        ("fuzz-pcap-caplen-0xffffffff.pcap", 0, "record 2, byte offset"),
        ("fuzz-ipv6-hbh-chain-truncated-file.pcap", 1, "record 2, byte offset 1182"),
        ("fuzz-pcapng-epb-unbounded-length.pcapng", 0, "record 1, byte offset"),
    ];
    for (name, rows, location) in cases {
        let extracted = extract(&capture(name), &[]);
        let message = stderr(&extracted);
        assert_eq!(extracted.output.status.code(), Some(1), "{name}: exit status; stderr: {message}");
        assert!(message.contains(name), "{name}: message names the file: {message}");
        assert!(message.contains(location), "{name}: message names {location}: {message}");
        assert_eq!(message.lines().count(), 1, "{name}: one error line: {message}");
        assert_eq!(data_rows(&extracted.features), rows, "{name}: feature rows");
        assert_eq!(data_rows(&extracted.meta), rows, "{name}: meta rows");
    }
}

#[test]
fn unreadable_capture_leaves_no_output() {
    let missing = capture("no-such-capture.pcap");
    for (path, expected_text) in [
        (capture("fuzz-pcapng-shb-zeroed.pcapng"), "not a pcap or pcapng file"),
        (capture("pcap-linktype-reserved-bits-empty.pcap"), "reserved bits"),
        (missing, "No such file"),
    ] {
        let extracted = extract(&path, &[]);
        let message = stderr(&extracted);
        assert_eq!(extracted.output.status.code(), Some(2), "{}: {message}", path.display());
        assert!(message.contains(expected_text), "{}: {message}", path.display());
        assert!(extracted.features.is_none(), "{}: no feature table", path.display());
        assert!(extracted.meta.is_none(), "{}: no meta table", path.display());
    }
}

#[test]
fn every_capture_runs_without_panic() {
    for name in capture_names() {
        let extracted = extract(&capture(&name), &[]);
        let message = stderr(&extracted);
        let code = extracted.output.status.code();
        assert!(matches!(code, Some(0..=2)), "{name}: exit status {code:?}: {message}");
        assert!(!message.contains("panicked"), "{name}: {message}");
    }
}

#[test]
fn max_packets_reads_exactly_n() {
    let name = "arp-scan-nmap.pcap";
    let extracted = extract(&capture(name), &["--max-packets", "10"]);
    assert!(extracted.output.status.success());
    assert_eq!(data_rows(&extracted.features), 10);
    let reference: String = expected(&stem(name), "features.csv").unwrap().lines().take(11).map(|l| format!("{l}\n")).collect();
    compare_features(&reference, extracted.features.as_deref().unwrap()).unwrap();
}

#[test]
fn summary_line_counts_skipped_by_reason() {
    let folder = tempfile::tempdir().unwrap();
    let features = folder.path().join("out.csv");
    let output = afterimage(&[
        "extract".as_ref(),
        capture("ics-modbus-lan-13k.pcap").as_os_str(),
        "-o".as_ref(),
        features.as_os_str(),
    ]);
    assert!(output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    let summary = message.lines().last().unwrap_or_default();
    assert!(summary.starts_with("read 13472 packets, skipped 22 (no_ip_or_arp 22), wrote 13450 rows"), "{summary}");
    assert!(summary.contains("packets/s"), "{summary}");
}

#[test]
fn fixed7_and_npy_formats_hold_same_values() {
    let name = "raw-ip-dlt101.pcap";
    let csv = extract(&capture(name), &[]);
    let fixed = extract(&capture(name), &["--format", "csv-fixed7"]);
    let reference: Vec<Vec<f64>> = csv
        .features
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let fixed_rows: Vec<Vec<String>> =
        fixed.features.unwrap().lines().skip(1).map(|line| line.split(',').map(str::to_string).collect()).collect();
    assert_eq!(fixed_rows.len(), reference.len());
    for (row, fixed_row) in reference.iter().zip(&fixed_rows) {
        for (value, text) in row.iter().zip(fixed_row) {
            assert_eq!(*text, format!("{value:.7}"));
        }
    }

    let folder = tempfile::tempdir().unwrap();
    let npy = folder.path().join("features.npy");
    let output = extract_npy(name, &npy);
    assert!(output.status.success());
    let (header, values) = read_npy(&npy);
    assert!(header.contains(&format!("'shape': ({}, 100)", reference.len())), "{header}");
    let flat: Vec<f64> = reference.into_iter().flatten().collect();
    assert_eq!(values.len(), flat.len());
    assert!(values.iter().zip(&flat).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn invalid_decay_factor_is_reported() {
    let extracted = extract(&capture("arp-scan-nmap.pcap"), &["--decay", "5,-1"]);
    assert_eq!(extracted.output.status.code(), Some(2));
    assert!(stderr(&extracted).contains("decay factor '-1' is invalid"), "{}", stderr(&extracted));
    assert!(extracted.features.is_none());
}

#[test]
fn output_over_input_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("capture.pcap");
    std::fs::copy(capture("arp-scan-nmap.pcap"), &copy).unwrap();
    let original = std::fs::read(&copy).unwrap();
    for output in ["capture.pcap", "capture"] {
        // "-o capture" puts the meta table at capture_meta.csv, but "-o capture.pcap"
        // would overwrite the capture itself.
        let target = folder.path().join(output);
        let result = afterimage(&[
            "extract".as_ref(),
            copy.as_os_str(),
            "-o".as_ref(),
            target.as_os_str(),
            "--quiet".as_ref(),
        ]);
        if output == "capture.pcap" {
            assert_eq!(result.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&result.stderr).contains("is the input file itself"));
        } else {
            assert!(result.status.success());
        }
        assert_eq!(std::fs::read(&copy).unwrap(), original, "the capture is unchanged");
    }
}

#[test]
fn output_over_linked_input_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("capture.pcap");
    std::fs::copy(capture("arp-scan-nmap.pcap"), &copy).unwrap();
    let original = std::fs::read(&copy).unwrap();
    let hard = folder.path().join("hard.pcap");
    std::fs::hard_link(&copy, &hard).unwrap();
    let state = folder.path().join("state.bin");
    std::fs::hard_link(&copy, &state).unwrap();

    // (extra arguments, option the message names)
    let cases: [(&[&std::ffi::OsStr], &str); 2] =
        [(&["-o".as_ref(), hard.as_os_str()], "with -o"), (&["--state-out".as_ref(), state.as_os_str()], "with --state-out")];
    for (extra, option) in cases {
        let mut arguments = vec!["extract".as_ref(), copy.as_os_str(), "--quiet".as_ref()];
        arguments.extend_from_slice(extra);
        let result = afterimage(&arguments);
        let message = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{message}");
        assert!(message.contains("is the input file itself"), "{message}");
        assert!(message.contains(option), "{message}");
        assert_eq!(std::fs::read(&copy).unwrap(), original, "the capture is unchanged");
    }
}

#[test]
fn engine_option_checks() {
    let cases: [(&[&str], &str); 5] = [
        (&["--decay", "5,,3"], "has an empty entry"),
        (&["--decay", "5,5"], "is given twice"),
        (&["--decay", "1e400"], "decay factor '1e400' is invalid"),
        (&["--limit", "5"], "record limit 5 is too small"),
        (&["--limit-policy", "evict"], "--limit"),
    ];
    for (options, expected) in cases {
        let extracted = extract(&capture("arp-scan-nmap.pcap"), options);
        let message = stderr(&extracted);
        assert_eq!(extracted.output.status.code(), Some(2), "{options:?}: {message}");
        assert!(message.contains(expected), "{options:?}: {message}");
        assert!(extracted.features.is_none(), "{options:?}: no output");
    }
}

#[test]
fn missing_state_folder_fails_before_processing() {
    let extracted = extract(&capture("arp-scan-nmap.pcap"), &["--state-out", "/nonexistent-folder/state.bin"]);
    let message = stderr(&extracted);
    assert_eq!(extracted.output.status.code(), Some(2), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    assert!(extracted.features.is_none(), "no output is created");
}

/// Runs `extract --format npy --quiet` on the fixture capture `name`, writing `npy`.
fn extract_npy(name: &str, npy: &std::path::Path) -> std::process::Output {
    afterimage(&[
        "extract".as_ref(),
        capture(name).as_os_str(),
        "-o".as_ref(),
        npy.as_os_str(),
        "--format".as_ref(),
        "npy".as_ref(),
        "--quiet".as_ref(),
    ])
}

/// Reads a `.npy` table written by `extract` and returns its header text and values.
fn read_npy(path: &std::path::Path) -> (String, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header = String::from_utf8_lossy(&bytes[10..128]).into_owned();
    let values = bytes[128..].chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    (header, values)
}

#[test]
fn npy_over_many_batches_equals_csv() {
    // 13,450 rows: more than a dozen batches through the writing thread.
    let name = "ics-modbus-lan-13k.pcap";
    let csv = extract(&capture(name), &[]);
    let folder = tempfile::tempdir().unwrap();
    let npy = folder.path().join("features.npy");
    let output = extract_npy(name, &npy);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (header, values) = read_npy(&npy);
    assert!(header.contains("'shape': (13450, 100)"), "{header}");
    let expected: Vec<f64> =
        csv.features.unwrap().lines().skip(1).flat_map(|line| line.split(',').map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>()).collect();
    assert_eq!(values.len(), expected.len());
    for (index, (value, wanted)) in values.iter().zip(&expected).enumerate() {
        assert_eq!(value.to_bits(), wanted.to_bits(), "value {index} (row {})", index / 100);
    }
    let meta = std::fs::read_to_string(folder.path().join("features_meta.csv")).unwrap();
    assert_eq!(Some(meta), csv.meta, "the meta table does not depend on the feature format");
}

#[test]
fn full_disk_is_reported_for_every_format() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: this system has no /dev/full");
        return;
    }
    for format in ["csv", "npy"] {
        let folder = tempfile::tempdir().unwrap();
        let features = folder.path().join(format!("features.{format}"));
        std::os::unix::fs::symlink("/dev/full", &features).unwrap();
        let output = afterimage(&[
            "extract".as_ref(),
            capture("ics-modbus-lan-13k.pcap").as_os_str(),
            "-o".as_ref(),
            features.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{format}: {message}");
        assert!(message.contains("cannot write the output"), "{format}: {message}");
        assert!(message.contains("No space left"), "{format}: {message}");
        assert!(!message.contains("panicked"), "{format}: {message}");
    }
}
