//! Record keys: compact binary forms of the reference's string keys.
//!
//! The reference names each record with a string such as `"aa:bb:cc:dd:ee:ff_10.0.0.1"`
//! (MAC-IP), `"10.0.0.1_10.0.0.2"` (jitter), `"10.0.0.1"` (channel end) or
//! `"10.0.0.1_443"` (socket end), all in one dictionary. A [`Key`] encodes the same
//! one or two parts as tagged bytes. Every part's printed form is distinct from every
//! other part's and cannot contain the `_` separator in an ambiguous place, so two
//! keys are equal exactly when the reference's strings are equal. In particular the
//! empty address and the empty protocol share one tag (both print as ""), and on
//! raw-IP links, where the link address is the IP address, the MAC-IP key of host `a`
//! is the jitter key of an `a → a` packet, as in the reference.

use crate::vector::{Address, Protocol};

/// Key bytes stored in place; longer keys (from odd ARP address lengths) go to the heap.
const INLINE: usize = 38;

const TAG_EMPTY: u8 = 0;
const TAG_MAC: u8 = 1;
const TAG_IPV4: u8 = 2;
const TAG_IPV6: u8 = 3;
const TAG_RAW: u8 = 4;
const TAG_PORT: u8 = 5;
const TAG_ICMP: u8 = 6;
const TAG_ARP: u8 = 7;

/// The key of one 1D record.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    /// Keys of up to 38 bytes; the unused tail is always zero so derived equality holds.
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(bytes) => bytes,
        }
    }

    /// Rebuilds a key from encoded bytes (as stored in a state file).
    pub fn from_bytes(bytes: &[u8]) -> Key {
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline { len: bytes.len() as u8, bytes: inline }
        } else {
            Key::Heap(bytes.into())
        }
    }

    /// Key of one address: a channel end, or an ARP socket end.
    pub fn address(address: &Address) -> Key {
        let mut builder = KeyBuilder::new();
        builder.address(address);
        builder.finish()
    }

    /// Key of two addresses: MAC-IP or jitter.
    pub fn address_pair(first: &Address, second: &Address) -> Key {
        let mut builder = KeyBuilder::new();
        builder.address(first);
        builder.address(second);
        builder.finish()
    }

    /// Key of an address and a protocol: a socket end.
    pub fn socket(address: &Address, protocol: Protocol) -> Key {
        let mut builder = KeyBuilder::new();
        builder.address(address);
        builder.protocol(protocol);
        builder.finish()
    }
}

/// Writes tagged parts into a stack buffer. Two raw parts of up to 255 bytes fit.
struct KeyBuilder {
    bytes: [u8; 2 * (2 + 255)],
    len: usize,
}

impl KeyBuilder {
    fn new() -> KeyBuilder {
        KeyBuilder { bytes: [0; 2 * (2 + 255)], len: 0 }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn address(&mut self, address: &Address) {
        match address {
            Address::None => self.push(&[TAG_EMPTY]),
            Address::Mac(mac) => {
                self.push(&[TAG_MAC]);
                self.push(mac);
            }
            Address::Ipv4(ip) => {
                self.push(&[TAG_IPV4]);
                self.push(ip);
            }
            Address::Ipv6(ip) => {
                self.push(&[TAG_IPV6]);
                self.push(ip);
            }
            Address::Raw(raw) => {
                let bytes = raw.as_bytes();
                // Longer raw addresses cannot come from a frame (ARP lengths are one
                // byte); the cut keeps the buffer bounds for vectors built by callers.
                let bytes = &bytes[..bytes.len().min(255)];
                self.push(&[TAG_RAW, bytes.len() as u8]);
                self.push(bytes);
            }
        }
    }

    fn protocol(&mut self, protocol: Protocol) {
        match protocol {
            Protocol::None => self.push(&[TAG_EMPTY]),
            Protocol::Port(port) => {
                self.push(&[TAG_PORT]);
                self.push(&port.to_be_bytes());
            }
            Protocol::Icmp => self.push(&[TAG_ICMP]),
            Protocol::Arp => self.push(&[TAG_ARP]),
        }
    }

    fn finish(&self) -> Key {
        Key::from_bytes(&self.bytes[..self.len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::RawAddress;

    const A: Address = Address::Ipv4([10, 0, 0, 1]);
    const B: Address = Address::Ipv4([10, 0, 0, 2]);

    #[test]
    fn raw_ip_mac_ip_key_equals_self_loop_jitter_key() {
        // On raw-IP links the link address is the IP address.
        assert_eq!(Key::address_pair(&A, &A), Key::address_pair(&A, &A));
        assert_ne!(Key::address_pair(&A, &B), Key::address_pair(&B, &A));
    }

    #[test]
    fn empty_address_and_empty_protocol_share_a_key() {
        assert_eq!(Key::address_pair(&A, &Address::None), Key::socket(&A, Protocol::None));
    }

    #[test]
    fn one_part_differs_from_two_parts() {
        assert_ne!(Key::address(&A), Key::socket(&A, Protocol::None));
        assert_ne!(Key::address(&Address::None), Key::socket(&Address::None, Protocol::None));
    }

    #[test]
    fn raw_address_differs_from_same_bytes_as_ipv4() {
        let raw = Address::Raw(RawAddress::new(&[10, 0, 0, 1]));
        assert_ne!(Key::address(&raw), Key::address(&A));
    }

    #[test]
    fn long_raw_keys_round_trip() {
        let raw = Address::Raw(RawAddress::new(&[0x41; 200]));
        let key = Key::address_pair(&raw, &raw);
        assert!(matches!(key, Key::Heap(_)));
        assert_eq!(Key::from_bytes(key.as_bytes()), key);
    }
}
