//! Inputs that fuzzing found, replayed against the invariants the fuzz targets check.
//! Each file under `fuzz/seeds/frame/` named `regression-*` is a 4-byte link-type
//! selector followed by a frame, as the `frame` target reads it.

use afterimage::parse::parse_frame;

const LINK_TYPES: [u32; 14] = [0, 1, 9, 12, 14, 23, 50, 51, 101, 108, 113, 228, 229, 276];

#[test]
fn frame_regressions_keep_size_invariant() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/frame");
    let mut checked = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("regression-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let selector = u32::from_le_bytes(data[..4].try_into().unwrap());
        let link_type = LINK_TYPES[selector as usize % LINK_TYPES.len()];
        let frame = &data[4..];
        if let Ok(vector) = parse_frame(link_type, frame, 1.0) {
            let captured = frame.len().min(65_535);
            assert!(vector.size as usize <= captured + 4, "{}: size {}", path.display(), vector.size);
        }
        checked += 1;
    }
    assert!(checked >= 1, "the regression inputs are present");
}

#[test]
fn igmp_regression_counts_router_alert() {
    // The first input fuzzing found: an IPv4 IGMP packet without options on a Linux
    // SLL2 link (selector 13). scapy adds a 4-byte router-alert option when it encodes the packet
    // again, so the reference counts 4 bytes more than were captured.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/frame/regression-igmp-router-alert-size");
    let data = std::fs::read(path).unwrap();
    assert_eq!(LINK_TYPES[data[0] as usize % LINK_TYPES.len()], 276);
    let vector = parse_frame(276, &data[4..], 1.0).unwrap();
    assert_eq!(vector.size as usize, data.len() - 4 + 4);
}
