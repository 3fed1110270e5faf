//! The C ABI. Every `extern "C"` function and every raw pointer of the crate lives in
//! this module; `include/afterimage.h` is generated from it by cbindgen.
//!
//! Conventions shared by every entry point:
//! - the handle comes first, then inputs, then outputs; every buffer is followed by
//!   its length;
//! - outputs are written only when the call returns `AFTERIMAGE_OK` (a too-small
//!   buffer is the one exception: the needed length goes to the length output);
//! - NULL where a pointer is required returns `AFTERIMAGE_NULL_ARGUMENT`;
//! - every failure stores a message for `afterimage_last_error` on the calling thread;
//! - a panic never crosses the boundary: it becomes `AFTERIMAGE_PANIC`.

pub mod handle;
mod meta;
pub mod state;
pub mod status;
pub mod vector;

use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use status::afterimage_status;
use status::*;

/// Runs the body of an entry point: turns a failure into its status plus the
/// thread's last-error message, and a panic into `AFTERIMAGE_PANIC`.
pub(crate) fn boundary(function: &str, body: impl FnOnce() -> Result<afterimage_status, Failure>) -> afterimage_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(&format!("{function}: {}", failure.message));
            failure.status
        }
        Err(payload) => {
            set_last_error(&format!("{function}: {}", panic_message(payload.as_ref())));
            AFTERIMAGE_PANIC
        }
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("internal panic ({detail}); this is a bug in afterimage, please report it with the input that caused it")
}

/// Borrows `*pointer`, or fails naming `argument` when it is NULL.
///
/// # Safety
/// A non-NULL `pointer` must point to a valid, aligned `T` that stays alive and is not
/// written by anyone else for `'a`.
pub(crate) unsafe fn reference<'a, T>(pointer: *const T, argument: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller guarantees that a non-NULL pointer is valid for 'a.
    unsafe { pointer.as_ref() }.ok_or_else(|| Failure::null(argument))
}

/// Borrows `length` elements at `pointer`. NULL is accepted only for length 0.
///
/// # Safety
/// A non-NULL `pointer` must point to `length` valid, aligned elements that stay alive
/// and unchanged for `'a`.
pub(crate) unsafe fn slice<'a, T>(pointer: *const T, length: usize, argument: &str) -> Result<&'a [T], Failure> {
    if pointer.is_null() {
        if length == 0 {
            return Ok(&[]);
        }
        return Err(Failure::null(argument));
    }
    check_length::<T>(length, argument)?;
    // SAFETY: non-NULL, and the caller guarantees `length` valid elements; the byte
    // length was checked against isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(pointer, length) })
}

/// Borrows `length` writable elements at `pointer`, which must not be NULL.
///
/// # Safety
/// `pointer` must point to `length` aligned, writable elements that nobody else reads
/// or writes for `'a`.
pub(crate) unsafe fn slice_mut<'a, T>(pointer: *mut T, length: usize, argument: &str) -> Result<&'a mut [T], Failure> {
    if pointer.is_null() {
        return Err(Failure::null(argument));
    }
    check_length::<T>(length, argument)?;
    // SAFETY: non-NULL, and the caller guarantees `length` writable elements held by
    // no one else; the byte length was checked against isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts_mut(pointer, length) })
}

fn check_length<T>(length: usize, argument: &str) -> Result<(), Failure> {
    if length.checked_mul(std::mem::size_of::<T>()).map_or(true, |bytes| bytes > isize::MAX as usize) {
        return Err(Failure::invalid(format!("the length {length} given for {argument} exceeds the address space")));
    }
    Ok(())
}

/// Reads a NUL-terminated UTF-8 path.
///
/// # Safety
/// A non-NULL `path` must point to a NUL-terminated string that stays alive for `'a`.
pub(crate) unsafe fn path<'a>(path: *const c_char, argument: &str) -> Result<&'a std::path::Path, Failure> {
    if path.is_null() {
        return Err(Failure::null(argument));
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(path) };
    let text = text.to_str().map_err(|_| Failure::invalid(format!("{argument} is not valid UTF-8")))?;
    if text.is_empty() {
        return Err(Failure::invalid(format!("{argument} is an empty string; pass a file path")));
    }
    Ok(std::path::Path::new(text))
}

/// Copies `text` (NUL included) into a caller buffer, or reports the length needed.
///
/// # Safety
/// `buffer` must point to `buffer_length` writable bytes (or be NULL), and a non-NULL
/// `text_length` must be writable.
pub(crate) unsafe fn copy_string(
    text: &[u8],
    buffer: *mut c_char,
    buffer_length: usize,
    text_length: *mut usize,
) -> Result<afterimage_status, Failure> {
    debug_assert_eq!(text.last(), Some(&0));
    if !text_length.is_null() {
        // SAFETY: non-NULL, and the caller guarantees it is writable. The needed length
        // is written on every path, as documented, so the caller can size a buffer.
        unsafe { *text_length = text.len() - 1 };
    }
    if buffer.is_null() {
        return Err(Failure::null("buffer"));
    }
    if buffer_length < text.len() {
        return Err(Failure::new(
            AFTERIMAGE_BUFFER_TOO_SMALL,
            format!("buffer holds {buffer_length} bytes, but {} are needed including the terminating NUL", text.len()),
        ));
    }
    // SAFETY: the buffer has at least text.len() writable bytes, checked above, and a
    // Rust slice cannot overlap a buffer the caller owns exclusively.
    unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len()) };
    Ok(AFTERIMAGE_OK)
}

/// Library version as a NUL-terminated string such as "0.1.0". Static: never free it.
/// Compare it with AFTERIMAGE_VERSION to detect a header and library mismatch.
#[no_mangle]
pub extern "C" fn afterimage_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Library version as MAJOR * 10000 + MINOR * 100 + PATCH, comparable with
/// AFTERIMAGE_VERSION_NUMBER.
#[no_mangle]
pub extern "C" fn afterimage_version_number() -> u32 {
    let part = |text: &str| text.parse::<u32>().unwrap_or(0);
    part(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + part(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + part(env!("CARGO_PKG_VERSION_PATCH"))
}

/// Static NUL-terminated name of a status code ("AFTERIMAGE_OK", ...), or "unknown
/// afterimage status" for a value that is not one. Never free it. Takes an integer so
/// that any value from C is safe to pass.
#[no_mangle]
pub extern "C" fn afterimage_status_name(status: u32) -> *const c_char {
    status_name(status)
}

/// Copies the message of the latest failed call on this thread into `buffer`.
///
/// The message is thread-local: a failure on another thread never changes it, and a
/// successful call (or AFTERIMAGE_SKIPPED_PACKET) leaves it as it was, so read it right
/// after the failing call. It is the empty string before any failure. This call does
/// not change the stored message, even when it fails.
///
/// - `buffer`: caller-owned, `buffer_length` bytes; receives the message and a NUL.
/// - `message_length`: may be NULL; when not, receives the message length in bytes
///   without the NUL, on success and on AFTERIMAGE_BUFFER_TOO_SMALL, so a caller can
///   pass NULL and 0 first to size the buffer.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT (buffer NULL) or
/// AFTERIMAGE_BUFFER_TOO_SMALL (nothing written to buffer).
///
/// # Safety
/// `buffer` must be NULL or point to `buffer_length` writable bytes; `message_length`
/// must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_last_error(
    buffer: *mut c_char,
    buffer_length: usize,
    message_length: *mut usize,
) -> afterimage_status {
    // Not through `boundary`: a failure here must not replace the message being read.
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's guarantees on buffer and message_length are the ones
        // copy_string needs.
        with_last_error(|message| unsafe { copy_string(message, buffer, buffer_length, message_length) })
    }));
    match result {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => failure.status,
        Err(_) => AFTERIMAGE_PANIC,
    }
}
