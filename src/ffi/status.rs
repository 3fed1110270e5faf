//! Status codes and the thread-local last-error message.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::engine::{ConfigError, UpdateError};
use crate::state::StateError;

/// Result of every call that can fail. Values are stable: new codes get new numbers,
/// and retired numbers are never reused. Codes are grouped by hundreds: 0–99 success
/// (including a skipped packet, which is not a failure), 100–199 caller mistakes,
/// 200–299 engine limits, 300–399 files and state, 900 and up internal failures.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum afterimage_status {
    /// The call succeeded and wrote its outputs.
    AFTERIMAGE_OK = 0,
    /// The frame gave no traffic vector (no IPv4, IPv6 or ARP layer, or an unsupported
    /// link type). Nothing changed and no output was written; this is not an error, and
    /// the last-error message is left as it was.
    AFTERIMAGE_SKIPPED_PACKET = 1,

    /// A required pointer argument was NULL.
    AFTERIMAGE_NULL_ARGUMENT = 100,
    /// An argument was out of range: a bad decay factor, a non-finite timestamp, an
    /// unknown enum value, a wrong struct_size.
    AFTERIMAGE_INVALID_ARGUMENT = 101,
    /// An output buffer was too small. Nothing was written to it; where the call has a
    /// length output, that output receives the length needed.
    AFTERIMAGE_BUFFER_TOO_SMALL = 102,

    /// The vector needs more new records than the record limit allows (policy reject).
    /// No statistic changed (records that cleaning had already made due may be freed).
    AFTERIMAGE_RECORD_LIMIT = 200,

    /// A file could not be opened, read, written or renamed.
    AFTERIMAGE_IO_ERROR = 300,
    /// A state is damaged: bad magic, checksum, count or value.
    AFTERIMAGE_STATE_CORRUPT = 301,
    /// A state is intact but cannot be used: a newer format version, or settings that
    /// differ from the expected configuration.
    AFTERIMAGE_STATE_INCOMPATIBLE = 302,

    /// The library panicked (a bug). A handle whose call panicked returns this status
    /// from every later call until it is freed.
    AFTERIMAGE_PANIC = 900,
}

pub use afterimage_status::*;

/// A failed call: the status to return and the message to store for
/// `afterimage_last_error`.
#[derive(Debug)]
pub struct Failure {
    pub status: afterimage_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: afterimage_status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }

    pub fn null(argument: &str) -> Failure {
        Failure::new(AFTERIMAGE_NULL_ARGUMENT, format!("{argument} is NULL; pass a valid pointer"))
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(AFTERIMAGE_INVALID_ARGUMENT, message)
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Failure {
        Failure::invalid(format!("config: {error}"))
    }
}

impl From<UpdateError> for Failure {
    fn from(error: UpdateError) -> Failure {
        let status = match error {
            UpdateError::InvalidTimestamp(_) => AFTERIMAGE_INVALID_ARGUMENT,
            UpdateError::RecordLimit { .. } => AFTERIMAGE_RECORD_LIMIT,
            UpdateError::OutputTooSmall { .. } => AFTERIMAGE_BUFFER_TOO_SMALL,
        };
        Failure::new(status, error.to_string())
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Failure {
        let status = match error {
            StateError::Io(_) => AFTERIMAGE_IO_ERROR,
            StateError::UnsupportedVersion { .. } | StateError::ConfigMismatch(_) => AFTERIMAGE_STATE_INCOMPATIBLE,
            StateError::NotAState { .. }
            | StateError::Truncated { .. }
            | StateError::Checksum { .. }
            | StateError::Corrupt { .. } => {
                AFTERIMAGE_STATE_CORRUPT
            }
        };
        Failure::new(status, error.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `message` as this thread's last error. Interior NUL bytes, which C could not
/// show, are replaced.
pub fn set_last_error(message: &str) {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Runs `read` on this thread's last error message, NUL included.
pub fn with_last_error<R>(read: impl FnOnce(&[u8]) -> R) -> R {
    LAST_ERROR.with(|last| read(last.borrow().as_bytes_with_nul()))
}

/// A NUL-terminated static name for each status, for logs.
pub fn status_name(status: u32) -> *const c_char {
    let name: &'static [u8] = match status {
        0 => b"AFTERIMAGE_OK\0",
        1 => b"AFTERIMAGE_SKIPPED_PACKET\0",
        100 => b"AFTERIMAGE_NULL_ARGUMENT\0",
        101 => b"AFTERIMAGE_INVALID_ARGUMENT\0",
        102 => b"AFTERIMAGE_BUFFER_TOO_SMALL\0",
        200 => b"AFTERIMAGE_RECORD_LIMIT\0",
        300 => b"AFTERIMAGE_IO_ERROR\0",
        301 => b"AFTERIMAGE_STATE_CORRUPT\0",
        302 => b"AFTERIMAGE_STATE_INCOMPATIBLE\0",
        900 => b"AFTERIMAGE_PANIC\0",
        _ => b"unknown afterimage status\0",
    };
    name.as_ptr().cast()
}
