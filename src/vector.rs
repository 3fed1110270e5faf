//! Traffic vectors: the per-packet input of the statistics engine.
//!
//! A traffic vector names the packet's endpoints (link addresses, IP addresses and
//! protocols), its timestamp and its size. Addresses and protocols are kept in binary
//! form, and [`Address`] and [`Protocol`] print themselves exactly as the Python
//! reference prints them, so that the meta CSV can be diffed against the reference.

use std::fmt;
use std::net::Ipv4Addr;

/// Maximum number of raw address bytes stored without a heap allocation.
const RAW_INLINE: usize = 22;

/// Raw address bytes, such as the 8-byte Linux SLL address or an ARP hardware
/// address whose length is not 6. Printed as a Python `bytes` literal (`b'\x02...'`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum RawAddress {
    /// Up to [`RAW_INLINE`] bytes stored in place: `len` bytes of `bytes` are used.
    Inline { len: u8, bytes: [u8; RAW_INLINE] },
    /// Longer addresses (ARP allows up to 255 bytes).
    Heap(Box<[u8]>),
}

impl RawAddress {
    /// Copies `bytes` into a raw address.
    pub fn new(bytes: &[u8]) -> RawAddress {
        if bytes.len() <= RAW_INLINE {
            let mut inline = [0u8; RAW_INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            RawAddress::Inline { len: bytes.len() as u8, bytes: inline }
        } else {
            RawAddress::Heap(bytes.into())
        }
    }

    /// The address bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RawAddress::Inline { len, bytes } => &bytes[..*len as usize],
            RawAddress::Heap(bytes) => bytes,
        }
    }
}

/// A link-layer or network address of a traffic vector.
///
/// Two addresses are equal exactly when the reference's strings for them are equal:
/// each variant prints in a form that no other variant can produce.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Address {
    /// No address; printed as the empty string.
    None,
    /// An Ethernet MAC address, printed `aa:bb:cc:dd:ee:ff`.
    Mac([u8; 6]),
    /// An IPv4 address, printed in dotted-quad form.
    Ipv4([u8; 4]),
    /// An IPv6 address, printed as glibc's `inet_ntop` prints it.
    Ipv6([u8; 16]),
    /// Raw bytes, printed as a Python `bytes` literal.
    Raw(RawAddress),
}

/// The protocol field of a traffic vector: a TCP or UDP port, `icmp`, `arp` or empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Protocol {
    /// No protocol; printed as the empty string.
    None,
    /// A TCP or UDP port, printed in decimal.
    Port(u16),
    /// ICMP (IPv4 only, as in the reference).
    Icmp,
    /// ARP.
    Arp,
}

/// IP version of a traffic vector: 0 for IPv4 and ARP, 1 for IPv6.
pub type IpType = u8;

/// One packet's endpoints, timestamp and size: the input of the statistics engine.
#[derive(Clone, PartialEq, Debug)]
pub struct TrafficVector {
    /// 0 for IPv4 and ARP, 1 for IPv6.
    pub ip_type: IpType,
    pub src_mac: Address,
    pub dst_mac: Address,
    pub src_ip: Address,
    pub src_protocol: Protocol,
    pub dst_ip: Address,
    pub dst_protocol: Protocol,
    /// Seconds since the epoch, as the capture's decimal timestamp correctly rounded.
    pub timestamp: f64,
    /// Captured length of the frame in bytes.
    pub size: u32,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::None => Ok(()),
            Address::Mac(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            Address::Ipv4(a) => write!(f, "{}", Ipv4Addr::from(*a)),
            Address::Ipv6(a) => write_ipv6(f, a),
            Address::Raw(raw) => write_python_bytes(f, raw.as_bytes()),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::None => Ok(()),
            Protocol::Port(port) => write!(f, "{port}"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Arp => f.write_str("arp"),
        }
    }
}

impl Address {
    /// Parses an address as the reference prints it: empty, a MAC, an IPv4 or IPv6
    /// address, or a Python `bytes` literal. Returns `None` for anything else.
    pub fn from_reference_str(text: &str) -> Option<Address> {
        if text.is_empty() {
            return Some(Address::None);
        }
        if let Ok(ip) = text.parse::<std::net::Ipv4Addr>() {
            return Some(Address::Ipv4(ip.octets()));
        }
        if text.starts_with("b'") || text.starts_with("b\"") {
            return parse_python_bytes(text).map(|bytes| Address::Raw(RawAddress::new(&bytes)));
        }
        if let Some(mac) = parse_mac(text) {
            return Some(Address::Mac(mac));
        }
        text.parse::<std::net::Ipv6Addr>().ok().map(|ip| Address::Ipv6(ip.octets()))
    }
}

impl Protocol {
    /// Parses a protocol as the reference prints it: empty, a port, `icmp` or `arp`.
    pub fn from_reference_str(text: &str) -> Option<Protocol> {
        match text {
            "" => Some(Protocol::None),
            "icmp" => Some(Protocol::Icmp),
            "arp" => Some(Protocol::Arp),
            _ if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok().map(Protocol::Port),
            _ => None,
        }
    }
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Parses the output of Python's `repr()` of a `bytes` object.
fn parse_python_bytes(text: &str) -> Option<Vec<u8>> {
    let quote = *text.as_bytes().get(1)?;
    let body = text.as_bytes().get(2..text.len().checked_sub(1)?)?;
    if *text.as_bytes().last()? != quote || text.len() < 3 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        let escape = *body.get(i + 1)?;
        match escape {
            b'\\' | b'\'' | b'"' => out.push(escape),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'x' => {
                let hex = std::str::from_utf8(body.get(i + 2..i + 4)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(out)
}

/// Writes an IPv6 address as glibc's `inet_ntop` does: the longest run of two or more
/// zero groups (the first one on a tie) becomes `::`, and an address whose first 96
/// bits are zero (other than `::` and `::1`-style addresses ending in a zero group) or
/// that is IPv4-mapped ends in dotted-quad form.
fn write_ipv6(f: &mut impl fmt::Write, a: &[u8; 16]) -> fmt::Result {
    let mut words = [0u16; 8];
    for (i, word) in words.iter_mut().enumerate() {
        *word = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }

    // Longest run of zero words; runs shorter than two are not compressed.
    let (mut best_start, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = usize::MAX;
    }

    let mut i = 0;
    while i < 8 {
        if i == best_start {
            if i == 0 {
                f.write_char(':')?;
            }
            f.write_char(':')?;
            i += best_len;
            continue;
        }
        // glibc prints the last 32 bits as IPv4 for IPv4-compatible and IPv4-mapped
        // addresses: a zero run of exactly the first six words, or of the first five
        // followed by ffff.
        let embeds_ipv4 = i == 6
            && best_start == 0
            && (best_len == 6 || (best_len == 5 && words[5] == 0xffff));
        if embeds_ipv4 {
            return write!(f, "{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
        }
        write!(f, "{:x}", words[i])?;
        if i < 7 {
            f.write_char(':')?;
        }
        i += 1;
    }
    Ok(())
}

/// Writes `bytes` as Python's `repr()` of a `bytes` object.
fn write_python_bytes(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    // Python picks double quotes only when the value contains a single quote and no
    // double quote.
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') { b'"' } else { b'\'' };
    f.write_char('b')?;
    f.write_char(quote as char)?;
    for &byte in bytes {
        match byte {
            b'\\' => f.write_str("\\\\")?,
            b'\t' => f.write_str("\\t")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            _ if byte == quote => {
                f.write_char('\\')?;
                f.write_char(byte as char)?;
            }
            0x20..=0x7e => f.write_char(byte as char)?,
            _ => write!(f, "\\x{byte:02x}")?,
        }
    }
    f.write_char(quote as char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn ipv6(text: &str) -> String {
        Address::Ipv6(text.parse::<Ipv6Addr>().unwrap().octets()).to_string()
    }

    #[test]
    fn ipv6_formats_like_glibc() {
        assert_eq!(ipv6("::"), "::");
        assert_eq!(ipv6("::1"), "::1");
        assert_eq!(ipv6("fe80::a00:27ff:fe19:1c78"), "fe80::a00:27ff:fe19:1c78");
        assert_eq!(ipv6("ff02::fb"), "ff02::fb");
        assert_eq!(ipv6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(ipv6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(ipv6("1:0:2:0:3:0:4:0"), "1:0:2:0:3:0:4:0");
        assert_eq!(ipv6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(ipv6("1:0:0:2:3:0:0:4"), "1::2:3:0:0:4");
        assert_eq!(ipv6("1::"), "1::");
    }

    #[test]
    fn raw_address_formats_like_python_bytes() {
        let raw = |b: &[u8]| Address::Raw(RawAddress::new(b)).to_string();
        assert_eq!(raw(b"\x02\x00\x00\x00\x00\x01\x00\x00"), r"b'\x02\x00\x00\x00\x00\x01\x00\x00'");
        assert_eq!(raw(b"\x08\x00'\x19\x1cx\x00\x00"), r#"b"\x08\x00'\x19\x1cx\x00\x00""#);
        assert_eq!(raw(b"'\""), r#"b'\'"'"#);
        assert_eq!(raw(b"\\\t\n\r\x7f"), r"b'\\\t\n\r\x7f'");
        assert_eq!(raw(&[0xc0, 0xa8, 0x01, b'h']), r"b'\xc0\xa8\x01h'");
        assert_eq!(raw(&[7u8; 40]).len(), 2 + 40 * 4 + 1);
    }

    #[test]
    fn reference_strings_parse_back() {
        let texts = [
            "",
            "00:1f:29:da:2d:79",
            "10.0.0.138",
            "fe80::a00:27ff:fe19:1c78",
            "::ffff:1.2.3.4",
            r"b'\x02\x00\x00\x00\x00\x01\x00\x00'",
            r#"b"\x08\x00'\x19\x1cx\x00\x00""#,
            r"b'\\\t\n\r'",
        ];
        for text in texts {
            let address = Address::from_reference_str(text).unwrap();
            assert_eq!(address.to_string(), text);
        }
        assert_eq!(Address::from_reference_str("b'\\x0'"), None);
        assert_eq!(Protocol::from_reference_str("65535"), Some(Protocol::Port(65535)));
        assert_eq!(Protocol::from_reference_str("65536"), None);
        assert_eq!(Protocol::from_reference_str("tcp"), None);
    }

    #[test]
    fn protocol_prints_reference_strings() {
        assert_eq!(Protocol::None.to_string(), "");
        assert_eq!(Protocol::Port(443).to_string(), "443");
        assert_eq!(Protocol::Icmp.to_string(), "icmp");
        assert_eq!(Protocol::Arp.to_string(), "arp");
    }
}
