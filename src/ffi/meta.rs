//! Text rows as the command-line tool writes them, for C callers that write their own
//! files: the meta CSV row of a traffic vector and a CSV row of feature values.

use crate::output::{format_meta_row, write_python_float};

use super::status::*;
use super::vector::{afterimage_vector, vector_argument};
use super::{boundary, copy_string, slice};

/// Bytes per feature value that afterimage_format_features never exceeds: the longest
/// Python float (`-1.2345678901234567e-308`, 24 characters) and its separator.
const FEATURE_TEXT_MAX: usize = 25;

/// Writes `text` and a NUL to the caller's buffer, as copy_string does.
///
/// # Safety
/// As for [`copy_string`].
unsafe fn copy_row(
    mut text: String,
    buffer: *mut std::ffi::c_char,
    buffer_length: usize,
    written: *mut usize,
) -> Result<afterimage_status, Failure> {
    text.push('\0');
    // SAFETY: the caller's guarantees on buffer and written are the ones copy_string needs.
    unsafe { copy_string(text.as_bytes(), buffer, buffer_length, written) }
}

/// Formats a traffic vector as the row `afterimage extract` writes for it in the meta
/// table (NAME_meta.csv): ip_type, src_mac, dst_mac, src_ip, src_protocol, dst_ip,
/// dst_protocol, time_stamp, packet_size, ending with a newline.
///
/// - `vector`: borrowed for the call, checked as afterimage_update_vector checks it.
/// - `buffer`, `buffer_length`: caller memory; receives the row, its newline and a NUL.
/// - `written`: may be NULL; when not, receives the row's length in bytes without the
///   NUL, on success and on AFTERIMAGE_BUFFER_TOO_SMALL (the buffer then needs one byte
///   more). 4096 bytes are enough unless a raw address is longer than 16 bytes. To size
///   a buffer for any vector, pass NULL and 0 first.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (a
/// field out of range) or AFTERIMAGE_BUFFER_TOO_SMALL (nothing written to buffer).
/// Takes no lock.
///
/// # Safety
/// `vector` must be NULL or valid, with its raw pointers valid; `buffer` must be NULL
/// or point to `buffer_length` writable bytes; `written` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_format_meta_row(
    vector: *const afterimage_vector,
    buffer: *mut std::ffi::c_char,
    buffer_length: usize,
    written: *mut usize,
) -> afterimage_status {
    boundary("afterimage_format_meta_row", || {
        // SAFETY: the caller guarantees a valid vector as documented above.
        let vector = unsafe { vector_argument(vector, "vector") }?;
        let mut row = String::with_capacity(128);
        format_meta_row(&mut row, &vector);
        // SAFETY: the caller guarantees buffer and written as documented above.
        unsafe { copy_row(row, buffer, buffer_length, written) }
    })
}

/// Formats feature values as a row of the CSV feature table `afterimage extract`
/// writes: each value as Python's repr() (the shortest text that reads back to the
/// same float64), separated by commas, ending with a newline.
///
/// - `features`, `count`: the values, borrowed for the call; NULL is accepted with
///   count 0 (the row is then only the newline).
/// - `buffer`, `buffer_length`: caller memory; receives the row, its newline and a NUL.
///   count × 25 + 1 bytes always suffice.
/// - `written`: may be NULL; when not, receives the row's length in bytes without the
///   NUL, on success and on AFTERIMAGE_BUFFER_TOO_SMALL.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (a
/// count beyond the address space) or AFTERIMAGE_BUFFER_TOO_SMALL (nothing written to
/// buffer). Takes no lock.
///
/// # Safety
/// `features` must be NULL or point to `count` readable doubles; `buffer` must be NULL
/// or point to `buffer_length` writable bytes; `written` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_format_features(
    features: *const f64,
    count: usize,
    buffer: *mut std::ffi::c_char,
    buffer_length: usize,
    written: *mut usize,
) -> afterimage_status {
    boundary("afterimage_format_features", || {
        // SAFETY: the caller guarantees count readable doubles at a non-NULL features.
        let features = unsafe { slice(features, count, "features") }?;
        let mut row = String::with_capacity(features.len().saturating_mul(FEATURE_TEXT_MAX).saturating_add(1));
        for (i, &value) in features.iter().enumerate() {
            if i > 0 {
                row.push(',');
            }
            write_python_float(&mut row, value);
        }
        row.push('\n');
        // SAFETY: the caller guarantees buffer and written as documented above.
        unsafe { copy_row(row, buffer, buffer_length, written) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::vector::afterimage_parse_packet;

    fn features_text(values: &[f64], buffer_length: usize) -> (afterimage_status, usize, Vec<u8>) {
        let mut buffer = vec![b'#'; buffer_length];
        let mut written = usize::MAX;
        // SAFETY: the pointers cover the lengths given.
        let status = unsafe {
            afterimage_format_features(values.as_ptr(), values.len(), buffer.as_mut_ptr().cast(), buffer.len(), &mut written)
        };
        (status, written, buffer)
    }

    #[test]
    fn features_use_python_repr() {
        let values = [0.0, 1.0, 0.1, 1e-5, -2.5e16, f64::NAN];
        let (status, written, buffer) = features_text(&values, 256);
        assert_eq!(status, AFTERIMAGE_OK);
        let text = "0.0,1.0,0.1,1e-05,-2.5e+16,nan\n";
        assert_eq!(&buffer[..written], text.as_bytes());
        assert_eq!(buffer[written], 0);
    }

    #[test]
    fn longest_values_fit_documented_size() {
        let values = [-1.2345678901234567e-300; 10];
        let (status, written, _) = features_text(&values, values.len() * FEATURE_TEXT_MAX + 1);
        assert_eq!(status, AFTERIMAGE_OK);
        assert!(written < values.len() * FEATURE_TEXT_MAX + 1);
    }

    #[test]
    fn small_buffer_reports_needed_length() {
        let (status, written, buffer) = features_text(&[1.5, 2.5], 8);
        assert_eq!(status, AFTERIMAGE_BUFFER_TOO_SMALL);
        assert_eq!(written, "1.5,2.5\n".len());
        assert!(buffer.iter().all(|&byte| byte == b'#'));
    }

    #[test]
    fn null_arguments_are_rejected() {
        let mut buffer = [0 as std::ffi::c_char; 16];
        // SAFETY: NULL pointers with nonzero lengths are what is being tested.
        unsafe {
            assert_eq!(
                afterimage_format_features(std::ptr::null(), 1, buffer.as_mut_ptr(), 16, std::ptr::null_mut()),
                AFTERIMAGE_NULL_ARGUMENT
            );
            assert_eq!(
                afterimage_format_meta_row(std::ptr::null(), buffer.as_mut_ptr(), 16, std::ptr::null_mut()),
                AFTERIMAGE_NULL_ARGUMENT
            );
        }
    }

    #[test]
    fn meta_row_matches_writer() {
        // Ethernet, IPv4, UDP 1234 -> 53.
        let mut frame = vec![0u8; 14 + 20 + 8];
        frame[..6].copy_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        frame[6..12].copy_from_slice(&[0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]);
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        frame[14] = 0x45;
        frame[16..18].copy_from_slice(&28u16.to_be_bytes());
        frame[22] = 64;
        frame[23] = 17;
        frame[26..30].copy_from_slice(&[10, 0, 0, 1]);
        frame[30..34].copy_from_slice(&[10, 0, 0, 2]);
        frame[34..36].copy_from_slice(&1234u16.to_be_bytes());
        frame[36..38].copy_from_slice(&53u16.to_be_bytes());
        frame[38..40].copy_from_slice(&8u16.to_be_bytes());

        let mut vector = std::mem::MaybeUninit::<afterimage_vector>::uninit();
        // SAFETY: the frame and vector pointers are valid; no raw storage is needed.
        let status = unsafe {
            afterimage_parse_packet(1, frame.as_ptr(), frame.len(), 1_500_000_000, 250_000, 6, vector.as_mut_ptr(), std::ptr::null_mut(), 0)
        };
        assert_eq!(status, AFTERIMAGE_OK);
        // SAFETY: written by the successful call above.
        let vector = unsafe { vector.assume_init() };

        let mut buffer = vec![0u8; 4096];
        let mut written = 0;
        // SAFETY: the pointers cover the lengths given.
        let status = unsafe { afterimage_format_meta_row(&vector, buffer.as_mut_ptr().cast(), buffer.len(), &mut written) };
        assert_eq!(status, AFTERIMAGE_OK);
        // SAFETY: the same vector, still valid.
        let expected = {
            let converted = unsafe { vector_argument(&vector, "vector") }.expect("valid vector");
            let mut row = String::new();
            format_meta_row(&mut row, &converted);
            row
        };
        assert_eq!(std::str::from_utf8(&buffer[..written]).unwrap(), expected);
        assert_eq!(expected, "0,66:77:88:99:aa:bb,00:11:22:33:44:55,10.0.0.1,1234,10.0.0.2,53,1500000000.25,42\n");
    }
}
