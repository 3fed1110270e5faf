//! Capture reading, frame parsing and the engine on arbitrary file contents: every
//! record is parsed and fed to the engine, so damage anywhere in the file is reached.
#![no_main]

use afterimage::capture::CaptureReader;
use afterimage::parse::parse_frame;
use afterimage::{Config, Engine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data, Some(data.len() as u64)) else { return };
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut out = vec![0.0; engine.feature_count()];
    while let Ok(Some(record)) = reader.next_record() {
        assert!(record.data.len() <= data.len());
        let timestamp = record.timestamp.map_or(0.0, |timestamp| timestamp.seconds());
        if let Ok(vector) = parse_frame(record.link_type, record.data, timestamp) {
            let _ = engine.update(&vector, &mut out);
        }
    }
});
