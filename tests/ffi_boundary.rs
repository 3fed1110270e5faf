//! The C ABI called directly from Rust: statuses and last-error messages for NULL
//! pointers, bad sizes and bad values, and results against the engine.

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use ::afterimage::ffi::handle::{
    afterimage, afterimage_config, afterimage_config_default, afterimage_database_stats, afterimage_feature_count,
    afterimage_feature_name, afterimage_free, afterimage_new, afterimage_peek_vectors, afterimage_preallocate,
    afterimage_stats, afterimage_update_packet, afterimage_update_vector,
};
use ::afterimage::ffi::state::{
    afterimage_load_state, afterimage_load_state_from_buffer, afterimage_save_state, afterimage_save_state_to_buffer,
    afterimage_state_size,
};
use ::afterimage::ffi::status::afterimage_status::{self, *};
use ::afterimage::ffi::vector::{
    afterimage_address, afterimage_address_kind, afterimage_parse_packet, afterimage_protocol, afterimage_protocol_kind,
    afterimage_vector,
};
use ::afterimage::ffi::{afterimage_last_error, afterimage_version, afterimage_version_number};
use ::afterimage::{Address, Config, Engine, Protocol, TrafficVector};
use proptest::prelude::*;

fn last_error() -> String {
    let mut buffer = [0 as c_char; 1024];
    let mut length = 0;
    // SAFETY: the buffer and length are valid locals.
    let status = unsafe { afterimage_last_error(buffer.as_mut_ptr(), buffer.len(), &mut length) };
    assert_eq!(status, AFTERIMAGE_OK);
    // SAFETY: afterimage_last_error wrote a NUL-terminated string.
    unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_string_lossy().into_owned()
}

fn assert_fails(status: afterimage_status, expected: afterimage_status, words: &[&str]) {
    assert_eq!(status, expected, "status; last error: {}", last_error());
    let message = last_error();
    for word in words {
        assert!(message.contains(word), "message {message:?} should name {word:?}");
    }
}

fn default_config() -> afterimage_config {
    // SAFETY: all-zero is a valid afterimage_config bit pattern, then filled.
    let mut config: afterimage_config = unsafe { std::mem::zeroed() };
    // SAFETY: config is a valid local of the size passed.
    let status = unsafe { afterimage_config_default(&mut config, std::mem::size_of::<afterimage_config>()) };
    assert_eq!(status, AFTERIMAGE_OK);
    config
}

struct Handle(*mut afterimage);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: created by afterimage_new and freed once.
        unsafe { afterimage_free(self.0) };
    }
}

fn new_handle(config: &afterimage_config) -> Handle {
    let mut handle = null_mut();
    // SAFETY: valid config and out pointer.
    let status = unsafe { afterimage_new(config, &mut handle) };
    assert_eq!(status, AFTERIMAGE_OK, "{}", last_error());
    Handle(handle)
}

fn c_address(kind: afterimage_address_kind, bytes: &[u8]) -> afterimage_address {
    let mut address = afterimage_address { kind: kind as u32, length: bytes.len() as u32, bytes: [0; 16], raw: null() };
    address.bytes[..bytes.len()].copy_from_slice(bytes);
    address
}

fn port(number: u16) -> afterimage_protocol {
    afterimage_protocol { kind: afterimage_protocol_kind::AFTERIMAGE_PROTOCOL_PORT as u32, port: number }
}

/// A deterministic vector among a few hosts and ports, so that records repeat.
fn c_vector(seed: u64, timestamp: f64) -> afterimage_vector {
    use afterimage_address_kind::{AFTERIMAGE_ADDRESS_IPV4, AFTERIMAGE_ADDRESS_MAC};
    let host = |n: u64| [10, 0, 0, (n % 5) as u8 + 1];
    let mac = |n: u64| [2, 0, 0, 0, 0, (n % 5) as u8 + 1];
    afterimage_vector {
        ip_type: 0,
        src_mac: c_address(AFTERIMAGE_ADDRESS_MAC, &mac(seed)),
        dst_mac: c_address(AFTERIMAGE_ADDRESS_MAC, &mac(seed / 5)),
        src_ip: c_address(AFTERIMAGE_ADDRESS_IPV4, &host(seed)),
        src_protocol: port(1000 + (seed % 3) as u16),
        dst_ip: c_address(AFTERIMAGE_ADDRESS_IPV4, &host(seed / 5)),
        dst_protocol: port(80),
        timestamp,
        size: 60 + (seed % 1400) as u32,
    }
}

fn rust_vector(vector: &afterimage_vector) -> TrafficVector {
    TrafficVector {
        ip_type: vector.ip_type,
        src_mac: Address::Mac(vector.src_mac.bytes[..6].try_into().unwrap()),
        dst_mac: Address::Mac(vector.dst_mac.bytes[..6].try_into().unwrap()),
        src_ip: Address::Ipv4(vector.src_ip.bytes[..4].try_into().unwrap()),
        src_protocol: Protocol::Port(vector.src_protocol.port),
        dst_ip: Address::Ipv4(vector.dst_ip.bytes[..4].try_into().unwrap()),
        dst_protocol: Protocol::Port(vector.dst_protocol.port),
        timestamp: vector.timestamp,
        size: vector.size,
    }
}

fn update(handle: &Handle, vector: &afterimage_vector) -> Vec<f64> {
    let mut features = vec![0.0; 100];
    // SAFETY: valid handle, vector and buffer.
    let status = unsafe { afterimage_update_vector(handle.0, vector, features.as_mut_ptr(), features.len()) };
    assert_eq!(status, AFTERIMAGE_OK, "{}", last_error());
    features
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|value| value.to_bits()).collect()
}

#[test]
fn update_vector_matches_engine() {
    let handle = new_handle(&default_config());
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut expected = vec![0.0; 100];
    for i in 0..200u64 {
        let vector = c_vector(i * 7919, 1.0 + i as f64 * 0.013);
        let features = update(&handle, &vector);
        engine.update(&rust_vector(&vector), &mut expected).unwrap();
        assert_eq!(bits(&features), bits(&expected), "vector {i}");
    }
}

#[test]
fn null_arguments_name_the_argument() {
    let config = default_config();
    let handle = new_handle(&config);
    let vector = c_vector(1, 1.0);
    let mut features = [0.0; 100];
    let mut out_handle = null_mut();
    let mut size = 0usize;
    // SAFETY: every non-NULL pointer below is a valid local; the NULLs are the test.
    unsafe {
        assert_fails(afterimage_config_default(null_mut(), 0), AFTERIMAGE_NULL_ARGUMENT, &["config"]);
        assert_fails(afterimage_new(null(), &mut out_handle), AFTERIMAGE_NULL_ARGUMENT, &["config"]);
        assert_fails(afterimage_new(&config, null_mut()), AFTERIMAGE_NULL_ARGUMENT, &["handle_out"]);
        assert_fails(afterimage_update_vector(null_mut(), &vector, features.as_mut_ptr(), 100), AFTERIMAGE_NULL_ARGUMENT, &["handle"]);
        assert_fails(afterimage_update_vector(handle.0, null(), features.as_mut_ptr(), 100), AFTERIMAGE_NULL_ARGUMENT, &["vector"]);
        assert_fails(afterimage_update_vector(handle.0, &vector, null_mut(), 100), AFTERIMAGE_NULL_ARGUMENT, &["features"]);
        assert_fails(afterimage_update_packet(handle.0, 1, null(), 10, 0, 0, 6, features.as_mut_ptr(), 100), AFTERIMAGE_NULL_ARGUMENT, &["frame"]);
        assert_fails(afterimage_peek_vectors(null(), &vector, 1, features.as_mut_ptr(), 100), AFTERIMAGE_NULL_ARGUMENT, &["handle"]);
        assert_fails(afterimage_peek_vectors(handle.0, null(), 1, features.as_mut_ptr(), 100), AFTERIMAGE_NULL_ARGUMENT, &["vectors"]);
        assert_fails(afterimage_feature_count(handle.0, null_mut()), AFTERIMAGE_NULL_ARGUMENT, &["count_out"]);
        assert_fails(afterimage_feature_name(handle.0, 0, null_mut(), 10, null_mut()), AFTERIMAGE_NULL_ARGUMENT, &["buffer"]);
        assert_fails(afterimage_stats(handle.0, null_mut()), AFTERIMAGE_NULL_ARGUMENT, &["stats_out"]);
        assert_fails(afterimage_preallocate(null_mut(), 10), AFTERIMAGE_NULL_ARGUMENT, &["handle"]);
        assert_fails(afterimage_save_state(handle.0, null()), AFTERIMAGE_NULL_ARGUMENT, &["path"]);
        assert_fails(afterimage_load_state(null(), null(), &mut out_handle), AFTERIMAGE_NULL_ARGUMENT, &["path"]);
        assert_fails(afterimage_state_size(handle.0, null_mut()), AFTERIMAGE_NULL_ARGUMENT, &["size_out"]);
        assert_fails(afterimage_save_state_to_buffer(handle.0, null_mut(), 0, &mut size), AFTERIMAGE_NULL_ARGUMENT, &["buffer"]);
        assert_fails(afterimage_load_state_from_buffer(null(), 0, null(), &mut out_handle), AFTERIMAGE_NULL_ARGUMENT, &["buffer"]);
        assert_fails(afterimage_parse_packet(1, null(), 4, 0, 0, 6, null_mut(), null_mut(), 0), AFTERIMAGE_NULL_ARGUMENT, &["frame"]);
        afterimage_free(null_mut());
    }
    assert!(out_handle.is_null(), "no handle is written on failure");
    assert!(features.iter().all(|&value| value == 0.0), "features untouched on failure");
}

#[test]
fn invalid_configs_are_rejected() {
    let cases: Vec<(Vec<f64>, &str)> = vec![
        (vec![], "no decay factors"),
        (vec![1.0, -1.0], "-1"),
        (vec![f64::NAN], "NaN"),
        (vec![0.0], "decay factor 0"),
        (vec![f64::INFINITY], "inf"),
    ];
    for (factors, words) in cases {
        let mut config = default_config();
        config.decay_factors = factors.as_ptr();
        config.decay_factor_count = factors.len();
        let mut handle = null_mut();
        // SAFETY: valid config and out pointer.
        let status = unsafe { afterimage_new(&config, &mut handle) };
        assert_fails(status, AFTERIMAGE_INVALID_ARGUMENT, &[words]);
        assert!(handle.is_null());
    }

    let mut config = default_config();
    config.struct_size -= 1;
    let mut handle = null_mut();
    // SAFETY: valid config and out pointer.
    assert_fails(unsafe { afterimage_new(&config, &mut handle) }, AFTERIMAGE_INVALID_ARGUMENT, &["struct_size"]);

    let mut config = default_config();
    config.limit_policy = 7;
    // SAFETY: valid config and out pointer.
    assert_fails(unsafe { afterimage_new(&config, &mut handle) }, AFTERIMAGE_INVALID_ARGUMENT, &["limit_policy"]);

    let mut config = default_config();
    config.cleaning_interval = 0;
    // SAFETY: valid config and out pointer.
    assert_fails(unsafe { afterimage_new(&config, &mut handle) }, AFTERIMAGE_INVALID_ARGUMENT, &["cleaning interval"]);

    let mut config = default_config();
    // SAFETY: valid local with a wrong size, which is the test.
    assert_fails(unsafe { afterimage_config_default(&mut config, 8) }, AFTERIMAGE_INVALID_ARGUMENT, &["config_size"]);
}

#[test]
fn bad_vectors_and_buffers_are_rejected() {
    let handle = new_handle(&default_config());
    let mut features = [0.0; 100];
    let check = |vector: afterimage_vector, words: &[&str]| {
        let mut features = [0.0; 100];
        // SAFETY: valid handle, vector and buffer.
        let status = unsafe { afterimage_update_vector(handle.0, &vector, features.as_mut_ptr(), 100) };
        assert_fails(status, AFTERIMAGE_INVALID_ARGUMENT, words);
    };
    check(c_vector(1, f64::NAN), &["timestamp", "NaN"]);
    check(c_vector(1, f64::INFINITY), &["timestamp", "inf"]);
    let mut vector = c_vector(1, 1.0);
    vector.src_ip.length = 5;
    check(vector, &["src_ip.length"]);
    let mut vector = c_vector(1, 1.0);
    vector.dst_mac.kind = 9;
    check(vector, &["dst_mac.kind", "9"]);
    let mut vector = c_vector(1, 1.0);
    vector.src_protocol.kind = 2;
    check(vector, &["src_protocol.port"]);
    let mut vector = c_vector(1, 1.0);
    vector.ip_type = 4;
    check(vector, &["ip_type"]);
    let mut vector = c_vector(1, 1.0);
    vector.src_mac = c_address(afterimage_address_kind::AFTERIMAGE_ADDRESS_RAW, &[]);
    vector.src_mac.length = 300;
    check(vector, &["src_mac.length", "255"]);

    let vector = c_vector(1, 1.0);
    // SAFETY: valid handle, vector and buffer; the length is the test.
    let status = unsafe { afterimage_update_vector(handle.0, &vector, features.as_mut_ptr(), 99) };
    assert_fails(status, AFTERIMAGE_BUFFER_TOO_SMALL, &["99", "100"]);

    let mut stats = afterimage_database_stats::default();
    // SAFETY: valid handle and out pointer.
    assert_eq!(unsafe { afterimage_stats(handle.0, &mut stats) }, AFTERIMAGE_OK);
    assert_eq!(stats.vectors_processed, 0, "failed updates change nothing");
    assert_eq!(stats.records, 0);
}

#[test]
fn update_packet_checks_timestamp() {
    let handle = new_handle(&default_config());
    let frame = [0u8; 60];
    let mut features = [0.0; 100];
    // SAFETY: valid handle, frame and buffer in every call.
    unsafe {
        let status = afterimage_update_packet(handle.0, 1, frame.as_ptr(), 60, 1, 1_000_000, 6, features.as_mut_ptr(), 100);
        assert_fails(status, AFTERIMAGE_INVALID_ARGUMENT, &["fraction", "1000000"]);
        let status = afterimage_update_packet(handle.0, 1, frame.as_ptr(), 60, 1, 0, 20, features.as_mut_ptr(), 100);
        assert_fails(status, AFTERIMAGE_INVALID_ARGUMENT, &["resolution_exponent", "20"]);
        // An all-zero Ethernet frame carries no IP or ARP layer.
        let status = afterimage_update_packet(handle.0, 1, frame.as_ptr(), 60, 1, 5, 6, features.as_mut_ptr(), 100);
        assert_eq!(status, AFTERIMAGE_SKIPPED_PACKET);
    }
}

#[test]
fn decimal_timestamps_round_correctly() {
    use ::afterimage::capture::{ticks_to_seconds, Resolution};
    for (seconds, fraction, exponent) in [(1_500_000_000u64, 123_456u64, 6u32), (1_500_000_000, 999_999_999, 9), (7, 1, 19), (u64::MAX / 10, 5, 1)] {
        let exact: f64 = format!("{seconds}.{fraction:0width$}", width = exponent as usize).parse().unwrap();
        if let Some(ticks) = seconds.checked_mul(10u64.pow(exponent)).and_then(|t| t.checked_add(fraction)) {
            assert_eq!(ticks_to_seconds(ticks, Resolution::Decimal(exponent as u8)).to_bits(), exact.to_bits());
        }
    }
}

#[test]
fn feature_names_match_config() {
    let handle = new_handle(&default_config());
    let names = Config::default().feature_names();
    let mut count = 0;
    // SAFETY: valid handle and out pointer.
    assert_eq!(unsafe { afterimage_feature_count(handle.0, &mut count) }, AFTERIMAGE_OK);
    assert_eq!(count, names.len());
    for (index, name) in names.iter().enumerate() {
        let mut buffer = [0 as c_char; 64];
        let mut length = 0;
        // SAFETY: valid handle, buffer and length.
        let status = unsafe { afterimage_feature_name(handle.0, index, buffer.as_mut_ptr(), 64, &mut length) };
        assert_eq!(status, AFTERIMAGE_OK);
        assert_eq!(length, name.len());
        // SAFETY: NUL-terminated by afterimage_feature_name.
        assert_eq!(unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_str().unwrap(), name);
    }

    let mut small = [b'x' as c_char; 4];
    let mut length = 0;
    // SAFETY: valid handle, buffer and length; the buffer size is the test.
    let status = unsafe { afterimage_feature_name(handle.0, 0, small.as_mut_ptr(), 4, &mut length) };
    assert_fails(status, AFTERIMAGE_BUFFER_TOO_SMALL, &["4 bytes"]);
    assert_eq!(length, names[0].len(), "needed length is reported");
    assert!(small.iter().all(|&byte| byte == b'x' as c_char), "buffer untouched");
    // SAFETY: as above; the index is the test.
    let status = unsafe { afterimage_feature_name(handle.0, 100, small.as_mut_ptr(), 4, &mut length) };
    assert_fails(status, AFTERIMAGE_INVALID_ARGUMENT, &["index 100"]);
}

#[test]
fn last_error_too_small_keeps_message() {
    let mut handle = null_mut();
    // SAFETY: the NULL config is the test.
    unsafe { afterimage_new(null(), &mut handle) };
    let mut tiny = [0 as c_char; 2];
    let mut length = 0;
    // SAFETY: valid buffer and length.
    let status = unsafe { afterimage_last_error(tiny.as_mut_ptr(), 2, &mut length) };
    assert_eq!(status, AFTERIMAGE_BUFFER_TOO_SMALL);
    assert!(length > 2);
    assert!(last_error().contains("config"), "the message survives a failed read");
}

#[test]
fn version_matches_cargo() {
    // SAFETY: afterimage_version returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(afterimage_version()) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/afterimage.h")).unwrap();
    assert!(header.contains(&format!("#define AFTERIMAGE_VERSION \"{version}\"")), "header version macro is stale");
    let number = afterimage_version_number();
    let parts: Vec<u32> = version.split('.').map(|part| part.parse().unwrap()).collect();
    assert_eq!(number, parts[0] * 10000 + parts[1] * 100 + parts[2]);
}

#[test]
fn state_buffer_round_trip_continues_exactly() {
    let config = default_config();
    let first = new_handle(&config);
    let never_stopped = new_handle(&config);
    for i in 0..300u64 {
        let vector = c_vector(i * 31, 1.0 + i as f64 * 0.05);
        update(&first, &vector);
        update(&never_stopped, &vector);
    }

    let mut size = 0;
    // SAFETY: valid handle and out pointer.
    assert_eq!(unsafe { afterimage_state_size(first.0, &mut size) }, AFTERIMAGE_OK);
    let mut buffer = vec![0u8; size];
    let mut written = 0;
    // SAFETY: valid handle, buffer and out pointer; one byte short is the test.
    let status = unsafe { afterimage_save_state_to_buffer(first.0, buffer.as_mut_ptr(), size - 1, &mut written) };
    assert_fails(status, AFTERIMAGE_BUFFER_TOO_SMALL, &["needs"]);
    assert_eq!(written, size);
    // SAFETY: as above, with the full length.
    let status = unsafe { afterimage_save_state_to_buffer(first.0, buffer.as_mut_ptr(), size, &mut written) };
    assert_eq!(status, AFTERIMAGE_OK);
    assert_eq!(written, size);

    let mut loaded = null_mut();
    // SAFETY: valid buffer, config and out pointer.
    let status = unsafe { afterimage_load_state_from_buffer(buffer.as_ptr(), size, &config, &mut loaded) };
    assert_eq!(status, AFTERIMAGE_OK, "{}", last_error());
    let loaded = Handle(loaded);
    for i in 300..600u64 {
        let vector = c_vector(i * 31, 1.0 + i as f64 * 0.05);
        assert_eq!(bits(&update(&loaded, &vector)), bits(&update(&never_stopped, &vector)), "vector {i}");
    }

    // A flipped byte fails the checksum; other settings are incompatible.
    buffer[size / 2] ^= 1;
    let mut handle = null_mut();
    // SAFETY: valid buffer and out pointer.
    let status = unsafe { afterimage_load_state_from_buffer(buffer.as_ptr(), size, null(), &mut handle) };
    assert_fails(status, AFTERIMAGE_STATE_CORRUPT, &["checksum"]);
    buffer[size / 2] ^= 1;
    let factors = [2.0];
    let mut other = default_config();
    other.decay_factors = factors.as_ptr();
    other.decay_factor_count = 1;
    // SAFETY: valid buffer, config and out pointer.
    let status = unsafe { afterimage_load_state_from_buffer(buffer.as_ptr(), size, &other, &mut handle) };
    assert_fails(status, AFTERIMAGE_STATE_INCOMPATIBLE, &["decay factors"]);
    assert!(handle.is_null());
}

#[test]
fn state_file_round_trip_and_io_error() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("engine.state");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let handle = new_handle(&default_config());
    for i in 0..50u64 {
        update(&handle, &c_vector(i, i as f64));
    }
    // SAFETY: valid handle and path.
    assert_eq!(unsafe { afterimage_save_state(handle.0, c_path.as_ptr()) }, AFTERIMAGE_OK, "{}", last_error());
    let mut loaded = null_mut();
    // SAFETY: valid path and out pointer.
    assert_eq!(unsafe { afterimage_load_state(c_path.as_ptr(), null(), &mut loaded) }, AFTERIMAGE_OK);
    let loaded = Handle(loaded);
    let vector = c_vector(77, 60.0);
    assert_eq!(bits(&update(&loaded, &vector)), bits(&update(&handle, &vector)));

    let missing = std::ffi::CString::new(folder.path().join("no/such/folder/x").to_str().unwrap()).unwrap();
    // SAFETY: valid handle and path.
    assert_fails(unsafe { afterimage_save_state(handle.0, missing.as_ptr()) }, AFTERIMAGE_IO_ERROR, &["no/such/folder"]);
    let mut out = null_mut();
    // SAFETY: valid path and out pointer.
    assert_fails(unsafe { afterimage_load_state(missing.as_ptr(), null(), &mut out) }, AFTERIMAGE_IO_ERROR, &["no/such/folder"]);
}

#[test]
fn record_limit_rejects_without_change() {
    let mut config = default_config();
    config.record_limit = 6;
    let handle = new_handle(&config);
    update(&handle, &c_vector(0, 1.0));
    let mut features = [0.0; 100];
    let vector = c_vector(3, 2.0);
    // SAFETY: valid handle, vector and buffer.
    let status = unsafe { afterimage_update_vector(handle.0, &vector, features.as_mut_ptr(), 100) };
    assert_fails(status, AFTERIMAGE_RECORD_LIMIT, &["limit of 6"]);
    assert!(features.iter().all(|&value| value == 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn peek_vectors_equals_update_on_copy(seeds in prop::collection::vec(0u64..1000, 1..40), history in 0usize..60) {
        let config = default_config();
        let handle = new_handle(&config);
        let copy = new_handle(&config);
        for i in 0..history {
            let vector = c_vector(i as u64 * 13, i as f64 * 0.1);
            update(&handle, &vector);
            update(&copy, &vector);
        }
        let vectors: Vec<afterimage_vector> =
            seeds.iter().enumerate().map(|(i, &seed)| c_vector(seed, history as f64 * 0.1 + i as f64 * 0.3)).collect();
        let mut peeked = vec![0.0; 100 * vectors.len()];
        // SAFETY: valid handle, vectors and buffer.
        let status = unsafe { afterimage_peek_vectors(handle.0, vectors.as_ptr(), vectors.len(), peeked.as_mut_ptr(), peeked.len()) };
        prop_assert_eq!(status, AFTERIMAGE_OK);
        let mut expected = Vec::new();
        for vector in &vectors {
            expected.extend(update(&copy, vector));
        }
        prop_assert_eq!(bits(&peeked), bits(&expected));
        let mut stats = afterimage_database_stats::default();
        // SAFETY: valid handle and out pointer.
        prop_assert_eq!(unsafe { afterimage_stats(handle.0, &mut stats) }, AFTERIMAGE_OK);
        prop_assert_eq!(stats.vectors_processed, history as u64, "peek changes nothing");
    }
}

#[test]
fn preallocate_rejects_huge_counts() {
    let handle = new_handle(&default_config());
    // SAFETY: a live handle from new_handle.
    unsafe {
        assert_fails(afterimage_preallocate(handle.0, u64::MAX), AFTERIMAGE_INVALID_ARGUMENT, &["18446744073709551615", "at most"]);
        assert_fails(
            afterimage_preallocate(handle.0, u64::from(u32::MAX) - 1),
            AFTERIMAGE_INVALID_ARGUMENT,
            &["4294967294", "half of this machine", "give a smaller count"],
        );
    }
    let mut stats = afterimage_database_stats { records: 0, links: 0, bytes: 0, vectors_processed: 0 };
    // SAFETY: as above, and stats is a valid local.
    unsafe {
        assert_eq!(afterimage_stats(handle.0, &mut stats), AFTERIMAGE_OK);
    }
    let before = stats.bytes;
    // SAFETY: as above.
    unsafe {
        assert_eq!(afterimage_preallocate(handle.0, 10_000), AFTERIMAGE_OK);
        assert_eq!(afterimage_stats(handle.0, &mut stats), AFTERIMAGE_OK);
    }
    assert!(stats.bytes >= before + 10_000 * 200, "{} bytes after preallocating, {before} before", stats.bytes);
}
