//! Binary traffic vectors for C, frame parsing and capture timestamps.

#![allow(non_camel_case_types)]

use crate::capture::{ticks_to_seconds, Resolution};
use crate::parse::parse_frame;
use crate::vector::{Address, Protocol, RawAddress, TrafficVector};

use super::status::*;
use super::{boundary, reference, slice, slice_mut};

/// Kinds of afterimage_address.kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum afterimage_address_kind {
    /// No address; length 0.
    AFTERIMAGE_ADDRESS_NONE = 0,
    /// Ethernet MAC; length 6, in bytes.
    AFTERIMAGE_ADDRESS_MAC = 1,
    /// IPv4; length 4, in bytes, network order.
    AFTERIMAGE_ADDRESS_IPV4 = 2,
    /// IPv6; length 16, in bytes, network order.
    AFTERIMAGE_ADDRESS_IPV6 = 3,
    /// Raw link address (Linux SLL, ARP hardware addresses that are not 6 bytes);
    /// length 0 to 255, in bytes when at most 16, else at raw.
    AFTERIMAGE_ADDRESS_RAW = 4,
}

/// Kinds of afterimage_protocol.kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum afterimage_protocol_kind {
    /// No protocol (IP packets other than TCP, UDP and ICMP).
    AFTERIMAGE_PROTOCOL_NONE = 0,
    /// A TCP or UDP port, in port.
    AFTERIMAGE_PROTOCOL_PORT = 1,
    /// ICMP over IPv4.
    AFTERIMAGE_PROTOCOL_ICMP = 2,
    /// ARP.
    AFTERIMAGE_PROTOCOL_ARP = 3,
}

/// Longest raw address, in bytes.
pub const AFTERIMAGE_RAW_ADDRESS_MAX: usize = 255;
/// Raw address bytes kept inside afterimage_address.bytes.
pub const AFTERIMAGE_ADDRESS_INLINE: usize = 16;
/// Storage that afterimage_parse_packet may need for raw addresses longer than 16
/// bytes: four addresses of up to 255 bytes.
pub const AFTERIMAGE_RAW_STORAGE_MAX: usize = 4 * 255;

/// One address of a traffic vector.
///
/// MAC, IPv4 and IPv6 addresses, and raw addresses of at most 16 bytes, sit in
/// `bytes` (the unused tail is ignored) and `raw` is NULL. A raw address of 17 to 255
/// bytes sits at `raw`, which is borrowed only for the duration of the call that
/// receives it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct afterimage_address {
    /// An afterimage_address_kind value.
    pub kind: u32,
    /// Number of address bytes: 0, 6, 4, 16, or 0 to 255 for raw.
    pub length: u32,
    pub bytes: [u8; AFTERIMAGE_ADDRESS_INLINE],
    /// Raw addresses longer than 16 bytes only; NULL otherwise.
    pub raw: *const u8,
}

/// The protocol of one side of a traffic vector.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct afterimage_protocol {
    /// An afterimage_protocol_kind value.
    pub kind: u32,
    /// The port when kind is AFTERIMAGE_PROTOCOL_PORT; must be 0 otherwise.
    pub port: u16,
}

/// One packet's endpoints, timestamp and size: the engine's input. Build it by hand or
/// get it from afterimage_parse_packet.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct afterimage_vector {
    /// 0 for IPv4 and ARP, 1 for IPv6.
    pub ip_type: u8,
    pub src_mac: afterimage_address,
    pub dst_mac: afterimage_address,
    pub src_ip: afterimage_address,
    pub src_protocol: afterimage_protocol,
    pub dst_ip: afterimage_address,
    pub dst_protocol: afterimage_protocol,
    /// Seconds since the epoch; must be finite.
    pub timestamp: f64,
    /// Captured frame length in bytes.
    pub size: u32,
}

/// Converts a C address.
///
/// # Safety
/// A non-NULL `address.raw` must point to `address.length` readable bytes.
unsafe fn address_from_c(address: &afterimage_address, field: &str) -> Result<Address, Failure> {
    use afterimage_address_kind::*;
    let fixed = |expected: u32| -> Result<(), Failure> {
        if address.length != expected {
            return Err(Failure::invalid(format!(
                "{field}.length is {}, but this kind of address has {expected} bytes",
                address.length
            )));
        }
        Ok(())
    };
    let kind = address.kind;
    let converted = if kind == AFTERIMAGE_ADDRESS_NONE as u32 {
        fixed(0)?;
        Address::None
    } else if kind == AFTERIMAGE_ADDRESS_MAC as u32 {
        fixed(6)?;
        Address::Mac(address.bytes[..6].try_into().expect("6 bytes"))
    } else if kind == AFTERIMAGE_ADDRESS_IPV4 as u32 {
        fixed(4)?;
        Address::Ipv4(address.bytes[..4].try_into().expect("4 bytes"))
    } else if kind == AFTERIMAGE_ADDRESS_IPV6 as u32 {
        fixed(16)?;
        Address::Ipv6(address.bytes)
    } else if kind == AFTERIMAGE_ADDRESS_RAW as u32 {
        let length = address.length as usize;
        if length > AFTERIMAGE_RAW_ADDRESS_MAX {
            return Err(Failure::invalid(format!(
                "{field}.length is {length}; raw addresses have at most {AFTERIMAGE_RAW_ADDRESS_MAX} bytes"
            )));
        }
        if length <= AFTERIMAGE_ADDRESS_INLINE && address.raw.is_null() {
            Address::Raw(RawAddress::new(&address.bytes[..length]))
        } else {
            // SAFETY: the caller guarantees `length` readable bytes at a non-NULL raw.
            let bytes = unsafe { slice(address.raw, length, &format!("{field}.raw")) }?;
            Address::Raw(RawAddress::new(bytes))
        }
    } else {
        return Err(Failure::invalid(format!("{field}.kind is {kind}, which is not an afterimage_address_kind")));
    };
    Ok(converted)
}

fn protocol_from_c(protocol: &afterimage_protocol, field: &str) -> Result<Protocol, Failure> {
    use afterimage_protocol_kind::*;
    let kind = protocol.kind;
    if kind != AFTERIMAGE_PROTOCOL_PORT as u32 && protocol.port != 0 {
        return Err(Failure::invalid(format!("{field}.port is {} but {field}.kind is not a port", protocol.port)));
    }
    match kind {
        _ if kind == AFTERIMAGE_PROTOCOL_NONE as u32 => Ok(Protocol::None),
        _ if kind == AFTERIMAGE_PROTOCOL_PORT as u32 => Ok(Protocol::Port(protocol.port)),
        _ if kind == AFTERIMAGE_PROTOCOL_ICMP as u32 => Ok(Protocol::Icmp),
        _ if kind == AFTERIMAGE_PROTOCOL_ARP as u32 => Ok(Protocol::Arp),
        _ => Err(Failure::invalid(format!("{field}.kind is {kind}, which is not an afterimage_protocol_kind"))),
    }
}

/// Converts a C vector, checking every field.
///
/// # Safety
/// Every non-NULL `raw` pointer in `vector` must point to its address's `length` bytes.
pub(crate) unsafe fn vector_from_c(vector: &afterimage_vector, name: &str) -> Result<TrafficVector, Failure> {
    if vector.ip_type > 1 {
        return Err(Failure::invalid(format!("{name}.ip_type is {}; use 0 for IPv4 and ARP, 1 for IPv6", vector.ip_type)));
    }
    if !vector.timestamp.is_finite() {
        return Err(Failure::invalid(format!(
            "{name}.timestamp is {}; timestamps must be finite numbers of seconds",
            vector.timestamp
        )));
    }
    // SAFETY: the caller's guarantee covers each address's raw pointer.
    let address = |field: &afterimage_address, part: &str| unsafe { address_from_c(field, &format!("{name}.{part}")) };
    Ok(TrafficVector {
        ip_type: vector.ip_type,
        src_mac: address(&vector.src_mac, "src_mac")?,
        dst_mac: address(&vector.dst_mac, "dst_mac")?,
        src_ip: address(&vector.src_ip, "src_ip")?,
        src_protocol: protocol_from_c(&vector.src_protocol, &format!("{name}.src_protocol"))?,
        dst_ip: address(&vector.dst_ip, "dst_ip")?,
        dst_protocol: protocol_from_c(&vector.dst_protocol, &format!("{name}.dst_protocol"))?,
        timestamp: vector.timestamp,
        size: vector.size,
    })
}

/// Fills a C address; raw addresses longer than 16 bytes go to `storage` at `*used`.
fn address_to_c(address: &Address, storage: &mut [u8], used: &mut usize) -> Result<afterimage_address, Failure> {
    use afterimage_address_kind::*;
    let mut out = afterimage_address {
        kind: AFTERIMAGE_ADDRESS_NONE as u32,
        length: 0,
        bytes: [0; AFTERIMAGE_ADDRESS_INLINE],
        raw: std::ptr::null(),
    };
    let mut inline = |kind: afterimage_address_kind, bytes: &[u8]| {
        out.kind = kind as u32;
        out.length = bytes.len() as u32;
        out.bytes[..bytes.len()].copy_from_slice(bytes);
    };
    match address {
        Address::None => {}
        Address::Mac(mac) => inline(AFTERIMAGE_ADDRESS_MAC, mac),
        Address::Ipv4(ip) => inline(AFTERIMAGE_ADDRESS_IPV4, ip),
        Address::Ipv6(ip) => inline(AFTERIMAGE_ADDRESS_IPV6, ip),
        Address::Raw(raw) => {
            let bytes = raw.as_bytes();
            let bytes = &bytes[..bytes.len().min(AFTERIMAGE_RAW_ADDRESS_MAX)];
            if bytes.len() <= AFTERIMAGE_ADDRESS_INLINE {
                inline(AFTERIMAGE_ADDRESS_RAW, bytes);
            } else {
                let end = *used + bytes.len();
                if end > storage.len() {
                    return Err(Failure::new(
                        AFTERIMAGE_BUFFER_TOO_SMALL,
                        format!(
                            "raw_storage holds {} bytes, but the frame's raw addresses need {end}; pass AFTERIMAGE_RAW_STORAGE_MAX bytes",
                            storage.len()
                        ),
                    ));
                }
                storage[*used..end].copy_from_slice(bytes);
                out.kind = AFTERIMAGE_ADDRESS_RAW as u32;
                out.length = bytes.len() as u32;
                out.raw = storage[*used..end].as_ptr();
                *used = end;
            }
        }
    }
    Ok(out)
}

fn protocol_to_c(protocol: Protocol) -> afterimage_protocol {
    use afterimage_protocol_kind::*;
    let (kind, port) = match protocol {
        Protocol::None => (AFTERIMAGE_PROTOCOL_NONE, 0),
        Protocol::Port(port) => (AFTERIMAGE_PROTOCOL_PORT, port),
        Protocol::Icmp => (AFTERIMAGE_PROTOCOL_ICMP, 0),
        Protocol::Arp => (AFTERIMAGE_PROTOCOL_ARP, 0),
    };
    afterimage_protocol { kind: kind as u32, port }
}

fn vector_to_c(vector: &TrafficVector, storage: &mut [u8]) -> Result<afterimage_vector, Failure> {
    let mut used = 0;
    Ok(afterimage_vector {
        ip_type: vector.ip_type,
        src_mac: address_to_c(&vector.src_mac, storage, &mut used)?,
        dst_mac: address_to_c(&vector.dst_mac, storage, &mut used)?,
        src_ip: address_to_c(&vector.src_ip, storage, &mut used)?,
        src_protocol: protocol_to_c(vector.src_protocol),
        dst_ip: address_to_c(&vector.dst_ip, storage, &mut used)?,
        dst_protocol: protocol_to_c(vector.dst_protocol),
        timestamp: vector.timestamp,
        size: vector.size,
    })
}

/// Converts a capture timestamp, `seconds + fraction × 10^-exponent`, to the float64
/// nearest its exact decimal value, as the command-line tool does.
pub(crate) fn timestamp_seconds(seconds: u64, fraction: u64, exponent: u32) -> Result<f64, Failure> {
    if exponent > 19 {
        return Err(Failure::invalid(format!(
            "resolution_exponent is {exponent}; use 0 to 19 (6 for microseconds, 9 for nanoseconds)"
        )));
    }
    let scale = 10u64.pow(exponent);
    if fraction >= scale {
        return Err(Failure::invalid(format!(
            "fraction is {fraction}, which is not below 10^{exponent}; it counts units of 10^-{exponent} s within the second"
        )));
    }
    let exponent_u8 = exponent as u8;
    match seconds.checked_mul(scale).and_then(|whole| whole.checked_add(fraction)) {
        Some(ticks) => Ok(ticks_to_seconds(ticks, Resolution::Decimal(exponent_u8))),
        None => {
            // Too many ticks for u64: Rust's float parser rounds the decimal correctly too.
            let text = if exponent == 0 {
                format!("{seconds}")
            } else {
                format!("{seconds}.{fraction:0width$}", width = exponent as usize)
            };
            Ok(text.parse().unwrap_or(f64::NAN))
        }
    }
}

/// Parses a frame into a traffic vector without touching any engine, as
/// afterimage_update_packet and the command-line tool do.
///
/// - `link_type`: the capture's LINKTYPE_ value (1 Ethernet, 113 Linux SLL, 101 raw IP,
///   0 BSD loopback, ...).
/// - `frame`, `frame_length`: the captured bytes, borrowed for the call. NULL is
///   accepted only with length 0.
/// - `seconds`, `fraction`, `resolution_exponent`: the timestamp as
///   seconds + fraction × 10^-resolution_exponent (6 for microsecond pcap, 9 for
///   nanosecond). It is converted to the nearest float64 of that exact decimal value.
/// - `vector_out`: receives the vector.
/// - `raw_storage`, `raw_storage_length`: caller memory for raw addresses longer than 16
///   bytes, which vector_out then points into; AFTERIMAGE_RAW_STORAGE_MAX bytes always
///   suffice. May be NULL with length 0 when such addresses cannot occur.
///
/// Returns AFTERIMAGE_OK, AFTERIMAGE_SKIPPED_PACKET (no vector; not an error),
/// AFTERIMAGE_NULL_ARGUMENT, AFTERIMAGE_INVALID_ARGUMENT (fraction or exponent out of
/// range) or AFTERIMAGE_BUFFER_TOO_SMALL (raw_storage). Takes no lock.
///
/// # Safety
/// `frame` must point to `frame_length` readable bytes; `vector_out` must be writable;
/// `raw_storage` must be NULL or point to `raw_storage_length` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn afterimage_parse_packet(
    link_type: u32,
    frame: *const u8,
    frame_length: usize,
    seconds: u64,
    fraction: u64,
    resolution_exponent: u32,
    vector_out: *mut afterimage_vector,
    raw_storage: *mut u8,
    raw_storage_length: usize,
) -> afterimage_status {
    boundary("afterimage_parse_packet", || {
        // SAFETY: the caller guarantees frame_length readable bytes at frame.
        let frame = unsafe { slice(frame, frame_length, "frame") }?;
        if vector_out.is_null() {
            return Err(Failure::null("vector_out"));
        }
        let storage: &mut [u8] = if raw_storage.is_null() {
            &mut []
        } else {
            // SAFETY: non-NULL, and the caller guarantees raw_storage_length writable bytes.
            unsafe { slice_mut(raw_storage, raw_storage_length, "raw_storage") }?
        };
        let timestamp = timestamp_seconds(seconds, fraction, resolution_exponent)?;

        let vector = match parse_frame(link_type, frame, timestamp) {
            Ok(vector) => vector,
            Err(_) => return Ok(AFTERIMAGE_SKIPPED_PACKET),
        };
        let converted = vector_to_c(&vector, storage)?;

        // SAFETY: checked non-NULL above; the caller guarantees it is writable.
        unsafe { vector_out.write(converted) };
        Ok(AFTERIMAGE_OK)
    })
}

/// Borrows and converts a C vector argument.
///
/// # Safety
/// As for [`reference`] and [`vector_from_c`].
pub(crate) unsafe fn vector_argument(vector: *const afterimage_vector, name: &str) -> Result<TrafficVector, Failure> {
    // SAFETY: the caller's guarantees are passed on unchanged.
    unsafe { vector_from_c(reference(vector, name)?, name) }
}
