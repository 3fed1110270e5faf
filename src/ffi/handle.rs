//! The engine handle: creation, updates, peeks, feature names and counters.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::engine::{Config, Engine, LimitPolicy, DEFAULT_CLEANING_INTERVAL, DEFAULT_DECAY_FACTORS, MAX_DECAY_FACTORS};
use crate::parse::parse_frame;

use super::status::*;
use super::vector::{afterimage_vector, timestamp_seconds, vector_argument, vector_from_c};
use super::{boundary, copy_string, panic_message, reference, slice, slice_mut};

/// An AfterImage engine. Opaque: create it with afterimage_new or a load call, free it
/// with afterimage_free.
///
/// Every call locks the handle's mutex for its duration, so one handle may be shared
/// by threads, whose calls then run one at a time in the order the lock admits them.
/// Threads sharing one handle therefore contend for the lock on every packet. A handle
/// per thread (per traffic source) runs in parallel, but then each handle's statistics
/// cover only the packets given to it.
pub struct afterimage {
    engine: Mutex<Engine>,
    /// Set when a call panicked while holding the engine, whose state may then be
    /// half updated.
    poisoned: AtomicBool,
}

impl afterimage {
    pub(crate) fn new(engine: Engine) -> afterimage {
        afterimage { engine: Mutex::new(engine), poisoned: AtomicBool::new(false) }
    }

    /// Runs `action` on the locked engine. A panic inside marks the handle as poisoned.
    pub(crate) fn with_engine<R>(&self, action: impl FnOnce(&mut Engine) -> Result<R, Failure>) -> Result<R, Failure> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Failure::new(
                AFTERIMAGE_PANIC,
                "an earlier call on this handle panicked, so its state is unreliable; free it and create a new one",
            ));
        }
        let mut engine = self.engine.lock();
        match catch_unwind(AssertUnwindSafe(|| action(&mut engine))) {
            Ok(result) => result,
            Err(payload) => {
                self.poisoned.store(true, Ordering::Release);
                Err(Failure::new(AFTERIMAGE_PANIC, panic_message(payload.as_ref())))
            }
        }
    }
}

/// Values of afterimage_config.limit_policy.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum afterimage_limit_policy {
    /// A vector that needs more records than the limit allows is rejected with
    /// AFTERIMAGE_RECORD_LIMIT, and nothing changes.
    AFTERIMAGE_LIMIT_REJECT = 0,
    /// The least recently updated records are removed to make room.
    AFTERIMAGE_LIMIT_EVICT = 1,
}

/// Engine settings. Fill it with afterimage_config_default, then change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct afterimage_config {
    /// sizeof(afterimage_config) as the caller compiled it; lets later library versions
    /// add fields without breaking callers built against this header.
    pub struct_size: usize,
    /// Decay factors λ in 1/s; a window's weight halves every 1/λ seconds. Copied by
    /// afterimage_new, so the array only has to live for that call.
    pub decay_factors: *const f64,
    /// Number of decay factors, 1 to 64. Each one gives 20 features.
    pub decay_factor_count: usize,
    /// Maximum number of live records, or 0 for no limit.
    pub record_limit: u64,
    /// An afterimage_limit_policy value.
    pub limit_policy: u32,
    /// Records whose weights have all decayed below 1e-3 are removed after every this
    /// many updates; at least 1.
    pub cleaning_interval: u64,
}

/// Database counters of a handle.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct afterimage_database_stats {
    /// Stored 1D records. Records that a cleaning round in progress removes are counted
    /// until the round reaches them (a round is spread over the following updates).
    pub records: u64,
    /// Live 2D links between records.
    pub links: u64,
    /// Bytes held by records, links and indexes (an estimate from capacities, memory
    /// reserved by afterimage_preallocate included).
    pub bytes: u64,
    /// Vectors processed by updates since the engine was created, counting those
    /// before a saved state was loaded.
    pub vectors_processed: u64,
}

/// Converts a C config, checking its size and every field.
///
/// # Safety
/// `config.decay_factors` must point to `decay_factor_count` doubles when non-NULL.
pub(crate) unsafe fn config_from_c(config: &afterimage_config) -> Result<Config, Failure> {
    let expected = std::mem::size_of::<afterimage_config>();
    if config.struct_size != expected {
        return Err(Failure::invalid(format!(
            "config.struct_size is {}, but this library's afterimage_config has {expected} bytes; set it to sizeof(afterimage_config) (afterimage_config_default does) and use the header that matches the library",
            config.struct_size
        )));
    }
    if config.decay_factor_count > MAX_DECAY_FACTORS {
        return Err(Failure::invalid(format!(
            "config.decay_factor_count is {}; at most {MAX_DECAY_FACTORS} decay factors are supported",
            config.decay_factor_count
        )));
    }
    // SAFETY: the caller guarantees decay_factor_count doubles at a non-NULL pointer.
    let decay_factors = unsafe { slice(config.decay_factors, config.decay_factor_count, "config.decay_factors") }?;
    let limit_policy = match config.limit_policy {
        0 => LimitPolicy::Reject,
        1 => LimitPolicy::Evict,
        other => {
            return Err(Failure::invalid(format!(
                "config.limit_policy is {other}; use AFTERIMAGE_LIMIT_REJECT (0) or AFTERIMAGE_LIMIT_EVICT (1)"
            )))
        }
    };
    let converted = Config {
        decay_factors: decay_factors.to_vec(),
        record_limit: (config.record_limit != 0).then_some(config.record_limit),
        limit_policy,
        cleaning_interval: config.cleaning_interval,
    };
    converted.validate()?;
    Ok(converted)
}

/// Fills `config` with the reference's settings: decay factors 5, 3, 1, 0.1 and 0.01
/// (pointing to a static array, never freed), no record limit, policy reject,
/// cleaning after every 5000 updates, and struct_size = sizeof(afterimage_config).
///
/// `config_size` must be sizeof(afterimage_config); it guards against a header that
/// does not match the library. Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT or
/// AFTERIMAGE_INVALID_ARGUMENT (wrong config_size; nothing written).
///
/// # Safety
/// `config` must be NULL or point to `config_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn afterimage_config_default(config: *mut afterimage_config, config_size: usize) -> afterimage_status {
    boundary("afterimage_config_default", || {
        if config.is_null() {
            return Err(Failure::null("config"));
        }
        let expected = std::mem::size_of::<afterimage_config>();
        if config_size != expected {
            return Err(Failure::invalid(format!(
                "config_size is {config_size}, but this library's afterimage_config has {expected} bytes; pass sizeof(afterimage_config) and use the header that matches the library"
            )));
        }
        let defaults = afterimage_config {
            struct_size: expected,
            decay_factors: DEFAULT_DECAY_FACTORS.as_ptr(),
            decay_factor_count: DEFAULT_DECAY_FACTORS.len(),
            record_limit: 0,
            limit_policy: afterimage_limit_policy::AFTERIMAGE_LIMIT_REJECT as u32,
            cleaning_interval: DEFAULT_CLEANING_INTERVAL,
        };
        // SAFETY: non-NULL and, as checked, as large as the struct; the caller
        // guarantees it is writable.
        unsafe { config.write(defaults) };
        Ok(AFTERIMAGE_OK)
    })
}

/// Stores a new handle in `*handle_out`.
///
/// # Safety
/// `handle_out` must be writable.
pub(crate) unsafe fn give_handle(engine: Engine, handle_out: *mut *mut afterimage) -> afterimage_status {
    let handle = Box::into_raw(Box::new(afterimage::new(engine)));
    // SAFETY: the caller checked it is non-NULL and guarantees it is writable.
    unsafe { handle_out.write(handle) };
    AFTERIMAGE_OK
}

/// Creates an engine with no records and stores its handle in `*handle_out`.
///
/// - `config`: borrowed for the call (decay factors are copied).
/// - `handle_out`: receives a handle that the caller owns and must release with
///   afterimage_free; left untouched on failure.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT or AFTERIMAGE_INVALID_ARGUMENT
/// (wrong struct_size, no or too many decay factors, a factor that is not a finite
/// number above 0, an unknown policy, cleaning interval 0).
///
/// # Safety
/// `config` must be NULL or point to a valid afterimage_config; `handle_out` must be
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_new(
    config: *const afterimage_config,
    handle_out: *mut *mut afterimage,
) -> afterimage_status {
    boundary("afterimage_new", || {
        // SAFETY: the caller guarantees a valid config when non-NULL.
        let config = unsafe { reference(config, "config") }?;
        if handle_out.is_null() {
            return Err(Failure::null("handle_out"));
        }
        // SAFETY: the config's decay factor pointer is covered by the same guarantee.
        let config = unsafe { config_from_c(config) }?;
        let engine = Engine::new(config)?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        Ok(unsafe { give_handle(engine, handle_out) })
    })
}

/// Frees a handle and everything it owns. NULL is a no-op. The handle must not be in
/// use by another thread, and must not be used after this call.
///
/// # Safety
/// `handle` must be NULL or a handle from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn afterimage_free(handle: *mut afterimage) {
    boundary("afterimage_free", || {
        if !handle.is_null() {
            // SAFETY: the caller guarantees it came from Box::into_raw in this library
            // and is freed only once.
            drop(unsafe { Box::from_raw(handle) });
        }
        Ok(AFTERIMAGE_OK)
    });
}

/// Borrows a handle argument.
///
/// # Safety
/// A non-NULL `handle` must be a live handle from this library.
unsafe fn handle_ref<'a>(handle: *const afterimage) -> Result<&'a afterimage, Failure> {
    // SAFETY: the caller guarantees a live handle; all mutation goes through its mutex.
    unsafe { reference(handle, "handle") }
}

/// Updates the statistics with one traffic vector and writes its features.
///
/// - `vector`: borrowed for the call.
/// - `features`, `features_length`: caller buffer of at least afterimage_feature_count
///   doubles; receives 20 values per decay factor, in afterimage_feature_name order.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (a
/// field out of range, a timestamp that is NaN or infinite),
/// AFTERIMAGE_BUFFER_TOO_SMALL, AFTERIMAGE_RECORD_LIMIT or AFTERIMAGE_PANIC. On
/// failure no statistic changes (records that cleaning had already made due may be
/// freed) and features is not written. Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live; `vector` must be NULL or valid, with its raw
/// pointers valid; `features` must be NULL or point to `features_length` writable
/// doubles.
#[no_mangle]
pub unsafe extern "C" fn afterimage_update_vector(
    handle: *mut afterimage,
    vector: *const afterimage_vector,
    features: *mut f64,
    features_length: usize,
) -> afterimage_status {
    boundary("afterimage_update_vector", || {
        // SAFETY: the caller guarantees each pointer as documented above.
        let handle = unsafe { handle_ref(handle) }?;
        // SAFETY: as above.
        let vector = unsafe { vector_argument(vector, "vector") }?;
        // SAFETY: as above.
        let features = unsafe { slice_mut(features, features_length, "features") }?;

        handle.with_engine(|engine| {
            engine.update(&vector, features)?;
            Ok(AFTERIMAGE_OK)
        })
    })
}

/// Parses a captured frame as afterimage_parse_packet does and, unless it is skipped,
/// updates the statistics with its vector and writes its features. The features equal
/// the row `afterimage extract` writes for that packet.
///
/// Arguments as in afterimage_parse_packet and afterimage_update_vector. Returns
/// AFTERIMAGE_OK, AFTERIMAGE_SKIPPED_PACKET (nothing changed, features not written,
/// last error unchanged), AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT,
/// AFTERIMAGE_BUFFER_TOO_SMALL, AFTERIMAGE_RECORD_LIMIT or AFTERIMAGE_PANIC. Parsing
/// runs before the handle is locked.
///
/// # Safety
/// `handle` must be NULL or live; `frame` must point to `frame_length` readable bytes;
/// `features` must be NULL or point to `features_length` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn afterimage_update_packet(
    handle: *mut afterimage,
    link_type: u32,
    frame: *const u8,
    frame_length: usize,
    seconds: u64,
    fraction: u64,
    resolution_exponent: u32,
    features: *mut f64,
    features_length: usize,
) -> afterimage_status {
    boundary("afterimage_update_packet", || {
        // SAFETY: the caller guarantees each pointer as documented above.
        let handle = unsafe { handle_ref(handle) }?;
        // SAFETY: as above.
        let frame = unsafe { slice(frame, frame_length, "frame") }?;
        // SAFETY: as above.
        let features = unsafe { slice_mut(features, features_length, "features") }?;
        let timestamp = timestamp_seconds(seconds, fraction, resolution_exponent)?;

        let Ok(vector) = parse_frame(link_type, frame, timestamp) else {
            return Ok(AFTERIMAGE_SKIPPED_PACKET);
        };
        handle.with_engine(|engine| {
            engine.update(&vector, features)?;
            Ok(AFTERIMAGE_OK)
        })
    })
}

/// Computes the features that updating with each vector in turn would give, without
/// changing the engine (as if updating a copy, cleaning rounds included).
///
/// - `vectors`, `vector_count`: borrowed for the call; NULL is accepted with count 0.
/// - `features`, `features_length`: at least vector_count × afterimage_feature_count
///   doubles; row i contains vector i's features.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (the
/// message names the vector's index), AFTERIMAGE_BUFFER_TOO_SMALL,
/// AFTERIMAGE_RECORD_LIMIT (some vector would hit the limit; nothing written) or
/// AFTERIMAGE_PANIC. Locks the handle; the cost grows with vector_count, not with the
/// number of records.
///
/// # Safety
/// `handle` must be NULL or live; `vectors` must point to `vector_count` valid vectors;
/// `features` must be NULL or point to `features_length` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn afterimage_peek_vectors(
    handle: *const afterimage,
    vectors: *const afterimage_vector,
    vector_count: usize,
    features: *mut f64,
    features_length: usize,
) -> afterimage_status {
    boundary("afterimage_peek_vectors", || {
        // SAFETY: the caller guarantees each pointer as documented above.
        let handle = unsafe { handle_ref(handle) }?;
        // SAFETY: as above.
        let vectors = unsafe { slice(vectors, vector_count, "vectors") }?;
        // SAFETY: as above.
        let features = unsafe { slice_mut(features, features_length, "features") }?;
        let mut converted = Vec::with_capacity(vectors.len());
        for (index, vector) in vectors.iter().enumerate() {
            // SAFETY: each vector's raw pointers are covered by the caller's guarantee.
            converted.push(unsafe { vector_from_c(vector, &format!("vectors[{index}]")) }?);
        }

        handle.with_engine(|engine| {
            let needed = engine.feature_count() * converted.len();
            if features.len() < needed {
                return Err(Failure::new(
                    AFTERIMAGE_BUFFER_TOO_SMALL,
                    format!("features holds {} values, but {needed} are needed ({} vectors × {} features)", features.len(), converted.len(), engine.feature_count()),
                ));
            }
            // The engine may fail part-way (record limit), so write the caller's buffer
            // only once every row is known.
            let mut rows = vec![0.0; needed];
            engine.peek(&converted, &mut rows)?;
            features[..needed].copy_from_slice(&rows);
            Ok(AFTERIMAGE_OK)
        })
    })
}

/// Stores the number of features per vector (20 per decay factor) in `*count_out`.
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT or AFTERIMAGE_PANIC. Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live; `count_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_feature_count(handle: *const afterimage, count_out: *mut usize) -> afterimage_status {
    boundary("afterimage_feature_count", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { handle_ref(handle) }?;
        if count_out.is_null() {
            return Err(Failure::null("count_out"));
        }
        let count = handle.with_engine(|engine| Ok(engine.feature_count()))?;
        // SAFETY: non-NULL; the caller guarantees it is writable.
        unsafe { count_out.write(count) };
        Ok(AFTERIMAGE_OK)
    })
}

/// Copies the name of feature `index` (0-based, below afterimage_feature_count), such
/// as "Channel_0.1_pcc", with a terminating NUL into `buffer`. Names are ASCII and at
/// most 64 bytes with the NUL.
///
/// `name_length` may be NULL; when not, it receives the name's length without the NUL,
/// also on AFTERIMAGE_BUFFER_TOO_SMALL. Returns AFTERIMAGE_OK,
/// AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (index out of range) or
/// AFTERIMAGE_BUFFER_TOO_SMALL (nothing written to buffer). Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live; `buffer` must be NULL or point to `buffer_length`
/// writable bytes; `name_length` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_feature_name(
    handle: *const afterimage,
    index: usize,
    buffer: *mut c_char,
    buffer_length: usize,
    name_length: *mut usize,
) -> afterimage_status {
    boundary("afterimage_feature_name", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { handle_ref(handle) }?;
        let name = handle.with_engine(|engine| {
            let count = engine.feature_count();
            if index >= count {
                return Err(Failure::invalid(format!("index {index} is out of range; this handle has {count} features")));
            }
            Ok(engine.config().feature_names().swap_remove(index))
        })?;
        let name = CString::new(name).map_err(|_| Failure::new(AFTERIMAGE_PANIC, "a feature name contains NUL"))?;
        // SAFETY: the caller guarantees buffer and name_length as documented above.
        unsafe { copy_string(name.as_bytes_with_nul(), buffer, buffer_length, name_length) }
    })
}

/// Allocates the memory of `records` records (and as many links) now and has the
/// kernel map it, so that no later update waits for fresh memory until the store
/// contains more than that. Call it once after afterimage_new in a packet path with a
/// latency budget. It takes about 340 bytes per record with the default decay factors.
/// Features never depend on it.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (a count
/// above 4,294,967,294, one whose memory exceeds half of the machine's physical memory,
/// or one that the allocator cannot provide) or AFTERIMAGE_PANIC. Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn afterimage_preallocate(handle: *mut afterimage, records: u64) -> afterimage_status {
    boundary("afterimage_preallocate", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { handle_ref(handle) }?;
        handle.with_engine(|engine| {
            engine.preallocate(records).map_err(|error| Failure::invalid(error.to_string()))?;
            Ok(AFTERIMAGE_OK)
        })
    })
}

/// Stores the handle's database counters in `*stats_out`. Returns AFTERIMAGE_OK,
/// AFTERIMAGE_NULL_ARGUMENT or AFTERIMAGE_PANIC. Locks the handle.
///
/// # Safety
/// `handle` must be NULL or live; `stats_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn afterimage_stats(handle: *const afterimage, stats_out: *mut afterimage_database_stats) -> afterimage_status {
    boundary("afterimage_stats", || {
        // SAFETY: the caller guarantees a live handle.
        let handle = unsafe { handle_ref(handle) }?;
        if stats_out.is_null() {
            return Err(Failure::null("stats_out"));
        }
        let stats = handle.with_engine(|engine| Ok(engine.stats()))?;
        let converted = afterimage_database_stats {
            records: stats.records,
            links: stats.links,
            bytes: stats.bytes,
            vectors_processed: stats.updates,
        };
        // SAFETY: non-NULL; the caller guarantees it is writable.
        unsafe { stats_out.write(converted) };
        Ok(AFTERIMAGE_OK)
    })
}
