//! Capture reading: classic pcap (both byte orders, microsecond and nanosecond) and
//! pcapng (any number of sections and interfaces, any `if_tsresol`).
//!
//! The reader is hand-written rather than taken from a crate because the tool needs
//! three things at once: the record number and byte offset of the first damaged
//! record (every packet before it is still delivered), no allocation sized by a
//! length field before that length has been checked against the bytes left in the
//! file, and timestamps kept as integer ticks so that they can be converted to the
//! correctly rounded `f64` of their decimal value.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use thiserror::Error;

/// Frames longer than this are rejected as corrupt: no real link carries them, and it
/// bounds the buffer for files whose size is unknown.
const MAX_FRAME: u64 = 16 * 1024 * 1024;

/// An error while opening or reading a capture.
#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("cannot read the capture: {0}")]
    Io(#[from] io::Error),
    #[error("not a pcap or pcapng file: the first four bytes are {0:02x?}; expected a pcap magic number (a1b2c3d4, a1b23c4d, either byte order) or a pcapng section header (0a0d0d0a)")]
    NotACapture([u8; 4]),
    #[error("the file is empty or shorter than a capture header ({0} bytes)")]
    TooShort(u64),
    #[error("unsupported capture header: {0}")]
    Unsupported(String),
    #[error("corrupt capture at record {record}, byte offset {offset}: {problem}")]
    Corrupt { record: u64, offset: u64, problem: String },
}

/// The timestamp of a record as integer ticks of a resolution, as stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Ticks since the epoch.
    pub ticks: u64,
    /// Length of one tick.
    pub resolution: Resolution,
}

/// Length of one timestamp tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// 10^-n seconds.
    Decimal(u8),
    /// 2^-n seconds.
    Binary(u8),
}

impl Timestamp {
    /// Returns the timestamp in seconds: the float64 nearest to the exact value of
    /// `ticks × resolution` (round half to even), which is what Python's `float()` of
    /// scapy's `Decimal` timestamp gives.
    pub fn seconds(self) -> f64 {
        ticks_to_seconds(self.ticks, self.resolution)
    }
}

/// Converts ticks of a resolution into correctly rounded seconds.
pub fn ticks_to_seconds(ticks: u64, resolution: Resolution) -> f64 {
    match resolution {
        Resolution::Decimal(exponent) => {
            // Both operands are exact in f64 here, and IEEE division rounds correctly.
            if ticks < (1u64 << 53) && exponent <= 22 {
                return ticks as f64 / 10f64.powi(i32::from(exponent));
            }
            // Rust's float parser rounds correctly for any decimal input.
            format!("{ticks}e-{exponent}").parse().unwrap_or(f64::NAN)
        }
        // Scaling by a power of two is exact, so rounding `ticks` once is the only
        // rounding step. NOTE: scapy divides a 28-digit Decimal first, which could
        // round differently in a case where that division is inexact and lands on a
        // float64 midpoint; no such timestamp has been seen.
        Resolution::Binary(exponent) => ticks as f64 * (-f64::from(exponent)).exp2(),
    }
}

/// One packet record of a capture. `data` borrows the reader's buffer until the next
/// call to [`CaptureReader::next_record`].
#[derive(Debug)]
pub struct Record<'a> {
    /// LINKTYPE value of the interface that captured the frame.
    pub link_type: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Capture time, or `None` for a pcapng Simple Packet Block, which has none.
    pub timestamp: Option<Timestamp>,
    /// Length of the frame on the wire, which may exceed `data.len()`.
    pub original_length: u32,
    /// 1-based number of this packet record in the file.
    pub number: u64,
    /// Byte offset of the record (or block) header in the file.
    pub offset: u64,
}

/// The format of an open capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: u32,
    snap_length: u32,
    resolution: Resolution,
}

#[derive(Clone, Copy, Debug)]
struct PcapHeader {
    nanosecond: bool,
    link_type: u32,
    /// Files older than format version 2.3 store the captured and original lengths
    /// the other way round. Version 2.3 files may too, which shows when the captured
    /// length is the larger one.
    length_order: LengthOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthOrder {
    Normal,
    Swapped,
    MaybeSwapped,
}

/// Reads the packet records of a pcap or pcapng capture in file order.
pub struct CaptureReader<R: Read> {
    input: R,
    format: Format,
    /// Bytes consumed from the input so far.
    offset: u64,
    /// Total input length, when known: every length field is checked against it.
    length: Option<u64>,
    records: u64,
    buffer: Vec<u8>,
    pcap: Option<PcapHeader>,
    big_endian: bool,
    interfaces: Vec<Interface>,
    finished: bool,
}

impl CaptureReader<BufReader<File>> {
    /// Opens a capture file and reads its header.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        CaptureReader::new(BufReader::with_capacity(1 << 20, file), Some(length))
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the header of a capture from `input`, whose total length is `length`
    /// bytes when known.
    pub fn new(mut input: R, length: Option<u64>) -> Result<Self, CaptureError> {
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut input, &mut magic)?;
        if got < 4 {
            return Err(CaptureError::TooShort(got as u64));
        }
        let format = match magic {
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1] => {
                Format::Pcap
            }
            [0x0a, 0x0d, 0x0d, 0x0a] => Format::PcapNg,
            _ => return Err(CaptureError::NotACapture(magic)),
        };
        let mut reader = CaptureReader {
            input,
            format,
            offset: 4,
            length,
            records: 0,
            buffer: Vec::new(),
            pcap: None,
            big_endian: false,
            interfaces: Vec::new(),
            finished: false,
        };
        match format {
            Format::Pcap => reader.read_pcap_header(magic)?,
            Format::PcapNg => {
                let found = reader.read_pcapng_block(0)?;
                if !found {
                    return Err(CaptureError::TooShort(reader.offset));
                }
            }
        }
        Ok(reader)
    }

    /// The capture's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes read from the input so far.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Total input length, when known.
    pub fn total_bytes(&self) -> Option<u64> {
        self.length
    }

    /// Returns the next packet record, `Ok(None)` at the clean end of the file, or the
    /// first damage found. After an error the reader returns `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let result = match self.format {
            Format::Pcap => self.next_pcap_record(),
            Format::PcapNg => self.next_pcapng_record(),
        };
        match result {
            Ok(Some(meta)) => {
                self.records += 1;
                Ok(Some(Record {
                    link_type: meta.link_type,
                    data: &self.buffer[meta.data_start..meta.data_start + meta.data_length],
                    timestamp: meta.timestamp,
                    original_length: meta.original_length,
                    number: self.records,
                    offset: meta.offset,
                }))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(error) => {
                self.finished = true;
                Err(error)
            }
        }
    }

    fn corrupt(&self, offset: u64, problem: String) -> CaptureError {
        CaptureError::Corrupt { record: self.records + 1, offset, problem }
    }

    fn u16_at(&self, bytes: &[u8], at: usize) -> u16 {
        let raw = [bytes[at], bytes[at + 1]];
        if self.big_endian { u16::from_be_bytes(raw) } else { u16::from_le_bytes(raw) }
    }

    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let raw = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if self.big_endian { u32::from_be_bytes(raw) } else { u32::from_le_bytes(raw) }
    }

    /// Reads exactly `count` bytes into the buffer at `start`, after checking `count`
    /// against the bytes left in the input so that a corrupt length never sizes an
    /// allocation. Returns how many bytes were available if fewer.
    fn fill(&mut self, start: usize, count: u64, header_offset: u64, what: &str) -> Result<(), CaptureError> {
        let left = self.length.map(|length| length.saturating_sub(self.offset));
        if count > MAX_FRAME || left.is_some_and(|left| count > left) {
            let left_text = left.map_or_else(|| "fewer".to_string(), |left| left.to_string());
            return Err(self.corrupt(
                header_offset,
                format!("{what} of {count} bytes runs past the end of the file ({left_text} bytes left)"),
            ));
        }
        let count = count as usize;
        if self.buffer.len() < start + count {
            self.buffer.resize(start + count, 0);
        }
        let got = read_up_to(&mut self.input, &mut self.buffer[start..start + count])?;
        self.offset += got as u64;
        if got < count {
            return Err(self.corrupt(
                header_offset,
                format!("{what} of {count} bytes is cut short: the file ends after {got} bytes"),
            ));
        }
        Ok(())
    }

    // ===== pcap =====

    fn read_pcap_header(&mut self, magic: [u8; 4]) -> Result<(), CaptureError> {
        self.big_endian = magic[0] == 0xa1;
        let nanosecond = magic[2] == 0x3c || magic[1] == 0x3c;
        let mut header = [0u8; 20];
        let got = read_up_to(&mut self.input, &mut header)?;
        self.offset += got as u64;
        if got < 20 {
            return Err(CaptureError::TooShort(self.offset));
        }
        let major = self.u16_at(&header, 0);
        let minor = self.u16_at(&header, 2);
        let link_field = self.u32_at(&header, 16);
        // The link-type field keeps the LINKTYPE in its low 16 bits; bits 16 to 25
        // are reserved and must be zero (the upper bits describe the FCS).
        if link_field & 0x03ff_0000 != 0 {
            return Err(CaptureError::Unsupported(format!(
                "the link-type field 0x{link_field:08x} has reserved bits set; the file is damaged or not a pcap file"
            )));
        }
        let length_order = match (major, minor) {
            (0..=1, _) | (2, 0..=2) => LengthOrder::Swapped,
            (2, 3) => LengthOrder::MaybeSwapped,
            _ => LengthOrder::Normal,
        };
        self.pcap = Some(PcapHeader {
            nanosecond,
            link_type: link_field & 0xffff,
            length_order,
        });
        Ok(())
    }

    fn next_pcap_record(&mut self) -> Result<Option<RecordMeta>, CaptureError> {
        let Some(header) = self.pcap else { return Ok(None) };
        let offset = self.offset;
        let mut record_header = [0u8; 16];
        let got = read_up_to(&mut self.input, &mut record_header)?;
        self.offset += got as u64;
        if got == 0 {
            return Ok(None);
        }
        if got < 16 {
            return Err(self.corrupt(offset, format!("record header cut short: the file ends after {got} of 16 bytes")));
        }
        let seconds = self.u32_at(&record_header, 0);
        let fraction = self.u32_at(&record_header, 4);
        let mut captured = self.u32_at(&record_header, 8);
        let mut original = self.u32_at(&record_header, 12);
        let swap = match header.length_order {
            LengthOrder::Normal => false,
            LengthOrder::Swapped => true,
            LengthOrder::MaybeSwapped => captured > original,
        };
        if swap {
            std::mem::swap(&mut captured, &mut original);
        }
        self.fill(0, u64::from(captured), offset, "captured length")?;

        let (scale, exponent) = if header.nanosecond { (1_000_000_000u64, 9) } else { (1_000_000u64, 6) };
        // A fraction of a second of one or more seconds is invalid but still has a
        // decimal value, which scapy uses as it is.
        let ticks = u64::from(seconds) * scale + u64::from(fraction);
        Ok(Some(RecordMeta {
            link_type: header.link_type,
            data_start: 0,
            data_length: captured as usize,
            timestamp: Some(Timestamp { ticks, resolution: Resolution::Decimal(exponent) }),
            original_length: original,
            offset,
        }))
    }

    // ===== pcapng =====

    fn next_pcapng_record(&mut self) -> Result<Option<RecordMeta>, CaptureError> {
        loop {
            let offset = self.offset;
            if !self.read_pcapng_block(offset)? {
                return Ok(None);
            }
            if let Some(meta) = self.packet_from_block(offset)? {
                return Ok(Some(meta));
            }
        }
    }

    /// Reads one block into the buffer (type at 0, body from 8). Returns false at the
    /// clean end of the file. Section and interface blocks are applied here.
    fn read_pcapng_block(&mut self, offset: u64) -> Result<bool, CaptureError> {
        let mut head = [0u8; 8];
        let (got, start) = if offset == 0 {
            // The section header's type was read as the magic number.
            head[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
            let got = read_up_to(&mut self.input, &mut head[4..])?;
            self.offset += got as u64;
            (got + 4, 0)
        } else {
            let got = read_up_to(&mut self.input, &mut head)?;
            self.offset += got as u64;
            (got, offset)
        };
        if got == 0 {
            return Ok(false);
        }
        if got < 8 {
            return Err(self.corrupt(start, format!("block header cut short: the file ends after {got} of 8 bytes")));
        }
        let is_section = head[..4] == [0x0a, 0x0d, 0x0d, 0x0a];
        if is_section {
            // The byte-order magic follows the length, so read it before the length.
            let mut order = [0u8; 4];
            let got = read_up_to(&mut self.input, &mut order)?;
            self.offset += got as u64;
            self.big_endian = match order {
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                _ => {
                    return Err(self.corrupt(
                        start,
                        format!("section header has byte-order magic {order:02x?}, expected 1a2b3c4d in either byte order"),
                    ))
                }
            };
            self.buffer.resize(12.max(self.buffer.len()), 0);
            self.buffer[8..12].copy_from_slice(&order);
        }
        let block_type = self.u32_at(&head, 0);
        let block_length = self.u32_at(&head, 4);
        if block_length < 12 || block_length % 4 != 0 || (is_section && block_length < 28) {
            return Err(self.corrupt(start, format!("block of type 0x{block_type:08x} has invalid length {block_length}")));
        }
        if self.buffer.len() < 8 {
            self.buffer.resize(8, 0);
        }
        self.buffer[..8].copy_from_slice(&head);
        let body_start = if is_section { 12 } else { 8 };
        self.fill(body_start, u64::from(block_length) - body_start as u64, start, "block")?;
        let trailer = self.u32_at(&self.buffer, block_length as usize - 4);
        if trailer != block_length {
            return Err(self.corrupt(
                start,
                format!("block length {block_length} does not match the trailing length {trailer}"),
            ));
        }

        let body_end = block_length as usize - 4;
        if is_section {
            let major = self.u16_at(&self.buffer, 12);
            if major != 1 {
                return Err(self.corrupt(start, format!("section header has major version {major}, only version 1 is supported")));
            }
            // Interface numbers restart with every section.
            self.interfaces.clear();
        } else if block_type == 1 {
            self.read_interface(start, body_end)?;
        }
        Ok(true)
    }

    fn read_interface(&mut self, start: u64, body_end: usize) -> Result<(), CaptureError> {
        if body_end < 16 {
            return Err(self.corrupt(start, "interface description block is shorter than 16 bytes".to_string()));
        }
        let link_type = u32::from(self.u16_at(&self.buffer, 8));
        let snap_length = self.u32_at(&self.buffer, 12);
        let mut resolution = Resolution::Decimal(6);
        let mut at = 16;
        // Options: code, length, value padded to 4 bytes; the first if_tsresol wins.
        let mut seen_resolution = false;
        while at + 4 <= body_end {
            let code = self.u16_at(&self.buffer, at);
            let length = usize::from(self.u16_at(&self.buffer, at + 2));
            if code == 0 {
                break;
            }
            let value = at + 4;
            if value + length > body_end {
                break;
            }
            if code == 9 && length == 1 && !seen_resolution {
                let byte = self.buffer[value];
                resolution = if byte & 0x80 != 0 {
                    Resolution::Binary(byte & 0x7f)
                } else {
                    Resolution::Decimal(byte & 0x7f)
                };
                seen_resolution = true;
            }
            at = value + length.div_ceil(4) * 4;
        }
        self.interfaces.push(Interface { link_type, snap_length, resolution });
        Ok(())
    }

    fn interface(&self, id: u32, start: u64) -> Result<Interface, CaptureError> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            self.corrupt(
                start,
                format!("packet names interface {id}, but the section describes only {}", self.interfaces.len()),
            )
        })
    }

    fn packet_from_block(&mut self, start: u64) -> Result<Option<RecordMeta>, CaptureError> {
        let block_type = self.u32_at(&self.buffer, 0);
        let block_length = self.u32_at(&self.buffer, 4) as usize;
        let body = block_length - 12;
        match block_type {
            // Enhanced Packet Block and the obsolete Packet Block share their layout
            // apart from the interface id's width.
            6 | 2 => {
                if body < 20 {
                    return Err(self.corrupt(start, format!("packet block body of {body} bytes is shorter than 20")));
                }
                let interface_id = if block_type == 6 {
                    self.u32_at(&self.buffer, 8)
                } else {
                    u32::from(self.u16_at(&self.buffer, 8))
                };
                let high = self.u32_at(&self.buffer, 12);
                let low = self.u32_at(&self.buffer, 16);
                let captured = self.u32_at(&self.buffer, 20);
                let original = self.u32_at(&self.buffer, 24);
                if captured as usize > body - 20 {
                    return Err(self.corrupt(
                        start,
                        format!("captured length {captured} exceeds the {} data bytes of its block", body - 20),
                    ));
                }
                let interface = self.interface(interface_id, start)?;
                let ticks = (u64::from(high) << 32) | u64::from(low);
                Ok(Some(RecordMeta {
                    link_type: interface.link_type,
                    data_start: 28,
                    data_length: captured as usize,
                    timestamp: Some(Timestamp { ticks, resolution: interface.resolution }),
                    original_length: original,
                    offset: start,
                }))
            }
            // Simple Packet Block: no interface id (always the first) and no timestamp.
            3 => {
                if body < 4 {
                    return Err(self.corrupt(start, format!("simple packet block body of {body} bytes is shorter than 4")));
                }
                let interface = self.interface(0, start)?;
                let original = self.u32_at(&self.buffer, 8);
                let mut captured = original.min((body - 4) as u32);
                if interface.snap_length != 0 {
                    captured = captured.min(interface.snap_length);
                }
                Ok(Some(RecordMeta {
                    link_type: interface.link_type,
                    data_start: 12,
                    data_length: captured as usize,
                    timestamp: None,
                    original_length: original,
                    offset: start,
                }))
            }
            _ => Ok(None),
        }
    }
}

struct RecordMeta {
    link_type: u32,
    data_start: usize,
    data_length: usize,
    timestamp: Option<Timestamp>,
    original_length: u32,
    offset: u64,
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_bytes(records: &[(u32, u32, &[u8])], nanosecond: bool) -> Vec<u8> {
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut out = Vec::new();
        out.extend_from_slice(&magic.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0u8; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (seconds, fraction, data) in records {
            out.extend_from_slice(&seconds.to_le_bytes());
            out.extend_from_slice(&fraction.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    fn reader(bytes: &[u8]) -> CaptureReader<&[u8]> {
        CaptureReader::new(bytes, Some(bytes.len() as u64)).unwrap()
    }

    #[test]
    fn decimal_timestamps_round_correctly() {
        // sec + usec / 1e6 in float arithmetic is off by one ulp for this value.
        let seconds = ticks_to_seconds(1_000_003, Resolution::Decimal(6));
        assert_eq!(seconds, "1.000003".parse::<f64>().unwrap());
        let large = ticks_to_seconds(1_465_939_079_622_935_123, Resolution::Decimal(9));
        assert_eq!(large, "1465939079.622935123".parse::<f64>().unwrap());
        assert_eq!(ticks_to_seconds(3, Resolution::Binary(1)), 1.5);
    }

    #[test]
    fn pcap_records_read_in_order() {
        let bytes = pcap_bytes(&[(1, 2, b"abc"), (3, 4, b"de")], false);
        let mut capture = reader(&bytes);
        let first = capture.next_record().unwrap().unwrap();
        assert_eq!(first.data, b"abc");
        assert_eq!(first.number, 1);
        assert_eq!(first.offset, 24);
        assert_eq!(first.timestamp.unwrap().seconds(), 1.000002);
        let second = capture.next_record().unwrap().unwrap();
        assert_eq!(second.data, b"de");
        assert_eq!(second.offset, 24 + 16 + 3);
        assert!(capture.next_record().unwrap().is_none());
    }

    #[test]
    fn pcap_nanosecond_fraction_above_one_second() {
        let bytes = pcap_bytes(&[(5, 1_500_000_000, b"x")], true);
        let mut capture = reader(&bytes);
        let record = capture.next_record().unwrap().unwrap();
        assert_eq!(record.timestamp.unwrap().seconds(), 6.5);
    }

    #[test]
    fn pcap_oversized_length_reports_record_and_offset() {
        let mut bytes = pcap_bytes(&[(1, 0, b"abcd"), (2, 0, b"efgh")], false);
        let second_length_at = 24 + 16 + 4 + 8;
        bytes[second_length_at..second_length_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut capture = reader(&bytes);
        assert!(capture.next_record().unwrap().is_some());
        match capture.next_record() {
            Err(CaptureError::Corrupt { record, offset, .. }) => {
                assert_eq!(record, 2);
                assert_eq!(offset, 44);
            }
            other => panic!("expected a corrupt-record error, got {other:?}"),
        }
        assert!(capture.next_record().unwrap().is_none());
    }

    #[test]
    fn pcap_cut_record_header_is_an_error() {
        let mut bytes = pcap_bytes(&[(1, 0, b"abcd")], false);
        bytes.extend_from_slice(&[1, 2]);
        let mut capture = reader(&bytes);
        assert!(capture.next_record().unwrap().is_some());
        assert!(matches!(capture.next_record(), Err(CaptureError::Corrupt { record: 2, .. })));
    }

    #[test]
    fn unknown_magic_is_rejected() {
        let bytes = [0u8; 64];
        let error = CaptureReader::new(&bytes[..], Some(64)).err().unwrap();
        assert!(matches!(error, CaptureError::NotACapture([0, 0, 0, 0])));
    }

    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let length = (12 + body.len()) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&block_type.to_le_bytes());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&length.to_le_bytes());
        out
    }

    fn section() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        block(0x0a0d_0d0a, &body)
    }

    fn interface(link_type: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&link_type.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        if let Some(value) = tsresol {
            body.extend_from_slice(&9u16.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[value, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(1, &body)
    }

    fn enhanced_packet(interface_id: u32, ticks: u64, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&interface_id.to_le_bytes());
        body.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ticks as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        block(6, &body)
    }

    #[test]
    fn pcapng_uses_interface_link_type_and_resolution() {
        let mut bytes = section();
        bytes.extend(interface(1, None));
        bytes.extend(interface(101, Some(9)));
        bytes.extend(enhanced_packet(1, 1_500_000_000, b"abcde"));
        bytes.extend(enhanced_packet(0, 2_000_001, b"xy"));
        let mut capture = reader(&bytes);
        let first = capture.next_record().unwrap().unwrap();
        assert_eq!(first.link_type, 101);
        assert_eq!(first.data, b"abcde");
        assert_eq!(first.timestamp.unwrap().seconds(), 1.5);
        let second = capture.next_record().unwrap().unwrap();
        assert_eq!(second.link_type, 1);
        assert_eq!(second.timestamp.unwrap().seconds(), 2.000001);
        assert!(capture.next_record().unwrap().is_none());
    }

    #[test]
    fn pcapng_interfaces_restart_per_section() {
        let mut bytes = section();
        bytes.extend(interface(1, None));
        bytes.extend(section());
        bytes.extend(enhanced_packet(0, 1, b"ab"));
        let mut capture = reader(&bytes);
        assert!(matches!(capture.next_record(), Err(CaptureError::Corrupt { record: 1, .. })));
    }

    #[test]
    fn pcapng_captured_length_beyond_block_is_an_error() {
        let mut bytes = section();
        bytes.extend(interface(1, None));
        let mut packet = enhanced_packet(0, 1, b"abcd");
        packet[20..24].copy_from_slice(&65536u32.to_le_bytes());
        bytes.extend(packet);
        let mut capture = reader(&bytes);
        assert!(matches!(capture.next_record(), Err(CaptureError::Corrupt { .. })));
    }
}
