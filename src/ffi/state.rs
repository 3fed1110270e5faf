//! Saving and loading engine state, to files and to caller memory.

use std::ffi::c_char;

use crate::state;

use super::handle::{afterimage, afterimage_config, config_from_c, give_handle};
use super::status::*;
use super::{boundary, path, reference, slice, slice_mut};

/// Reads the optional expected configuration of a load call.
///
/// # Safety
/// A non-NULL `config` must point to a valid afterimage_config.
unsafe fn expected_config(config: *const afterimage_config) -> Result<Option<crate::Config>, Failure> {
    if config.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL; the caller guarantees a valid config.
    let config = unsafe { reference(config, "expected_config") }?;
    // SAFETY: as above, for its decay factor array.
    Ok(Some(unsafe { config_from_c(config) }?))
}

/// Saves the handle's state to the file at `path` (NUL-terminated UTF-8), atomically:
/// a temporary file in the same folder is written, flushed to disk and renamed over
/// `path`, so a crash leaves the old file or the new one, never a mix.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (empty
/// or non-UTF-8 path), AFTERIMAGE_IO_ERROR or AFTERIMAGE_PANIC. Locks the handle for
/// the whole write, so updates from other threads wait.
///
/// # Safety
/// `handle` must be NULL or live; `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn afterimage_save_state(handle: *const afterimage, path: *const c_char) -> afterimage_status {
    boundary("afterimage_save_state", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { reference(handle, "handle") }?;
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = unsafe { self::path(path, "path") }?;
        handle.with_engine(|engine| {
            state::save_to_path(engine, path)
                .map_err(|error| Failure::new(AFTERIMAGE_IO_ERROR, format!("cannot save the state to {}: {error}", path.display())))?;
            Ok(AFTERIMAGE_OK)
        })
    })
}

/// Creates a handle from a state file written by afterimage_save_state.
///
/// - `expected_config`: may be NULL to accept the settings stored in the file; when not
///   NULL, a file saved with other settings is rejected with
///   AFTERIMAGE_STATE_INCOMPATIBLE.
/// - `handle_out`: receives a new handle owned by the caller (free it with
///   afterimage_free); untouched on failure.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT,
/// AFTERIMAGE_IO_ERROR, AFTERIMAGE_STATE_CORRUPT (bad magic, checksum, count or value),
/// AFTERIMAGE_STATE_INCOMPATIBLE (newer format version or other settings) or
/// AFTERIMAGE_PANIC. Takes no lock.
///
/// # Safety
/// `path` must be NULL or NUL-terminated; `expected_config` must be NULL or valid;
/// `handle_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_load_state(
    path: *const c_char,
    expected_config: *const afterimage_config,
    handle_out: *mut *mut afterimage,
) -> afterimage_status {
    boundary("afterimage_load_state", || {
        // SAFETY: the caller guarantees a NUL-terminated string.
        let path = unsafe { self::path(path, "path") }?;
        // SAFETY: the caller guarantees a valid config when non-NULL.
        let expected = unsafe { self::expected_config(expected_config) }?;
        if handle_out.is_null() {
            return Err(Failure::null("handle_out"));
        }
        let engine = state::load_from_path(path, expected.as_ref()).map_err(|error| {
            let failure = Failure::from(error);
            Failure::new(failure.status, format!("{}: {}", path.display(), failure.message))
        })?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        Ok(unsafe { give_handle(engine, handle_out) })
    })
}

/// Stores in `*size_out` the number of bytes afterimage_save_state_to_buffer needs now.
/// Another thread's update can change it before the save, so a caller sharing the
/// handle should leave room or retry on AFTERIMAGE_BUFFER_TOO_SMALL.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT or AFTERIMAGE_PANIC. Locks the
/// handle; the cost is that of serialising the state.
///
/// # Safety
/// `handle` must be NULL or live; `size_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_state_size(handle: *const afterimage, size_out: *mut usize) -> afterimage_status {
    boundary("afterimage_state_size", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { reference(handle, "handle") }?;
        if size_out.is_null() {
            return Err(Failure::null("size_out"));
        }
        let size = handle.with_engine(|engine| Ok(serialise(engine)?.len()))?;
        // SAFETY: non-NULL; the caller guarantees it is writable.
        unsafe { size_out.write(size) };
        Ok(AFTERIMAGE_OK)
    })
}

fn serialise(engine: &crate::Engine) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    state::save(engine, &mut bytes).map_err(|error| Failure::new(AFTERIMAGE_IO_ERROR, error.to_string()))?;
    Ok(bytes)
}

/// Writes the handle's state, in the file format, to `buffer`.
///
/// - `buffer`, `buffer_length`: caller memory.
/// - `written_out`: receives the number of bytes written; on
///   AFTERIMAGE_BUFFER_TOO_SMALL it receives the number needed, and buffer is untouched.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_BUFFER_TOO_SMALL or
/// AFTERIMAGE_PANIC. Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live; `buffer` must be NULL or point to `buffer_length`
/// writable bytes; `written_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_save_state_to_buffer(
    handle: *const afterimage,
    buffer: *mut u8,
    buffer_length: usize,
    written_out: *mut usize,
) -> afterimage_status {
    boundary("afterimage_save_state_to_buffer", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { reference(handle, "handle") }?;
        // SAFETY: the caller guarantees buffer_length writable bytes.
        let buffer = unsafe { slice_mut(buffer, buffer_length, "buffer") }?;
        if written_out.is_null() {
            return Err(Failure::null("written_out"));
        }
        let bytes = handle.with_engine(|engine| serialise(engine))?;
        if bytes.len() > buffer.len() {
            // SAFETY: non-NULL; the caller guarantees it is writable.
            unsafe { written_out.write(bytes.len()) };
            return Err(Failure::new(
                AFTERIMAGE_BUFFER_TOO_SMALL,
                format!("buffer holds {} bytes, but the state needs {}", buffer.len(), bytes.len()),
            ));
        }
        buffer[..bytes.len()].copy_from_slice(&bytes);
        // SAFETY: as above.
        unsafe { written_out.write(bytes.len()) };
        Ok(AFTERIMAGE_OK)
    })
}

/// Creates a handle from a state in memory written by afterimage_save_state_to_buffer
/// (or read from a file written by afterimage_save_state). `buffer` is borrowed for
/// the call. Other arguments and statuses as in afterimage_load_state, except that
/// there is no I/O error.
///
/// # Safety
/// `buffer` must be NULL or point to `buffer_length` readable bytes; `expected_config`
/// must be NULL or valid; `handle_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_load_state_from_buffer(
    buffer: *const u8,
    buffer_length: usize,
    expected_config: *const afterimage_config,
    handle_out: *mut *mut afterimage,
) -> afterimage_status {
    boundary("afterimage_load_state_from_buffer", || {
        if buffer.is_null() {
            return Err(Failure::null("buffer"));
        }
        // SAFETY: non-NULL; the caller guarantees buffer_length readable bytes.
        let bytes = unsafe { slice(buffer, buffer_length, "buffer") }?;
        // SAFETY: the caller guarantees a valid config when non-NULL.
        let expected = unsafe { self::expected_config(expected_config) }?;
        if handle_out.is_null() {
            return Err(Failure::null("handle_out"));
        }
        let engine = state::load_from_bytes(bytes, expected.as_ref())?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        Ok(unsafe { give_handle(engine, handle_out) })
    })
}
