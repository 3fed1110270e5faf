//! The statistics engine: for each traffic vector, updates the damped statistics of
//! its streams and returns `20 × D` features, bit-identical to the Python reference.
//!
//! Streams per vector, in output order:
//! 1. `Src-MAC-IP`: 1D, key `srcMAC_srcIP`, value = frame size;
//! 2. `Jitter`: 1D, key `srcIP_dstIP`, value = time since that key's last update;
//! 3. `Channel`: 2D between `srcIP` (+size) and `dstIP` (−size);
//! 4. `Socket`: 2D between `srcIP_srcProtocol` and `dstIP_dstProtocol` (for ARP
//!    between `srcMAC` and `dstMAC`).
//!
//! After every `cleaning_interval`-th update, records whose weights have all decayed
//! below 1e-3 are removed with their links.

pub mod chunked;
pub mod keys;
pub mod stats;
pub mod store;

use std::collections::HashSet;

use foldhash::fast::RandomState;
use thiserror::Error;

use crate::vector::{Protocol, TrafficVector};
use keys::Key;
use stats::Sample;
pub use store::{Database, StoreStats};

/// Streams with one statistic per window: weight, mean, std.
pub const STREAMS_1D: [&str; 2] = ["Src-MAC-IP", "Jitter"];
/// Streams with seven statistics per window.
pub const STREAMS_2D: [&str; 2] = ["Channel", "Socket"];
const STATS_1D: [&str; 3] = ["weight", "mean", "std"];
const STATS_2D: [&str; 7] = ["weight", "mean", "std", "magnitude", "radius", "covariance", "pcc"];

/// The reference's decay factors (λ, in 1/s).
pub const DEFAULT_DECAY_FACTORS: [f64; 5] = [5.0, 3.0, 1.0, 0.1, 0.01];
/// The reference cleans after every 5000th update.
pub const DEFAULT_CLEANING_INTERVAL: u64 = 5000;
/// Features per decay factor.
pub const FEATURES_PER_DECAY: usize = 20;
/// Upper bound on the number of decay factors, so that buffers sized from it stay small.
pub const MAX_DECAY_FACTORS: usize = 64;

/// What happens when a vector needs more new records than the record limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitPolicy {
    /// The vector is rejected with [`UpdateError::RecordLimit`]; nothing changes.
    Reject,
    /// The least recently updated records are removed with their links to make room.
    Evict,
}

/// Engine settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Decay factors λ in 1/s: a window's weight halves every 1/λ seconds.
    pub decay_factors: Vec<f64>,
    /// Maximum number of live 1D records, or `None` for no limit.
    pub record_limit: Option<u64>,
    pub limit_policy: LimitPolicy,
    /// Cleaning runs after every this many updates.
    pub cleaning_interval: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            decay_factors: DEFAULT_DECAY_FACTORS.to_vec(),
            record_limit: None,
            limit_policy: LimitPolicy::Reject,
            cleaning_interval: DEFAULT_CLEANING_INTERVAL,
        }
    }
}

/// An invalid [`Config`].
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("no decay factors given; give at least one, for example 5,3,1,0.1,0.01")]
    NoDecayFactors,
    #[error("{count} decay factors given; at most {MAX_DECAY_FACTORS} are supported")]
    TooManyDecayFactors { count: usize },
    #[error("decay factor {value} is invalid: each must be a finite number greater than 0")]
    InvalidDecayFactor { value: f64 },
    #[error("cleaning interval 0 is invalid: give a number of updates of at least 1")]
    ZeroCleaningInterval,
    #[error("record limit {limit} is too small: one packet can need {MIN_RECORD_LIMIT} new records, so give at least {MIN_RECORD_LIMIT}")]
    RecordLimitTooSmall { limit: u64 },
}

/// A failed [`Engine::preallocate`].
#[derive(Debug, Error, PartialEq)]
pub enum PreallocateError {
    #[error(
        "cannot preallocate {records} records: they need about {needed_mib} MiB, more than half of this machine's {total_mib} MiB; give a smaller count"
    )]
    TooLarge { records: u64, needed_mib: u64, total_mib: u64 },
    #[error("cannot preallocate {records} records: at most {max} records fit in one store; give a smaller count")]
    TooMany { records: u64, max: u64 },
    #[error("cannot preallocate {records} records: {reason}; give a smaller count")]
    Failed { records: u64, reason: &'static str },
}

/// Minimum number of cleaning candidates that each update examines while rounds are
/// in progress. It keeps up with steady traffic, where each update creates at most six
/// records, and keeps the cleaning work of an update to about 5 µs (median) while
/// rounds remove a million records in the latency benchmark.
const CLEANING_STEP: usize = 8;

/// Cleaning intervals over which a round's candidates are spread: a round with more
/// than `CLEANING_STEP` candidates per update over this span examines more per update.
/// Later rounds queue behind a round still in progress.
const CLEANING_SPREAD_INTERVALS: u64 = 32;

/// Links of removed records that each update frees. Each update creates at most two
/// links, so the links waiting to be freed always drain.
const LINK_FREEING_STEP: usize = 64;

/// Largest record limit whose indexes are reserved up front.
const RESERVE_RECORDS_MAX: u64 = 4 << 20;

/// Smallest useful record limit: one vector can need six new records (MAC-IP, jitter,
/// two channel ends and two socket ends).
pub const MIN_RECORD_LIMIT: u64 = 6;

impl Config {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.decay_factors.is_empty() {
            return Err(ConfigError::NoDecayFactors);
        }
        if self.decay_factors.len() > MAX_DECAY_FACTORS {
            return Err(ConfigError::TooManyDecayFactors { count: self.decay_factors.len() });
        }
        if let Some(&value) = self.decay_factors.iter().find(|value| !(value.is_finite() && **value > 0.0)) {
            return Err(ConfigError::InvalidDecayFactor { value });
        }
        if self.cleaning_interval == 0 {
            return Err(ConfigError::ZeroCleaningInterval);
        }
        if let Some(limit) = self.record_limit.filter(|&limit| limit < MIN_RECORD_LIMIT) {
            return Err(ConfigError::RecordLimitTooSmall { limit });
        }
        Ok(())
    }

    /// Number of features per vector: 20 per decay factor.
    pub fn feature_count(&self) -> usize {
        FEATURES_PER_DECAY * self.decay_factors.len()
    }

    /// Feature column names, `{stream}_{decay}_{stat}`, with the decay factor printed
    /// as Python prints the reference's defaults (`5`, `0.1`).
    pub fn feature_names(&self) -> Vec<String> {
        let decay_names: Vec<String> = self.decay_factors.iter().map(|&factor| decay_name(factor)).collect();
        let mut names = Vec::with_capacity(self.feature_count());
        for stream in STREAMS_1D {
            for stat in STATS_1D {
                for decay in &decay_names {
                    names.push(format!("{stream}_{decay}_{stat}"));
                }
            }
        }
        for stream in STREAMS_2D {
            for stat in STATS_2D {
                for decay in &decay_names {
                    names.push(format!("{stream}_{decay}_{stat}"));
                }
            }
        }
        names
    }
}

/// Prints a decay factor as the reference's column names do: integral values without
/// a fraction (the defaults are Python ints), others in Python's shortest form.
pub fn decay_name(factor: f64) -> String {
    if factor.fract() == 0.0 && factor.abs() < 1e15 {
        format!("{}", factor as i64)
    } else {
        crate::output::python_float(factor)
    }
}

/// A rejected update or peek. The engine's state is unchanged.
#[derive(Debug, Error, PartialEq)]
pub enum UpdateError {
    #[error("timestamp {0} is invalid: timestamps must be finite numbers of seconds")]
    InvalidTimestamp(f64),
    #[error("the vector needs {needed} new records, but {live} of the limit of {limit} are in use; raise the limit or use the evict policy")]
    RecordLimit { limit: u64, live: u64, needed: u64 },
    #[error("output buffer holds {given} values, but {needed} are needed")]
    OutputTooSmall { given: usize, needed: usize },
}

/// The keys of one vector's records.
struct VectorKeys {
    mac_ip: Key,
    jitter: Key,
    channel_source: Key,
    channel_destination: Key,
    socket_source: Key,
    socket_destination: Key,
}

impl VectorKeys {
    fn new(vector: &TrafficVector) -> VectorKeys {
        let (socket_source, socket_destination) = if vector.src_protocol == Protocol::Arp {
            (Key::address(&vector.src_mac), Key::address(&vector.dst_mac))
        } else {
            (Key::socket(&vector.src_ip, vector.src_protocol), Key::socket(&vector.dst_ip, vector.dst_protocol))
        };
        VectorKeys {
            mac_ip: Key::address_pair(&vector.src_mac, &vector.src_ip),
            jitter: Key::address_pair(&vector.src_ip, &vector.dst_ip),
            channel_source: Key::address(&vector.src_ip),
            channel_destination: Key::address(&vector.dst_ip),
            socket_source,
            socket_destination,
        }
    }

    fn all(&self) -> [&Key; 6] {
        [
            &self.mac_ip,
            &self.jitter,
            &self.channel_source,
            &self.channel_destination,
            &self.socket_source,
            &self.socket_destination,
        ]
    }
}

/// Counters of an engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub records: u64,
    pub links: u64,
    pub bytes: u64,
    /// Vectors processed by `update` since the engine was created (or its state saved).
    pub updates: u64,
}

/// The AfterImage statistics engine.
#[derive(Clone)]
pub struct Engine {
    config: Config,
    database: Database,
    /// Number of updates so far; cleaning runs when it is a multiple of the interval.
    updates: u64,
    /// Timestamp of the latest update, if any.
    last_timestamp: Option<f64>,
    /// Live records not present in `database`: used by peek copies, 0 otherwise.
    uncopied_records: u64,
    /// For a peek copy: slots of the original engine that were copied or already
    /// counted as cleaned, so that no record is counted twice.
    accounted: HashSet<u32, RandomState>,
    /// Candidates each update examines for the cleaning rounds in progress.
    cleaning_step: usize,
    /// Minimum of `cleaning_step`, and links of removed records freed per update.
    min_cleaning_step: usize,
    link_freeing_step: usize,
}

impl Engine {
    /// Creates an engine with no records.
    pub fn new(config: Config) -> Result<Engine, ConfigError> {
        config.validate()?;
        let mut database = Database::new(&config.decay_factors);
        if let Some(limit) = config.record_limit {
            // Up to 4 Mi records the indexes are sized once (about 40 MB); past that
            // they grow as needed, so a huge limit does not reserve gigabytes.
            database.reserve(limit.min(RESERVE_RECORDS_MAX) as usize);
        }
        Ok(Engine::from_parts(config, database, 0, None))
    }

    /// Rebuilds an engine from restored parts (used by state loading).
    pub(crate) fn from_parts(config: Config, database: Database, updates: u64, last_timestamp: Option<f64>) -> Engine {
        Engine {
            config,
            database,
            updates,
            last_timestamp,
            uncopied_records: 0,
            accounted: HashSet::default(),
            cleaning_step: CLEANING_STEP,
            min_cleaning_step: CLEANING_STEP,
            link_freeing_step: LINK_FREEING_STEP,
        }
    }

    /// Allocates the memory of `records` records (and as many links) now and has the
    /// kernel map it, so that no update waits for fresh memory until the store grows
    /// past that size. With a million records, first use of fresh pages made some
    /// updates wait hundreds of microseconds. Takes about 340 bytes per record with
    /// the default five decay factors. Results never depend on this.
    ///
    /// Rejects a count above 4,294,967,294 (slot numbers are 32 bits) or whose memory
    /// exceeds half of the machine's physical memory.
    pub fn preallocate(&mut self, records: u64) -> Result<(), PreallocateError> {
        // Slot numbers are u32, with u32::MAX marking "none".
        let max = u64::from(u32::MAX - 1);
        if records > max {
            return Err(PreallocateError::TooMany { records, max });
        }
        let needed = records.saturating_mul(self.database.preallocated_bytes_per_record() as u64);
        if let Some(total) = physical_memory() {
            if needed > total / 2 {
                return Err(PreallocateError::TooLarge { records, needed_mib: needed >> 20, total_mib: total >> 20 });
            }
        }
        self.database.preallocate(records as usize).map_err(|reason| PreallocateError::Failed { records, reason })
    }

    /// Sets the least work each update does on cleaning rounds in progress (candidates
    /// examined) and on the links of removed records (links freed per update and on
    /// removal). Results never depend on these. Tests set them to 1 so that rounds and
    /// removals stay in progress over many updates.
    #[doc(hidden)]
    pub fn set_work_steps(&mut self, cleaning: usize, links: usize) {
        self.min_cleaning_step = cleaning.max(1);
        self.cleaning_step = self.min_cleaning_step;
        self.link_freeing_step = links.max(1);
        self.database.set_links_freed_on_removal(links.max(1));
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Number of features per vector.
    pub fn feature_count(&self) -> usize {
        self.config.feature_count()
    }

    pub fn updates(&self) -> u64 {
        self.updates
    }

    pub fn last_timestamp(&self) -> Option<f64> {
        self.last_timestamp
    }

    /// Record and link counts, bytes held and updates so far. Records that a cleaning
    /// round in progress removes are counted until it reaches them (see
    /// [`Engine::finish_cleaning`]), with their links. Links of records already removed
    /// are not counted, even while later updates are still freeing them.
    pub fn stats(&self) -> EngineStats {
        let store = self.database.stats();
        EngineStats { records: store.records, links: store.links, bytes: store.bytes, updates: self.updates }
    }

    /// Updates the statistics with one vector and writes its features to
    /// `out[..feature_count()]`. On error no statistic changes and `out` is not
    /// written. Looking for room under the record limit may still free records that
    /// cleaning had already made due.
    pub fn update(&mut self, vector: &TrafficVector, out: &mut [f64]) -> Result<(), UpdateError> {
        let needed = self.feature_count();
        if out.len() < needed {
            return Err(UpdateError::OutputTooSmall { given: out.len(), needed });
        }
        if !vector.timestamp.is_finite() {
            return Err(UpdateError::InvalidTimestamp(vector.timestamp));
        }
        let keys = VectorKeys::new(vector);
        self.make_room(&keys)?;
        self.apply(vector, &keys, &mut out[..needed], None);
        Ok(())
    }

    /// Returns, for each vector in order, what `update` would return on a copy of
    /// this engine, cleaning rounds included, and changes nothing. Writes
    /// `vectors.len() × feature_count()` values to `out`. The cost grows with the
    /// number of vectors (and the records that expire during them), not with the
    /// number of records stored.
    pub fn peek(&self, vectors: &[TrafficVector], out: &mut [f64]) -> Result<(), UpdateError> {
        let per_vector = self.feature_count();
        let needed = per_vector * vectors.len();
        if out.len() < needed {
            return Err(UpdateError::OutputTooSmall { given: out.len(), needed });
        }
        if let Some(vector) = vectors.iter().find(|vector| !vector.timestamp.is_finite()) {
            return Err(UpdateError::InvalidTimestamp(vector.timestamp));
        }
        let mut copy = self.copy_for(vectors);
        for (vector, chunk) in vectors.iter().zip(out.chunks_exact_mut(per_vector)) {
            let keys = VectorKeys::new(vector);
            copy.make_room(&keys)?;
            copy.apply(vector, &keys, chunk, Some(self));
        }
        Ok(())
    }

    /// Builds an engine holding copies of every record and link the vectors touch
    /// (plus the oldest records, which eviction may remove), so that updating the
    /// copy gives exactly the features that updating a full copy would.
    fn copy_for(&self, vectors: &[TrafficVector]) -> Engine {
        let mut database = Database::new(&self.config.decay_factors);
        let mut copied: Vec<(u32, u32)> = Vec::new();
        let mut copy_record = |database: &mut Database, original: u32| -> u32 {
            let key = &self.database.record(original).key;
            match database.find(key) {
                Some(slot) => slot,
                None => {
                    let slot = database.copy_record_from(&self.database, original);
                    copied.push((original, slot));
                    slot
                }
            }
        };
        // Records that the cleaning round in progress will remove count as removed.
        for vector in vectors {
            let keys = VectorKeys::new(vector);
            for key in keys.all() {
                if let Some(original) = self.database.find_if_live(key) {
                    copy_record(&mut database, original);
                }
            }
            for (source, destination) in
                [(&keys.channel_source, &keys.channel_destination), (&keys.socket_source, &keys.socket_destination)]
            {
                let (Some(first), Some(second)) = (self.database.find_if_live(source), self.database.find_if_live(destination))
                else {
                    continue;
                };
                if let Some(link) = self.database.find_link(first, second) {
                    let copy_first = copy_record(&mut database, first);
                    let copy_second = copy_record(&mut database, second);
                    if database.find_link(copy_first, copy_second).is_none() {
                        database.copy_link_from(&self.database, link, copy_first, copy_second);
                    }
                }
            }
        }
        if self.config.limit_policy == LimitPolicy::Evict && self.config.record_limit.is_some() {
            // NOTE: a batch that crosses a cleaning round which removes all of these
            // copies and then evicts again could reach records not copied here.
            for original in self.database.oldest_records(6 * vectors.len()) {
                if !self.database.removed_by_pending_round(original) {
                    copy_record(&mut database, original);
                }
            }
        }
        database.order_copies_by_sequence();
        database.set_sequence(self.database.sequence());
        let copied_count = copied.len() as u64;
        let mut accounted: HashSet<u32, RandomState> = copied.iter().map(|&(original, _)| original).collect();
        let mut uncopied_records = self.database.live_records() as u64 + self.uncopied_records - copied_count;
        if self.config.record_limit.is_some() {
            // Uncopied records the round in progress removes do not count either.
            let removed = self.database.pending_removals();
            let removed_uncopied: Vec<u32> = removed.into_iter().filter(|slot| !accounted.contains(slot)).collect();
            uncopied_records -= removed_uncopied.len() as u64;
            accounted.extend(removed_uncopied);
        }
        Engine {
            config: self.config.clone(),
            database,
            updates: self.updates,
            last_timestamp: self.last_timestamp,
            uncopied_records,
            accounted,
            cleaning_step: self.cleaning_step,
            min_cleaning_step: self.min_cleaning_step,
            link_freeing_step: self.link_freeing_step,
        }
    }

    /// Checks the record limit for a vector and, with the evict policy, removes the
    /// least recently updated records that the vector does not use.
    fn make_room(&mut self, keys: &VectorKeys) -> Result<(), UpdateError> {
        let Some(limit) = self.config.record_limit else { return Ok(()) };
        let all = keys.all();
        let mut needed = self.new_records_needed(&all);
        let mut live = self.database.live_records() as u64 + self.uncopied_records;
        // Records the round in progress removes still count until it reaches them, so
        // advance it until there is room or it ends.
        while live + needed > limit && self.database.cleaning_in_progress() {
            self.database.advance_cleaning(CLEANING_STEP);
            needed = self.new_records_needed(&all);
            live = self.database.live_records() as u64 + self.uncopied_records;
        }
        if live + needed <= limit {
            return Ok(());
        }
        if self.config.limit_policy == LimitPolicy::Reject || needed > limit {
            return Err(UpdateError::RecordLimit { limit, live, needed });
        }
        let used: Vec<u32> = all.iter().filter_map(|key| self.database.find(key)).collect();
        let mut excess = live + needed - limit;
        while excess > 0 {
            let Some(victim) = self.database.oldest_record(|slot| used.contains(&slot)) else {
                return Err(UpdateError::RecordLimit { limit, live, needed });
            };
            self.database.remove(victim);
            excess -= 1;
        }
        Ok(())
    }

    /// Counts the distinct keys of a vector that have no live record.
    fn new_records_needed(&mut self, all: &[&Key; 6]) -> u64 {
        let mut needed = 0u64;
        for (i, key) in all.iter().enumerate() {
            let repeated = all[..i].contains(key);
            if !repeated && self.database.find_live(key).is_none() {
                needed += 1;
            }
        }
        needed
    }

    /// Carries out the cleaning round in progress, if any, to its end. Results never
    /// depend on this; it only frees the memory of removed records now.
    pub fn finish_cleaning(&mut self) {
        self.database.finish_cleaning();
    }

    /// Applies one vector; the limit has been checked. `original` is the engine a peek
    /// copy was made from, whose uncopied records may expire during the peek.
    fn apply(&mut self, vector: &TrafficVector, keys: &VectorKeys, out: &mut [f64], original: Option<&Engine>) {
        let windows = self.config.decay_factors.len();
        let timestamp = vector.timestamp;
        let size = i64::from(vector.size);
        let database = &mut self.database;

        let mac_ip = database.insert(&keys.mac_ip, timestamp, Some(Sample::size(size)));
        stats::Stat1d::write_features(database.values(mac_ip), &mut out[..3 * windows]);

        let jitter = database.insert(&keys.jitter, timestamp, None);
        stats::Stat1d::write_features(database.values(jitter), &mut out[3 * windows..6 * windows]);

        update_2d(database, &keys.channel_source, &keys.channel_destination, timestamp, size, &mut out[6 * windows..13 * windows]);
        update_2d(database, &keys.socket_source, &keys.socket_destination, timestamp, size, &mut out[13 * windows..20 * windows]);

        // A state file may start the count anywhere, so it wraps rather than overflows.
        self.updates = self.updates.wrapping_add(1);
        self.last_timestamp = Some(timestamp);
        if self.updates % self.config.cleaning_interval == 0 {
            if let Some(original) = original {
                let removed = original.uncopied_outdated(&self.accounted, timestamp);
                self.uncopied_records = self.uncopied_records.saturating_sub(removed.len() as u64);
                self.accounted.extend(removed);
            }
            let candidates = self.database.start_cleaning(timestamp) as u64;
            // Spread the round over later updates, so that even a mass expiry is never
            // carried out in one update.
            let share = candidates.div_ceil(CLEANING_SPREAD_INTERVALS * self.config.cleaning_interval);
            self.cleaning_step = (self.min_cleaning_step as u64).max(share) as usize;
        } else {
            self.database.advance_cleaning(self.cleaning_step);
        }
        self.database.free_links_of_removed(self.link_freeing_step);
    }

    /// Returns this engine's records that are outdated at `timestamp` and not in
    /// `accounted`: the records a peek copy's cleaning round would remove from the
    /// part of the store it did not copy (needed only for the record limit).
    fn uncopied_outdated(&self, accounted: &HashSet<u32, RandomState>, timestamp: f64) -> Vec<u32> {
        if self.config.record_limit.is_none() {
            return Vec::new();
        }
        let mut multipliers = vec![0.0; self.config.decay_factors.len()];
        self.database
            .expiry_candidates(timestamp)
            .into_iter()
            .filter(|slot| !accounted.contains(slot))
            .filter(|&slot| self.database.is_outdated(slot, timestamp, &mut multipliers))
            .collect()
    }
}

/// Updates a 2D stream: the source gets `+size`, the destination `-size`, then their
/// link. Writes the source's 1D features (taken before the destination's update,
/// which matters for self-loops) and the link's features to `out[..7D]`.
#[inline]
fn update_2d(database: &mut Database, source: &Key, destination: &Key, timestamp: f64, size: i64, out: &mut [f64]) {
    let windows = database.windows();
    let source_slot = database.insert(source, timestamp, Some(Sample::size(size)));
    stats::Stat1d::write_features(database.values(source_slot), &mut out[..3 * windows]);
    let destination_slot = database.insert(destination, timestamp, Some(Sample::size(-size)));
    let link = database.link_between(source_slot, destination_slot, timestamp);
    database.update_link(link, timestamp, size as f64);
    database.write_link_features(link, &mut out[3 * windows..7 * windows]);
}

/// Returns the machine's physical memory in bytes, when the system reports it.
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf has no preconditions and only reads system settings.
    let (pages, page_size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages > 0 && page_size > 0).then(|| (pages as u64).saturating_mul(page_size as u64))
}
