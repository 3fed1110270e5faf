//! Frame parsing on arbitrary bytes under every supported link type. The first four
//! bytes choose the link type; the rest is the frame.
#![no_main]

use afterimage::parse::parse_frame;
use libfuzzer_sys::fuzz_target;

const LINK_TYPES: [u32; 14] = [0, 1, 9, 12, 14, 23, 50, 51, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let selector = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let link_type = LINK_TYPES[selector as usize % LINK_TYPES.len()];
    if let Ok(vector) = parse_frame(link_type, &data[4..], 1.0) {
        // The size is the captured length (at most 65535 bytes are read), plus 4 for
        // IGMP under an IPv4 header without options, as the reference counts it.
        let captured = (data.len() - 4).min(65_535);
        assert!(vector.size as usize <= captured + 4, "size {} for {captured} captured bytes", vector.size);
    }
});
