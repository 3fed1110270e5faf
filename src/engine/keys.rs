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
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Key {
    /// Keys of up to 38 bytes; the unused tail is always zero so derived equality holds.
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Only the used bytes, which are equal for equal keys in either variant.
        state.write(self.as_bytes());
    }
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

/// Writes tagged parts in place, moving to the heap only for keys longer than
/// [`INLINE`] bytes (raw ARP addresses of odd lengths).
struct KeyBuilder {
    inline: [u8; INLINE],
    len: usize,
    spilled: Option<Vec<u8>>,
}

impl KeyBuilder {
    #[inline]
    fn new() -> KeyBuilder {
        KeyBuilder { inline: [0; INLINE], len: 0, spilled: None }
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        if let Some(spilled) = &mut self.spilled {
            spilled.extend_from_slice(bytes);
        } else if self.len + bytes.len() <= INLINE {
            self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            let mut spilled = Vec::with_capacity(self.len + bytes.len() + 32);
            spilled.extend_from_slice(&self.inline[..self.len]);
            spilled.extend_from_slice(bytes);
            self.spilled = Some(spilled);
        }
    }

    #[inline]
    fn address(&mut self, address: &Address) {
        match address {
            Address::None => self.push(&[TAG_EMPTY]),
            Address::Mac(mac) => self.push(&[TAG_MAC, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]]),
            Address::Ipv4(ip) => self.push(&[TAG_IPV4, ip[0], ip[1], ip[2], ip[3]]),
            Address::Ipv6(ip) => {
                self.push(&[TAG_IPV6]);
                self.push(ip);
            }
            Address::Raw(raw) => {
                let bytes = raw.as_bytes();
                // Raw addresses from frames are at most 255 bytes (ARP lengths are one
                // byte); the cut keeps the length in one byte for vectors from callers.
                let bytes = &bytes[..bytes.len().min(255)];
                self.push(&[TAG_RAW, bytes.len() as u8]);
                self.push(bytes);
            }
        }
    }

    #[inline]
    fn protocol(&mut self, protocol: Protocol) {
        match protocol {
            Protocol::None => self.push(&[TAG_EMPTY]),
            Protocol::Port(port) => {
                let [high, low] = port.to_be_bytes();
                self.push(&[TAG_PORT, high, low]);
            }
            Protocol::Icmp => self.push(&[TAG_ICMP]),
            Protocol::Arp => self.push(&[TAG_ARP]),
        }
    }

    #[inline]
    fn finish(self) -> Key {
        match self.spilled {
            Some(spilled) => Key::Heap(spilled.into_boxed_slice()),
            None => Key::Inline { len: self.len as u8, bytes: self.inline },
        }
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
