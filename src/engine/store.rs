//! The record store: 1D statistics by key, 2D links between them, and the indexes
//! that make cleaning and eviction cost what they remove rather than the store's size.
//!
//! Records and links live in chunked slot arrays with free lists; their numbers
//! (`f64` sums) live in chunked rows. Each record heads a doubly linked list of its
//! links (threaded through the links themselves), so removing a record removes its
//! links in time proportional to their number without any per-record allocation.
//! A removed record with many links (a busy server) keeps its slot and the rest of
//! its list until later updates have freed them a few at a time. So no update waits
//! for tens of thousands of links. No lookup can reach them meanwhile, because the
//! record has left the key index.
//! An expiry index files every record under a conservative estimate of the time at
//! which all of its weights fall below the threshold. A cleaning round therefore only
//! looks at records filed at or before its timestamp, and applies the reference's
//! exact test to each.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::chunked::{Chunked, Rows};
use super::keys::Key;
use super::stats::{self, Sample, Stat1d, WEIGHT_THRESHOLD};

/// Marks the absence of a record in the recency list.
const NONE: u32 = u32::MAX;

/// Expiry buckets per second of capture time.
const BUCKETS_PER_SECOND: f64 = 16.0;

/// Links that removing a record frees at once by default. The rest wait in
/// [`Database::dying`].
const LINKS_FREED_ON_REMOVAL: usize = 8;

/// One 1D statistic's bookkeeping; its sums are in [`Database::values`].
#[derive(Clone, Debug)]
pub struct Record {
    pub key: Key,
    pub last_timestamp: f64,
    /// First link of this record's link list.
    first_link: u32,
    /// The expiry bucket the record is filed under when `filed`, and its neighbours
    /// in that bucket's list.
    expiry_bucket: i64,
    expiry_next: u32,
    expiry_previous: u32,
    filed: bool,
    /// Neighbours in the recency list (most recently updated first). A free slot
    /// keeps the next free slot in `older`.
    newer: u32,
    older: u32,
    /// Update order, used to order copies by recency.
    pub sequence: u64,
    /// Latest cleaning round this record was decided for (or created or updated in).
    checked_round: u64,
    pub live: bool,
}

/// One 2D link's bookkeeping; its residual sums are in [`Database::link_values`].
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub first: u32,
    pub second: u32,
    /// Neighbours in the link lists of `first` (index 0) and `second` (index 1). A
    /// self-loop (`first == second`) is in its record's list once, through index 0.
    /// A free slot keeps the next free slot in `next[0]`.
    next: [u32; 2],
    previous: [u32; 2],
    pub last_timestamp: f64,
    pub live: bool,
}

/// Counts and sizes of a store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub records: u64,
    pub links: u64,
    /// Bytes held by records, links and their indexes (an estimate from capacities).
    pub bytes: u64,
}

/// The 1D records and 2D links of one engine.
#[derive(Clone)]
pub struct Database {
    windows: usize,
    /// Index of the smallest decay factor, whose weight decays last.
    slowest_window: usize,
    decay: Vec<f64>,
    negated_decay: Vec<f64>,
    /// Record slots by key. The table stores only slot numbers and hashes the key
    /// kept in the record, so each key is stored once.
    index: HashTable<u32>,
    hasher: RandomState,
    records: Chunked<Record>,
    values: Rows,
    /// First free record slot. Free slots are chained through the slots themselves,
    /// so freeing never grows an array.
    free_records: u32,
    links: Chunked<Link>,
    link_values: Rows,
    free_links: u32,
    link_index: HashMap<(u32, u32), u32, RandomState>,
    /// Expiry buckets: the records filed under each form a list threaded through the
    /// records, so filing never grows or frees an array.
    expiry: HashMap<i64, ExpiryBucket, RandomState>,
    expiry_buckets: BTreeSet<i64>,
    newest: u32,
    oldest: u32,
    live_records: usize,
    /// Links not yet freed, those of removed records waiting in `dying` included.
    stored_links: usize,
    /// Removed records whose links are still being freed, each still heading the rest
    /// of its link list. Their slots are reused only once the list is empty.
    dying: Vec<u32>,
    links_freed_on_removal: usize,
    sequence: u64,
    /// The cleaning rounds in progress, oldest first (see [`Database::start_cleaning`]).
    pending: VecDeque<PendingRound>,
    /// Number of the latest cleaning round started.
    round: u64,
    /// Records decided for the round in progress whose new expiry estimate still falls
    /// in its range; they are filed again when the round ends.
    deferred: Vec<u32>,
    /// Recently computed decay multipliers by elapsed time: the records and links of
    /// one packet were often last updated by the same earlier packet, and the same
    /// `pow` inputs give the same outputs, so reusing them changes no bits.
    multiplier_cache: MultiplierCache,
}

/// The head and length of one expiry bucket's record list.
#[derive(Clone, Copy, Debug)]
struct ExpiryBucket {
    first: u32,
    len: u32,
}

/// A cleaning round whose removals are still being carried out.
#[derive(Clone, Copy, Debug)]
struct PendingRound {
    timestamp: f64,
    last_bucket: i64,
    round: u64,
}

/// Decay multipliers for the last few elapsed times, replaced round-robin.
#[derive(Clone)]
struct MultiplierCache {
    elapsed_bits: [u64; CACHED_ELAPSED],
    multipliers: Vec<f64>,
    next: usize,
}

const CACHED_ELAPSED: usize = 4;

impl MultiplierCache {
    fn new(windows: usize) -> MultiplierCache {
        // NaN bits never equal a positive elapsed time's bits, so empty entries miss.
        MultiplierCache { elapsed_bits: [f64::NAN.to_bits(); CACHED_ELAPSED], multipliers: vec![0.0; windows * CACHED_ELAPSED], next: 0 }
    }

    /// Returns the multipliers `2^(-λ·elapsed)` for a positive elapsed time.
    #[inline]
    fn get(&mut self, negated_decay: &[f64], elapsed: f64) -> &[f64] {
        let windows = negated_decay.len();
        let bits = elapsed.to_bits();
        let entry = match self.elapsed_bits.iter().position(|&cached| cached == bits) {
            Some(entry) => entry,
            None => {
                let entry = self.next;
                self.next = (self.next + 1) % CACHED_ELAPSED;
                self.elapsed_bits[entry] = bits;
                stats::decay_multipliers(negated_decay, elapsed, &mut self.multipliers[entry * windows..(entry + 1) * windows]);
                entry
            }
        };
        &self.multipliers[entry * windows..(entry + 1) * windows]
    }
}

impl Database {
    /// Creates an empty store for the given decay factors (all positive and finite).
    pub fn new(decay: &[f64]) -> Database {
        Database {
            windows: decay.len(),
            decay: decay.to_vec(),
            negated_decay: decay.iter().map(|factor| -factor).collect(),
            index: HashTable::new(),
            hasher: RandomState::default(),
            records: Chunked::default(),
            values: Rows::new(3 * decay.len()),
            free_records: NONE,
            links: Chunked::default(),
            link_values: Rows::new(decay.len()),
            free_links: NONE,
            link_index: HashMap::default(),
            expiry: HashMap::default(),
            expiry_buckets: BTreeSet::new(),
            newest: NONE,
            oldest: NONE,
            live_records: 0,
            stored_links: 0,
            dying: Vec::new(),
            links_freed_on_removal: LINKS_FREED_ON_REMOVAL,
            sequence: 0,
            pending: VecDeque::new(),
            round: 0,
            deferred: Vec::new(),
            multiplier_cache: MultiplierCache::new(decay.len()),
            slowest_window: slowest_window(decay),
        }
    }

    /// Sizes the record and link indexes for `records` records up front, so that no
    /// update has to wait for an index to grow (a rehash of a million entries takes
    /// milliseconds).
    pub fn reserve(&mut self, records: usize) {
        let records_by_slot = &self.records;
        let hasher = &self.hasher;
        self.index.reserve(records, |&slot| hasher.hash_one(&records_by_slot[slot as usize].key));
        self.link_index.reserve(records);
    }

    /// Sets how many links removing a record frees at once (at least 1).
    pub fn set_links_freed_on_removal(&mut self, links: usize) {
        self.links_freed_on_removal = links.max(1);
    }

    /// Allocates the storage and indexes of `records` records and as many links, and
    /// has the kernel map its pages now, so that no later update waits for memory
    /// until the store grows past that size. Returns the reason when memory runs out.
    pub fn preallocate(&mut self, records: usize) -> Result<(), &'static str> {
        let failed = |_| "memory allocation failed";
        self.records.reserve_mapped(records).map_err(failed)?;
        self.values.reserve_mapped(records).map_err(failed)?;
        self.links.reserve_mapped(records).map_err(failed)?;
        self.link_values.reserve_mapped(records).map_err(failed)?;
        let records_by_slot = &self.records;
        let hasher = &self.hasher;
        let needed = records.saturating_sub(self.index.len());
        self.index
            .try_reserve(needed, |&slot| hasher.hash_one(&records_by_slot[slot as usize].key))
            .map_err(|_| "memory allocation failed")?;
        self.link_index.try_reserve(records.saturating_sub(self.link_index.len())).map_err(failed)
    }

    /// Estimates the bytes that [`Database::preallocate`] takes per record.
    pub fn preallocated_bytes_per_record(&self) -> usize {
        use std::mem::size_of;
        size_of::<Record>() + size_of::<Link>() + 4 * self.windows * size_of::<f64>() + 2 * (size_of::<u32>() + 1) * 2
            + (size_of::<((u32, u32), u32)>() + 1) * 2
    }

    pub fn windows(&self) -> usize {
        self.windows
    }

    pub fn live_records(&self) -> usize {
        self.live_records
    }

    /// Counts the links between live records (read-only). Links of removed records
    /// that are still being freed are left out, so the count never depends on how far
    /// freeing has got.
    pub fn live_links(&self) -> usize {
        let mut dead = 0;
        for &slot in &self.dying {
            let mut link_slot = self.records[slot as usize].first_link;
            while link_slot != NONE {
                let link = &self.links[link_slot as usize];
                let end = self.end_of(link_slot, slot);
                let other = if end == 0 { link.second } else { link.first };
                // A link between two removed records is on both lists: count it once.
                if self.records[other as usize].live || other <= slot {
                    dead += 1;
                }
                link_slot = link.next[end];
            }
        }
        self.stored_links - dead
    }

    /// Returns the slot of the record with `key`.
    #[inline]
    pub fn find(&self, key: &Key) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.index.find(hash, |&slot| self.records[slot as usize].key == *key).copied()
    }

    fn index_insert(&mut self, slot: u32) {
        let records = &self.records;
        let hasher = &self.hasher;
        let hash = hasher.hash_one(&records[slot as usize].key);
        self.index.insert_unique(hash, slot, |&other| hasher.hash_one(&records[other as usize].key));
    }

    fn index_remove(&mut self, slot: u32) {
        let hash = self.hasher.hash_one(&self.records[slot as usize].key);
        if let Ok(entry) = self.index.find_entry(hash, |&other| other == slot) {
            entry.remove();
        }
    }

    pub fn record(&self, slot: u32) -> &Record {
        &self.records[slot as usize]
    }

    /// Returns the sums of a record: `[w; D]`, `[s; D]`, `[q; D]`.
    #[inline]
    pub fn values(&self, slot: u32) -> &[f64] {
        self.values.row(slot as usize)
    }

    pub fn link(&self, slot: u32) -> &Link {
        &self.links[slot as usize]
    }

    pub fn link_residuals(&self, slot: u32) -> &[f64] {
        self.link_values.row(slot as usize)
    }

    /// Returns the slot of the link between two records, in either order.
    pub fn find_link(&self, first: u32, second: u32) -> Option<u32> {
        self.link_index.get(&link_key(first, second)).copied()
    }

    /// Live record slots, in slot order.
    pub fn live_record_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.records.iter().enumerate().filter(|(_, record)| record.live).map(|(slot, _)| slot as u32)
    }

    /// Slots of the links between live records, in slot order.
    pub fn live_link_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.live && self.records[link.first as usize].live && self.records[link.second as usize].live)
            .map(|(slot, _)| slot as u32)
    }

    /// Adds a sample to the record with `key`, creating it if needed, and returns the
    /// record's slot. A `None` sample stands for the jitter, which is the time since
    /// the record's last update (0 when new).
    #[inline]
    pub fn insert(&mut self, key: &Key, timestamp: f64, sample: Option<Sample>) -> u32 {
        match self.find_live(key) {
            Some(slot) => {
                self.add_sample(slot, timestamp, sample);
                slot
            }
            None => {
                let sample = sample.unwrap_or_else(|| Sample::jitter(0.0));
                self.create(key.clone(), timestamp, sample)
            }
        }
    }

    fn add_sample(&mut self, slot: u32, timestamp: f64, sample: Option<Sample>) {
        let last = self.records[slot as usize].last_timestamp;
        let sample = sample.unwrap_or_else(|| Sample::jitter(timestamp - last));
        let elapsed = timestamp - last;
        let values = self.values.row_mut(slot as usize);
        // The reference skips decay when time goes backwards; with no elapsed time the
        // multipliers are exactly 1, so skipping them changes no bits.
        if elapsed > 0.0 {
            Stat1d::decay(values, self.multiplier_cache.get(&self.negated_decay, elapsed));
        }
        Stat1d::add(values, sample);
        self.records[slot as usize].last_timestamp = timestamp;
        self.records[slot as usize].checked_round = self.round;
        self.touch(slot);
        // An update forward in time never moves a record's expiry earlier, so its
        // filing stays a valid lower bound; an update back in time may. A record set
        // aside by the cleaning round in progress is not filed at all.
        if !(elapsed >= 0.0) || !self.records[slot as usize].filed {
            self.refile_expiry(slot);
        }
    }

    fn create(&mut self, key: Key, timestamp: f64, sample: Sample) -> u32 {
        let record = Record {
            key,
            last_timestamp: timestamp,
            first_link: NONE,
            expiry_bucket: 0,
            expiry_next: NONE,
            expiry_previous: NONE,
            filed: false,
            newer: NONE,
            older: NONE,
            sequence: 0,
            checked_round: self.round,
            live: true,
        };
        let slot = if self.free_records != NONE {
            let slot = self.free_records;
            self.free_records = self.records[slot as usize].older;
            self.records[slot as usize] = record;
            slot
        } else {
            self.values.push_zeros();
            self.records.push(record) as u32
        };
        Stat1d::init(self.values.row_mut(slot as usize), sample);
        self.index_insert(slot);
        self.live_records += 1;
        self.touch(slot);
        self.refile_expiry(slot);
        slot
    }

    /// Files a just-updated record as the most recent.
    fn touch(&mut self, slot: u32) {
        self.sequence += 1;
        self.records[slot as usize].sequence = self.sequence;
        if self.newest != slot {
            self.unlink_recency(slot);
            self.link_recency_newest(slot);
        }
    }

    fn unlink_recency(&mut self, slot: u32) {
        let (newer, older) = {
            let record = &self.records[slot as usize];
            (record.newer, record.older)
        };
        let is_listed = newer != NONE || older != NONE || self.newest == slot;
        if !is_listed {
            return;
        }
        if newer == NONE {
            self.newest = older;
        } else {
            self.records[newer as usize].older = older;
        }
        if older == NONE {
            self.oldest = newer;
        } else {
            self.records[older as usize].newer = newer;
        }
        let record = &mut self.records[slot as usize];
        record.newer = NONE;
        record.older = NONE;
    }

    fn link_recency_newest(&mut self, slot: u32) {
        let previous = self.newest;
        {
            let record = &mut self.records[slot as usize];
            record.newer = NONE;
            record.older = previous;
        }
        if previous == NONE {
            self.oldest = slot;
        } else {
            self.records[previous as usize].newer = slot;
        }
        self.newest = slot;
    }

    /// Returns a time at or before the first time at which every weight of the record
    /// is below the threshold: `log2(w / threshold) / λ` after its last update, for
    /// the window with the smallest λ, less a margin far wider than the rounding error
    /// of `pow`. That window's weight is the largest and decays slowest (every window
    /// gets the same +1 per update), so it is the last to fall below the threshold.
    fn expiry_estimate(&self, slot: u32) -> f64 {
        let weight = self.values(slot)[self.slowest_window];
        let needed = if weight >= WEIGHT_THRESHOLD {
            (weight / WEIGHT_THRESHOLD).log2() / self.decay[self.slowest_window]
        } else {
            0.0
        };
        self.records[slot as usize].last_timestamp + needed * (1.0 - 1e-6) - 1e-6
    }

    fn refile_expiry(&mut self, slot: u32) {
        let bucket = bucket_of(self.expiry_estimate(slot));
        let record = &self.records[slot as usize];
        if record.filed && record.expiry_bucket == bucket {
            return;
        }
        self.unfile_expiry(slot);
        let entry = self.expiry.entry(bucket).or_insert(ExpiryBucket { first: NONE, len: 0 });
        let next = entry.first;
        entry.first = slot;
        entry.len += 1;
        if next == NONE {
            self.expiry_buckets.insert(bucket);
        } else {
            self.records[next as usize].expiry_previous = slot;
        }
        let record = &mut self.records[slot as usize];
        record.expiry_bucket = bucket;
        record.expiry_next = next;
        record.expiry_previous = NONE;
        record.filed = true;
    }

    fn unfile_expiry(&mut self, slot: u32) {
        let record = &self.records[slot as usize];
        if !record.filed {
            return;
        }
        let (bucket, next, previous) = (record.expiry_bucket, record.expiry_next, record.expiry_previous);
        if next != NONE {
            self.records[next as usize].expiry_previous = previous;
        }
        if previous != NONE {
            self.records[previous as usize].expiry_next = next;
        }
        let entry = self.expiry.get_mut(&bucket).expect("a filed record's bucket exists");
        entry.len -= 1;
        if previous == NONE {
            entry.first = next;
        }
        if entry.len == 0 {
            self.expiry.remove(&bucket);
            self.expiry_buckets.remove(&bucket);
        }
        self.records[slot as usize].filed = false;
    }

    /// Lists the records filed under `bucket`.
    fn bucket_records(&self, bucket: i64) -> impl Iterator<Item = u32> + '_ {
        let mut slot = self.expiry.get(&bucket).map_or(NONE, |entry| entry.first);
        std::iter::from_fn(move || {
            let current = slot;
            (current != NONE).then(|| {
                slot = self.records[current as usize].expiry_next;
                current
            })
        })
    }

    /// Returns the link between two records, creating it with zero residuals and
    /// `timestamp` as its last update if it does not exist.
    #[inline]
    pub fn link_between(&mut self, first: u32, second: u32, timestamp: f64) -> u32 {
        let key = link_key(first, second);
        if let Some(&slot) = self.link_index.get(&key) {
            return slot;
        }
        let link = Link { first, second, next: [NONE; 2], previous: [NONE; 2], last_timestamp: timestamp, live: true };
        let slot = if self.free_links != NONE {
            let slot = self.free_links;
            self.free_links = self.links[slot as usize].next[0];
            self.links[slot as usize] = link;
            self.link_values.row_mut(slot as usize).fill(0.0);
            slot
        } else {
            self.link_values.push_zeros();
            self.links.push(link) as u32
        };
        self.attach_link(slot, 0, first);
        if first != second {
            self.attach_link(slot, 1, second);
        }
        self.link_index.insert(key, slot);
        self.stored_links += 1;
        slot
    }

    /// Returns which end of `link` the record `record` is: 0 for `first` (and for
    /// self-loops), 1 for `second`.
    #[inline]
    fn end_of(&self, link: u32, record: u32) -> usize {
        usize::from(self.links[link as usize].first != record)
    }

    /// Puts end `end` of `link` at the head of `record`'s link list.
    fn attach_link(&mut self, link: u32, end: usize, record: u32) {
        let head = self.records[record as usize].first_link;
        self.links[link as usize].next[end] = head;
        self.links[link as usize].previous[end] = NONE;
        if head != NONE {
            let head_end = self.end_of(head, record);
            self.links[head as usize].previous[head_end] = link;
        }
        self.records[record as usize].first_link = link;
    }

    /// Takes end `end` of `link` out of `record`'s link list.
    fn detach_link(&mut self, link: u32, end: usize, record: u32) {
        let (previous, next) = {
            let link = &self.links[link as usize];
            (link.previous[end], link.next[end])
        };
        if previous == NONE {
            self.records[record as usize].first_link = next;
        } else {
            let previous_end = self.end_of(previous, record);
            self.links[previous as usize].next[previous_end] = next;
        }
        if next != NONE {
            let next_end = self.end_of(next, record);
            self.links[next as usize].previous[next_end] = previous;
        }
    }

    /// Decays a link's residuals to `timestamp` and adds the residual product of
    /// `value` against the current means of its two records.
    #[inline]
    pub fn update_link(&mut self, slot: u32, timestamp: f64, value: f64) {
        let link = self.links[slot as usize];
        let elapsed = timestamp - link.last_timestamp;
        let residuals = self.link_values.row_mut(slot as usize);
        if elapsed > 0.0 {
            let multipliers = self.multiplier_cache.get(&self.negated_decay, elapsed);
            for (residual, &multiplier) in residuals.iter_mut().zip(multipliers) {
                *residual *= multiplier;
            }
        }
        stats::add_residual(residuals, value, self.values.row(link.first as usize), self.values.row(link.second as usize));
        self.links[slot as usize].last_timestamp = timestamp;
    }

    /// Writes a link's four 2D features (D values each) to `out[..4D]`.
    #[inline]
    pub fn write_link_features(&self, slot: u32, out: &mut [f64]) {
        let link = &self.links[slot as usize];
        stats::write_link_features(self.link_residuals(slot), self.values(link.first), self.values(link.second), out);
    }

    /// Checks whether the record's weights, decayed to `timestamp`, are all below the
    /// threshold. Records updated after `timestamp` are never outdated.
    pub fn is_outdated(&self, slot: u32, timestamp: f64, multipliers: &mut [f64]) -> bool {
        let elapsed = timestamp - self.records[slot as usize].last_timestamp;
        if !(elapsed >= 0.0) {
            return false;
        }
        stats::decay_multipliers(&self.negated_decay, elapsed, multipliers);
        Stat1d::is_outdated(&self.values(slot)[..self.windows], multipliers)
    }

    /// Record slots filed under an expiry at or before `timestamp`, and those that the
    /// round being carried out has set aside: a superset of the records that are
    /// outdated at `timestamp`.
    pub fn expiry_candidates(&self, timestamp: f64) -> Vec<u32> {
        self.candidates_through(bucket_of(timestamp))
    }

    /// Lists, once each, the records filed in buckets up to `last_bucket` and those
    /// set aside by the round being carried out, which are in no bucket until it ends.
    fn candidates_through(&self, last_bucket: i64) -> Vec<u32> {
        let mut candidates = Vec::new();
        for &bucket in self.expiry_buckets.range(..=last_bucket) {
            candidates.extend(self.bucket_records(bucket));
        }
        let set_aside = self.deferred.iter().copied().filter(|&slot| self.records[slot as usize].live && !self.records[slot as usize].filed);
        candidates.extend(set_aside);
        // A record set aside twice is in the list twice.
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// Removes every record that is outdated at `timestamp`, with its links, at once.
    /// Returns how many records were removed.
    pub fn clean(&mut self, timestamp: f64) -> usize {
        let before = self.live_records;
        self.start_cleaning(timestamp);
        self.finish_cleaning();
        before - self.live_records
    }

    /// Starts a cleaning round at `timestamp`: every record that is outdated at that
    /// time is removed, exactly as if all were removed now, but the work is spread
    /// over later calls. Until then such a record is still stored, and [`find_live`]
    /// (which every update goes through) removes it when it is looked up, so no result
    /// can tell the difference. Rounds still in progress stay queued before this one,
    /// and each record is decided by the rounds in the order they started, as if each
    /// had finished before the next.
    ///
    /// Returns the number of candidates the new round has to examine.
    ///
    /// [`find_live`]: Database::find_live
    pub fn start_cleaning(&mut self, timestamp: f64) -> usize {
        self.round += 1;
        let last_bucket = bucket_of(timestamp);
        self.pending.push_back(PendingRound { timestamp, last_bucket, round: self.round });
        let candidates = self.expiry_buckets.range(..=last_bucket).map(|bucket| self.expiry[bucket].len as usize).sum();
        self.advance_cleaning(0);
        candidates
    }

    /// Carries out every round in progress up to its end and frees every link of
    /// removed records.
    pub fn finish_cleaning(&mut self) {
        while !self.pending.is_empty() {
            self.advance_cleaning(usize::MAX);
        }
        self.free_all_links_of_removed();
    }

    /// Reports whether a cleaning round is in progress.
    pub fn cleaning_in_progress(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Examines up to `budget` candidates of the rounds in progress, oldest round
    /// first, ending each round when it has no candidates left.
    pub fn advance_cleaning(&mut self, budget: usize) {
        let mut multipliers = [0.0; super::MAX_DECAY_FACTORS];
        let mut examined = 0;
        while let Some(&pending) = self.pending.front() {
            while let Some(&bucket) = self.expiry_buckets.first() {
                if bucket > pending.last_bucket {
                    break;
                }
                if examined >= budget {
                    return;
                }
                examined += 1;
                let slot = self.expiry[&bucket].first;
                self.unfile_expiry(slot);
                let record = &self.records[slot as usize];
                let undecided = record.checked_round < pending.round;
                if undecided && self.is_outdated(slot, pending.timestamp, &mut multipliers[..self.windows]) {
                    self.remove(slot);
                    continue;
                }
                // A lookup may already have decided the record for a later round.
                let record = &mut self.records[slot as usize];
                record.checked_round = record.checked_round.max(pending.round);
                let estimate_bucket = bucket_of(self.expiry_estimate(slot));
                if estimate_bucket > pending.last_bucket {
                    self.refile_expiry(slot);
                } else {
                    self.deferred.push(slot);
                }
            }
            // This round has no candidates left: it is over.
            self.pending.pop_front();
            for slot in std::mem::take(&mut self.deferred) {
                if self.records[slot as usize].live && !self.records[slot as usize].filed {
                    self.refile_expiry(slot);
                }
            }
        }
    }

    /// Checks whether the round `pending` has yet to decide on the record. That is the
    /// case when the record was not updated or decided since the round started, and is
    /// filed in the round's range or set aside by the round being carried out. A record
    /// filed beyond the range is not outdated at the round's time, because its filing
    /// is a lower bound of its expiry.
    #[inline]
    fn undecided_by(&self, slot: u32, pending: &PendingRound) -> bool {
        let record = &self.records[slot as usize];
        let in_range = !record.filed || record.expiry_bucket <= pending.last_bucket;
        record.live && in_range && record.checked_round < pending.round
    }

    /// Lists the records that the rounds in progress have yet to remove (read-only).
    pub fn pending_removals(&self) -> Vec<u32> {
        let Some(last_bucket) = self.pending.iter().map(|pending| pending.last_bucket).max() else { return Vec::new() };
        let mut removals = self.candidates_through(last_bucket);
        removals.retain(|&slot| self.removed_by_pending_round(slot));
        removals
    }

    /// Checks whether the record counts as removed by a round in progress
    /// (read-only).
    pub fn removed_by_pending_round(&self, slot: u32) -> bool {
        let mut multipliers = [0.0; super::MAX_DECAY_FACTORS];
        // A round that decides to keep the record leaves it undecided for later
        // rounds, whose numbers are larger, so no state needs updating here.
        self.pending.iter().any(|pending| {
            self.undecided_by(slot, pending) && self.is_outdated(slot, pending.timestamp, &mut multipliers[..self.windows])
        })
    }

    /// Returns the slot of the live record with `key`, first removing it if a
    /// cleaning round in progress has it due for removal.
    #[inline]
    pub fn find_live(&mut self, key: &Key) -> Option<u32> {
        let slot = self.find(key)?;
        if self.pending.is_empty() {
            return Some(slot);
        }
        let mut multipliers = [0.0; super::MAX_DECAY_FACTORS];
        for index in 0..self.pending.len() {
            let pending = self.pending[index];
            if !self.undecided_by(slot, &pending) {
                continue;
            }
            if self.is_outdated(slot, pending.timestamp, &mut multipliers[..self.windows]) {
                self.remove(slot);
                return None;
            }
            self.records[slot as usize].checked_round = pending.round;
        }
        Some(slot)
    }

    /// Returns the slot of the record with `key` unless a cleaning round in progress
    /// has it due for removal (read-only).
    pub fn find_if_live(&self, key: &Key) -> Option<u32> {
        self.find(key).filter(|&slot| !self.removed_by_pending_round(slot))
    }

    /// Removes a record and every link it is an end of. Links beyond the first few
    /// are freed by later calls to [`Database::free_links_of_removed`], and until then
    /// nothing can look them up.
    pub fn remove(&mut self, slot: u32) {
        self.unfile_expiry(slot);
        self.unlink_recency(slot);
        self.index_remove(slot);
        let record = &mut self.records[slot as usize];
        record.live = false;
        record.key = Key::from_bytes(&[]);
        self.live_records -= 1;
        self.free_links_from(slot, self.links_freed_on_removal);
        if self.records[slot as usize].first_link == NONE {
            self.free_record_slot(slot);
        } else {
            self.dying.push(slot);
        }
    }

    fn free_record_slot(&mut self, slot: u32) {
        self.records[slot as usize].older = self.free_records;
        self.free_records = slot;
    }

    /// Frees up to `budget` links of removed records, and the slots of the records
    /// whose last link it frees.
    pub fn free_links_of_removed(&mut self, budget: usize) {
        let mut left = budget;
        while let Some(&slot) = self.dying.last() {
            left -= self.free_links_from(slot, left);
            if self.records[slot as usize].first_link != NONE {
                return;
            }
            self.dying.pop();
            self.free_record_slot(slot);
        }
    }

    /// Frees every link of removed records.
    pub fn free_all_links_of_removed(&mut self) {
        self.free_links_of_removed(usize::MAX);
    }

    /// Reports whether links of removed records are still waiting to be freed.
    pub fn links_of_removed_pending(&self) -> bool {
        !self.dying.is_empty()
    }

    /// Frees up to `budget` links from the head of the removed record's link list and
    /// returns how many it freed.
    fn free_links_from(&mut self, slot: u32, budget: usize) -> usize {
        for freed in 0..budget {
            let link_slot = self.records[slot as usize].first_link;
            if link_slot == NONE {
                return freed;
            }
            let link = self.links[link_slot as usize];
            let end = self.end_of(link_slot, slot);
            self.detach_link(link_slot, end, slot);
            if link.first != link.second {
                let other = if end == 0 { link.second } else { link.first };
                self.detach_link(link_slot, 1 - end, other);
            }
            self.link_index.remove(&link_key(link.first, link.second));
            let freed = &mut self.links[link_slot as usize];
            freed.live = false;
            freed.next[0] = self.free_links;
            self.free_links = link_slot;
            self.stored_links -= 1;
        }
        budget
    }

    /// Returns the least recently updated live record that `keep` does not reject.
    pub fn oldest_record(&self, keep: impl Fn(u32) -> bool) -> Option<u32> {
        let mut slot = self.oldest;
        while slot != NONE {
            if !keep(slot) {
                return Some(slot);
            }
            slot = self.records[slot as usize].newer;
        }
        None
    }

    /// Up to `count` live records from the least recently updated on.
    pub fn oldest_records(&self, count: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(count);
        let mut slot = self.oldest;
        while slot != NONE && out.len() < count {
            out.push(slot);
            slot = self.records[slot as usize].newer;
        }
        out
    }

    /// Copies a record from another store (same decay factors) into this one, keeping
    /// its recency order relative to other copies through `sequence`. Returns its slot.
    pub fn copy_record_from(&mut self, other: &Database, other_slot: u32) -> u32 {
        let source = other.record(other_slot);
        self.values.push_zeros();
        let slot = self.records.push(Record {
            key: source.key.clone(),
            last_timestamp: source.last_timestamp,
            first_link: NONE,
            expiry_bucket: 0,
            expiry_next: NONE,
            expiry_previous: NONE,
            filed: false,
            newer: NONE,
            older: NONE,
            sequence: source.sequence,
            checked_round: 0,
            live: true,
        }) as u32;
        self.values.row_mut(slot as usize).copy_from_slice(other.values(other_slot));
        self.index_insert(slot);
        self.live_records += 1;
        self.refile_expiry(slot);
        slot
    }

    /// Copies a link between two copied records.
    pub fn copy_link_from(&mut self, other: &Database, other_slot: u32, first: u32, second: u32) {
        let source = *other.link(other_slot);
        let slot = self.link_between(first, second, source.last_timestamp);
        self.link_values.row_mut(slot as usize).copy_from_slice(other.link_residuals(other_slot));
    }

    /// Rebuilds the recency list of copied records in `sequence` order.
    pub fn order_copies_by_sequence(&mut self) {
        let mut slots: Vec<u32> = self.live_record_slots().collect();
        slots.sort_by_key(|&slot| self.records[slot as usize].sequence);
        self.newest = NONE;
        self.oldest = NONE;
        for &slot in &slots {
            let record = &mut self.records[slot as usize];
            record.newer = NONE;
            record.older = NONE;
        }
        for slot in slots {
            self.link_recency_newest(slot);
        }
        self.sequence = self.records.iter().map(|record| record.sequence).max().unwrap_or(0);
    }

    /// Sets the recency counter, so that copies continue the original's numbering.
    pub fn set_sequence(&mut self, sequence: u64) {
        self.sequence = sequence;
    }

    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Restores a record read from a state file.
    pub fn restore_record(&mut self, key: Key, last_timestamp: f64, sequence: u64, values: &[f64]) -> u32 {
        let slot = self.create(key, last_timestamp, Sample { value: 0.0, square: 0.0 });
        self.values.row_mut(slot as usize).copy_from_slice(values);
        self.records[slot as usize].sequence = sequence;
        self.refile_expiry(slot);
        slot
    }

    /// Restores a link read from a state file.
    pub fn restore_link(&mut self, first: u32, second: u32, last_timestamp: f64, residuals: &[f64]) {
        let slot = self.link_between(first, second, last_timestamp);
        self.link_values.row_mut(slot as usize).copy_from_slice(residuals);
    }

    /// Counts and an estimate of the bytes held, from the capacities of the arrays and
    /// hash tables (each table entry counted with one control byte).
    pub fn stats(&self) -> StoreStats {
        use std::mem::size_of;
        let heap_keys: usize = self
            .records
            .iter()
            .filter(|record| record.live)
            .map(|record| match &record.key {
                Key::Heap(bytes) => bytes.len(),
                Key::Inline { .. } => 0,
            })
            .sum();
        let expiry = self.expiry.capacity() * (size_of::<(i64, ExpiryBucket)>() + 1);
        let bytes = self.records.capacity() * size_of::<Record>()
            + self.values.capacity() * 3 * self.windows * size_of::<f64>()
            + self.index.capacity() * (size_of::<u32>() + 1)
            + self.links.capacity() * size_of::<Link>()
            + self.link_values.capacity() * self.windows * size_of::<f64>()
            + self.link_index.capacity() * (size_of::<((u32, u32), u32)>() + 1)
            + self.dying.capacity() * size_of::<u32>()
            + heap_keys
            + expiry;
        StoreStats { records: self.live_records as u64, links: self.live_links() as u64, bytes: bytes as u64 }
    }
}

fn slowest_window(decay: &[f64]) -> usize {
    let mut slowest = 0;
    for (window, &factor) in decay.iter().enumerate() {
        if factor < decay[slowest] {
            slowest = window;
        }
    }
    slowest
}

#[inline]
fn link_key(first: u32, second: u32) -> (u32, u32) {
    if first <= second { (first, second) } else { (second, first) }
}

#[inline]
fn bucket_of(timestamp: f64) -> i64 {
    // `as` saturates for huge values and maps NaN to 0.
    (timestamp * BUCKETS_PER_SECOND).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        Key::from_bytes(name.as_bytes())
    }

    /// Builds a store with a hub record linked to `leaves` leaf records and returns
    /// it, the hub's slot and the leaves' slots.
    fn hub_store(leaves: usize) -> (Database, u32, Vec<u32>) {
        let mut database = Database::new(&[0.1, 1.0]);
        let hub = database.insert(&key("hub"), 1.0, Some(Sample::size(60)));
        let leaves: Vec<u32> = (0..leaves)
            .map(|i| {
                let leaf = database.insert(&key(&format!("leaf {i}")), 1.0, Some(Sample::size(60)));
                database.link_between(leaf, hub, 1.0);
                leaf
            })
            .collect();
        (database, hub, leaves)
    }

    #[test]
    fn hub_removal_frees_links_later() {
        let (mut database, hub, leaves) = hub_store(100);
        database.set_links_freed_on_removal(8);
        database.remove(hub);
        assert_eq!(database.live_links(), 0);
        assert!(database.links_of_removed_pending());
        assert_eq!(database.find(&key("hub")), None);

        // 92 links are left: 9 calls of 10 free 90 of them.
        for _ in 0..9 {
            database.free_links_of_removed(10);
            assert!(database.links_of_removed_pending());
            let fresh = database.insert(&key("fresh"), 2.0, Some(Sample::size(1)));
            assert_ne!(fresh, hub, "a removed record's slot is reused only once its links are freed");
            database.remove(fresh);
        }
        database.free_links_of_removed(10);
        assert!(!database.links_of_removed_pending());
        assert_eq!(database.live_links(), 0);
        assert_eq!(database.live_link_slots().count(), 0);
        for leaf in leaves {
            assert_eq!(database.record(leaf).first_link, NONE, "leaf {leaf} still lists a link");
        }
    }

    #[test]
    fn shared_link_of_removed_records_counts_once() {
        let (mut database, hub, leaves) = hub_store(5);
        let other_hub = database.insert(&key("other hub"), 1.0, Some(Sample::size(60)));
        database.link_between(hub, other_hub, 1.0);
        for &leaf in &leaves {
            database.link_between(leaf, other_hub, 1.0);
        }
        // A self-loop is on its record's list once.
        database.link_between(other_hub, other_hub, 1.0);
        assert_eq!(database.live_links(), 12);

        database.set_links_freed_on_removal(1);
        database.remove(hub);
        assert_eq!(database.live_links(), 6);
        database.remove(leaves[0]);
        assert_eq!(database.live_links(), 5);
        database.remove(other_hub);
        assert_eq!(database.live_links(), 0);

        database.free_all_links_of_removed();
        assert_eq!(database.live_link_slots().count(), 0);
        database.link_between(leaves[1], leaves[2], 2.0);
        assert_eq!(database.live_links(), 1);
    }
}
