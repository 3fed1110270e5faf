//! State files: an engine's configuration, counters, records and links in a versioned
//! binary format, so that a long capture can be processed in pieces.
//!
//! Layout (all integers and floats little-endian):
//!
//! ```text
//! magic            8 bytes  "AFTIMG\r\n" (the CR LF catches text-mode mangling)
//! format version   u32      FORMAT_VERSION
//! file length      u64      bytes in the whole file, checksum included
//! decay count      u32      D, 1..=MAX_DECAY_FACTORS
//! decay factors    D × f64
//! record limit     u8 flag (0 none, 1 some) + u64
//! limit policy     u8       0 reject, 1 evict
//! cleaning interval u64
//! updates          u64
//! last timestamp   u8 flag + f64
//! sequence         u64      the store's recency counter (records are numbered 1..n on load)
//! record count     u64
//! records          key length u16, key bytes, last timestamp f64, sequence u64, 3D × f64
//! link count       u64
//! links            first u64, second u64 (indexes into the record list), last timestamp f64, D × f64
//! checksum         u64      FNV-1a 64 of every byte before it
//! ```
//!
//! Records are written in recency order (oldest first), so restoring them in file
//! order rebuilds the eviction order. Loading checks the checksum before anything
//! else, then checks every count against the bytes left before allocating for it.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use thiserror::Error;

use crate::engine::keys::Key;
use crate::engine::{Config, Database, Engine, LimitPolicy, MAX_DECAY_FACTORS};

const MAGIC: [u8; 8] = *b"AFTIMG\r\n";
/// Version written by [`save`]; [`load`] reads this version only.
pub const FORMAT_VERSION: u32 = 1;
/// Maximum key length the engine builds: two tagged raw addresses of 255 bytes.
const MAX_KEY_LEN: usize = 2 * (2 + 255);
const CHECKSUM_LEN: usize = 8;

/// Reason a state could not be loaded.
#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot read the state: {0}")]
    Io(#[from] io::Error),
    #[error("not an afterimage state: the first bytes are {found:02x?}, expected {MAGIC:02x?}")]
    NotAState { found: Vec<u8> },
    #[error("state format version {found} is not supported; this library reads version {FORMAT_VERSION}")]
    UnsupportedVersion { found: u32 },
    #[error("the state is truncated: it needs at least {expected} bytes, but only {found} are present")]
    Truncated { expected: u64, found: u64 },
    #[error("state checksum mismatch: stored {stored:016x}, computed {computed:016x}; the state is damaged")]
    Checksum { stored: u64, computed: u64 },
    #[error("corrupt state at byte offset {offset}: {problem}")]
    Corrupt { offset: usize, problem: String },
    #[error("the state's configuration differs from the expected one: {0}")]
    ConfigMismatch(String),
}

/// Writes `engine`'s state to `writer`.
pub fn save(engine: &Engine, writer: impl Write) -> io::Result<()> {
    let mut writer = ChecksumWriter { inner: writer, hash: FNV_OFFSET };
    write_body(engine, &mut writer)?;
    let checksum = writer.hash;
    writer.inner.write_all(&checksum.to_le_bytes())?;
    writer.inner.flush()
}

/// Saves `engine`'s state to `path` atomically: a temporary file in the same folder is
/// written, flushed to disk and renamed over `path`, so a crash leaves either the old
/// file or the new one whole.
pub fn save_to_path(engine: &Engine, path: &Path) -> io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the state path has no file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".tmp{}", std::process::id()));
    let temporary = folder.join(temporary_name);

    let result = (|| {
        let mut file = File::create(&temporary)?;
        save(engine, io::BufWriter::new(&mut file))?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        // Make the rename itself durable; some file systems cannot sync a folder, and
        // the data is already safe then, so that failure is ignored.
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Reads a state. With `expected_config`, a state saved with other settings is
/// rejected with [`StateError::ConfigMismatch`].
pub fn load(mut reader: impl Read, expected_config: Option<&Config>) -> Result<Engine, StateError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    load_from_bytes(&bytes, expected_config)
}

/// Reads a state file.
pub fn load_from_path(path: &Path, expected_config: Option<&Config>) -> Result<Engine, StateError> {
    load(File::open(path)?, expected_config)
}

/// Reads a state from memory.
pub fn load_from_bytes(bytes: &[u8], expected_config: Option<&Config>) -> Result<Engine, StateError> {
    if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
        // Empty, or cut inside the magic number.
        return Err(StateError::Truncated { expected: MAGIC.len() as u64, found: bytes.len() as u64 });
    }
    if bytes[..MAGIC.len().min(bytes.len())] != MAGIC {
        return Err(StateError::NotAState { found: bytes[..bytes.len().min(MAGIC.len())].to_vec() });
    }
    let mut input = Input { bytes, offset: MAGIC.len() };
    let version = input.u32()?;
    if version != FORMAT_VERSION {
        return Err(StateError::UnsupportedVersion { found: version });
    }
    let length = input.u64()?;
    if (bytes.len() as u64) < length {
        return Err(StateError::Truncated { expected: length, found: bytes.len() as u64 });
    }
    if bytes.len() as u64 > length {
        return Err(input.corrupt(&format!("{} bytes follow the end that the header gives", bytes.len() as u64 - length)));
    }
    if bytes.len() < input.offset + CHECKSUM_LEN {
        return Err(input.corrupt("the state ends before its checksum"));
    }
    let (body, stored) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let stored = u64::from_le_bytes(stored.try_into().expect("split at 8 bytes from the end"));
    let computed = fnv1a(FNV_OFFSET, body);
    if stored != computed {
        return Err(StateError::Checksum { stored, computed });
    }
    input.bytes = body;

    let config = read_config(&mut input)?;
    if let Some(expected) = expected_config {
        check_config(&config, expected)?;
    }
    let updates = input.u64()?;
    let last_timestamp = match input.u8()? {
        0 => {
            input.f64()?;
            None
        }
        1 => Some(input.f64()?),
        flag => return Err(input.corrupt(&format!("last-timestamp flag is {flag}, expected 0 or 1"))),
    };
    let sequence = input.u64()?;

    let windows = config.decay_factors.len();
    let mut database = Database::new(&config.decay_factors);
    let record_count = input.count(2 + 8 + 8 + 3 * windows * 8, "record")?;
    let mut slots = Vec::with_capacity(record_count);
    let mut values = vec![0.0; 3 * windows];
    let mut previous_sequence = 0;
    for _ in 0..record_count {
        let key_len = usize::from(input.u16()?);
        if key_len > MAX_KEY_LEN {
            return Err(input.corrupt(&format!("key length {key_len} exceeds the maximum of {MAX_KEY_LEN}")));
        }
        let key = Key::from_bytes(input.take(key_len)?);
        let record_timestamp = input.f64()?;
        let record_sequence = input.u64()?;
        for value in values.iter_mut() {
            *value = input.f64()?;
        }
        if database.find(&key).is_some() {
            return Err(input.corrupt("a record key appears twice"));
        }
        if record_sequence <= previous_sequence || record_sequence > sequence {
            return Err(input.corrupt(&format!(
                "record sequence {record_sequence} is out of order (previous {previous_sequence}, store counter {sequence})"
            )));
        }
        previous_sequence = record_sequence;
        // Only the order of sequence numbers matters, so the records are numbered 1..n
        // again: a counter read from the file could be close enough to 2^64 to wrap.
        let renumbered = slots.len() as u64 + 1;
        slots.push(database.restore_record(key, record_timestamp, renumbered, &values));
    }
    database.set_sequence(record_count as u64);

    let link_count = input.count(8 + 8 + 8 + windows * 8, "link")?;
    let mut residuals = vec![0.0; windows];
    for _ in 0..link_count {
        let first = input.record_index(record_count)?;
        let second = input.record_index(record_count)?;
        let link_timestamp = input.f64()?;
        for value in residuals.iter_mut() {
            *value = input.f64()?;
        }
        let (first, second) = (slots[first], slots[second]);
        if database.find_link(first, second).is_some() {
            return Err(input.corrupt("a link appears twice"));
        }
        database.restore_link(first, second, link_timestamp, &residuals);
    }
    if input.offset != input.bytes.len() {
        return Err(input.corrupt(&format!("{} bytes follow the last link", input.bytes.len() - input.offset)));
    }

    Ok(Engine::from_parts(config, database, updates, last_timestamp))
}

fn write_body(engine: &Engine, out: &mut impl Write) -> io::Result<()> {
    let config = engine.config();
    let database = engine.database();
    out.write_all(&MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(&encoded_length(engine).to_le_bytes())?;
    out.write_all(&(config.decay_factors.len() as u32).to_le_bytes())?;
    for factor in &config.decay_factors {
        out.write_all(&factor.to_le_bytes())?;
    }
    out.write_all(&[u8::from(config.record_limit.is_some())])?;
    out.write_all(&config.record_limit.unwrap_or(0).to_le_bytes())?;
    out.write_all(&[match config.limit_policy {
        LimitPolicy::Reject => 0,
        LimitPolicy::Evict => 1,
    }])?;
    out.write_all(&config.cleaning_interval.to_le_bytes())?;
    out.write_all(&engine.updates().to_le_bytes())?;
    out.write_all(&[u8::from(engine.last_timestamp().is_some())])?;
    out.write_all(&engine.last_timestamp().unwrap_or(0.0).to_le_bytes())?;
    out.write_all(&database.sequence().to_le_bytes())?;

    let records = saved_records(engine);
    let mut position_of = std::collections::HashMap::with_capacity(records.len());
    out.write_all(&(records.len() as u64).to_le_bytes())?;
    for (position, &slot) in records.iter().enumerate() {
        position_of.insert(slot, position as u64);
        let record = database.record(slot);
        let key = record.key.as_bytes();
        out.write_all(&(key.len() as u16).to_le_bytes())?;
        out.write_all(key)?;
        out.write_all(&record.last_timestamp.to_le_bytes())?;
        out.write_all(&record.sequence.to_le_bytes())?;
        for value in database.values(slot) {
            out.write_all(&value.to_le_bytes())?;
        }
    }

    let links = saved_links(engine);
    out.write_all(&(links.len() as u64).to_le_bytes())?;
    for slot in links {
        let link = database.link(slot);
        out.write_all(&position_of[&link.first].to_le_bytes())?;
        out.write_all(&position_of[&link.second].to_le_bytes())?;
        out.write_all(&link.last_timestamp.to_le_bytes())?;
        for value in database.link_residuals(slot) {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    Ok(())
}

/// Lists the records a state contains, oldest first so that the loader's restores
/// rebuild the recency list in order. Records that a cleaning round in progress
/// removes are left out, so the state equals the one a finished round would give.
fn saved_records(engine: &Engine) -> Vec<u32> {
    let database = engine.database();
    let mut records: Vec<u32> =
        database.live_record_slots().filter(|&slot| !database.removed_by_pending_round(slot)).collect();
    records.sort_by_key(|&slot| database.record(slot).sequence);
    records
}

/// Lists the links a state contains: those whose two records it contains.
fn saved_links(engine: &Engine) -> Vec<u32> {
    let database = engine.database();
    database
        .live_link_slots()
        .filter(|&slot| {
            let link = database.link(slot);
            !database.removed_by_pending_round(link.first) && !database.removed_by_pending_round(link.second)
        })
        .collect()
}

/// Returns the number of bytes [`save`] writes for `engine`, checksum included.
pub fn encoded_length(engine: &Engine) -> u64 {
    let windows = engine.config().decay_factors.len() as u64;
    let database = engine.database();
    let header = 8 + 4 + 8 + 4 + 8 * windows + 9 + 1 + 8 + 8 + 9 + 8;
    let records: u64 = saved_records(engine)
        .into_iter()
        .map(|slot| 2 + database.record(slot).key.as_bytes().len() as u64 + 8 + 8 + 24 * windows)
        .sum();
    let links = saved_links(engine).len() as u64 * (8 + 8 + 8 + 8 * windows);
    header + 8 + records + 8 + links + CHECKSUM_LEN as u64
}

fn read_config(input: &mut Input<'_>) -> Result<Config, StateError> {
    let decay_count = input.u32()? as usize;
    if decay_count == 0 || decay_count > MAX_DECAY_FACTORS {
        return Err(input.corrupt(&format!("decay factor count {decay_count} is outside 1..={MAX_DECAY_FACTORS}")));
    }
    let mut decay_factors = Vec::with_capacity(decay_count);
    for _ in 0..decay_count {
        decay_factors.push(input.f64()?);
    }
    let record_limit = match input.u8()? {
        0 => {
            input.u64()?;
            None
        }
        1 => Some(input.u64()?),
        flag => return Err(input.corrupt(&format!("record-limit flag is {flag}, expected 0 or 1"))),
    };
    let limit_policy = match input.u8()? {
        0 => LimitPolicy::Reject,
        1 => LimitPolicy::Evict,
        policy => return Err(input.corrupt(&format!("limit policy is {policy}, expected 0 or 1"))),
    };
    let cleaning_interval = input.u64()?;
    let config = Config { decay_factors, record_limit, limit_policy, cleaning_interval };
    config.validate().map_err(|error| input.corrupt(&error.to_string()))?;
    Ok(config)
}

fn check_config(found: &Config, expected: &Config) -> Result<(), StateError> {
    let same_decay = found.decay_factors.len() == expected.decay_factors.len()
        && found.decay_factors.iter().zip(&expected.decay_factors).all(|(a, b)| a.to_bits() == b.to_bits());
    if !same_decay {
        return Err(StateError::ConfigMismatch(format!(
            "decay factors {:?} in the state, {:?} expected",
            found.decay_factors, expected.decay_factors
        )));
    }
    if found != expected {
        return Err(StateError::ConfigMismatch(format!(
            "record limit {:?}, policy {:?}, cleaning interval {} in the state; {:?}, {:?}, {} expected",
            found.record_limit,
            found.limit_policy,
            found.cleaning_interval,
            expected.record_limit,
            expected.limit_policy,
            expected.cleaning_interval
        )));
    }
    Ok(())
}

/// A cursor over the checksummed body.
struct Input<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Input<'a> {
    fn corrupt(&self, problem: &str) -> StateError {
        StateError::Corrupt { offset: self.offset, problem: problem.to_owned() }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], StateError> {
        let left = self.bytes.len() - self.offset;
        if len > left {
            return Err(self.corrupt(&format!("{len} bytes needed, {left} left")));
        }
        let taken = &self.bytes[self.offset..self.offset + len];
        self.offset += len;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }

    fn u8(&mut self) -> Result<u8, StateError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, StateError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, StateError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, StateError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, StateError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Reads an item count and checks that that many items of at least `min_size`
    /// bytes fit in what is left, so that no allocation trusts an unchecked count.
    fn count(&mut self, min_size: usize, item: &str) -> Result<usize, StateError> {
        let count = self.u64()?;
        let left = (self.bytes.len() - self.offset) as u64;
        if count.checked_mul(min_size as u64).map_or(true, |needed| needed > left) {
            return Err(self.corrupt(&format!("{count} {item}s of at least {min_size} bytes each do not fit in the {left} bytes left")));
        }
        Ok(count as usize)
    }

    fn record_index(&mut self, record_count: usize) -> Result<usize, StateError> {
        let index = self.u64()?;
        if index >= record_count as u64 {
            return Err(self.corrupt(&format!("link end {index} is not one of the {record_count} records")));
        }
        Ok(index as usize)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Hashes everything written through it.
struct ChecksumWriter<W: Write> {
    inner: W,
    hash: u64,
}

impl<W: Write> Write for ChecksumWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hash = fnv1a(self.hash, &buffer[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
