//! The layer walk: follows one frame from its link-layer header inward, the way the
//! reference's dissector chains protocol layers, and notes the first occurrence of
//! every layer the traffic vector reads.
//!
//! Each step decodes one layer. A layer that the reference's dissector would reject
//! (a fixed-size field running past the end, a list with too many items, a payload
//! lookup that reads past the end) ends the walk there: the reference keeps that
//! layer and everything after it as opaque bytes, and the layers before it stay
//! valid. Nothing is noted for a layer until it is known to be accepted.

mod link;
mod network;

use link::{dot3, ether, gre, l2tp, llc, loopback, ppp, sll, sll2, snap, vlan, vxlan};
use network::{
    ah, arp, icmp, ipv4, ipv6, ipv6_fragment, ipv6_options, ipv6_routing, ipv6_segment_routing,
    tcp, udp,
};

/// Deepest layer the walk decodes. The reference dissects recursively and gives
/// up (keeping the rest as opaque bytes) when the interpreter's recursion limit is
/// hit: with its default limit, a chain of IPv6 destination options headers
/// carrying TCP still gets its ports with the TCP header as layer 197 and loses
/// them as layer 198. Other layer mixes may differ by a layer or two.
pub(super) const MAX_LAYERS: usize = 197;

/// Most items the reference accepts in one option list (IPv4 options, IPv6
/// hop-by-hop or destination options, segment routing TLVs) before it rejects the
/// whole header.
const MAX_LIST_ITEMS: usize = 100;

/// An address field as found in the frame, borrowed where it is raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field<'a> {
    Mac([u8; 6]),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    Bytes(&'a [u8]),
}

/// The four address fields of the first ARP layer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Arp<'a> {
    pub hwsrc: Field<'a>,
    pub hwdst: Field<'a>,
    pub psrc: Field<'a>,
    pub pdst: Field<'a>,
}

/// What the walk found: the first of each layer, in frame order.
#[derive(Default, Debug)]
pub(super) struct Found<'a> {
    pub ipv4: Option<([u8; 4], [u8; 4])>,
    pub ipv6: Option<([u8; 16], [u8; 16])>,
    pub tcp: Option<(u16, u16)>,
    pub udp: Option<(u16, u16)>,
    pub arp: Option<Arp<'a>>,
    pub icmp: bool,
    /// The first layer with a field named `src` (Ethernet, 802.3, Linux cooked
    /// capture, IPv4, IPv6): the reference reads `packet.src`, which falls through
    /// the layers until one has such a field.
    pub src: Option<Field<'a>>,
    /// Same for `dst` (Linux cooked captures have no `dst`).
    pub dst: Option<Field<'a>>,
    /// Bytes the reference adds to the packet length: it measures a packet by
    /// re-encoding it, and decoding an IGMP message under an IPv4 header without
    /// options inserts a 4-byte router alert option into that header.
    pub extra_len: u32,
}

impl<'a> Found<'a> {
    fn note_src(&mut self, f: Field<'a>) {
        self.src.get_or_insert(f);
    }
    fn note_dst(&mut self, f: Field<'a>) {
        self.dst.get_or_insert(f);
    }
}

/// A protocol layer the walk can decode. `quoted` marks the copies of IPv4, UDP and
/// ICMP headers quoted inside an ICMP error: the reference decodes them with
/// separate classes (`IPerror`, `UDPerror`, `ICMPerror`) that the traffic vector
/// does not look at, but whose payload bindings are inherited, so a tunnel inside a
/// quoted packet is still decoded as real layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layer {
    Ether,
    Dot3,
    Llc,
    Snap,
    Vlan,
    Dot1ah,
    Sll,
    Sll2,
    /// DLT_NULL: address family in host byte order.
    NullLoopback,
    /// DLT_LOOP: address family in network byte order.
    Loop,
    /// Raw IP link types: the version nibble picks IPv4 or IPv6.
    RawIp,
    Ipv4 {
        quoted: bool,
    },
    Ipv6 {
        quoted: bool,
    },
    /// Hop-by-hop or destination options header.
    Ipv6Options,
    Ipv6Routing,
    Ipv6SegmentRouting,
    Ipv6Fragment,
    Ah,
    Tcp,
    Udp {
        quoted: bool,
    },
    Icmp {
        quoted: bool,
    },
    Icmpv6Error,
    Arp,
    Gre,
    Ppp,
    /// HDLC address and control bytes (PPP in HDLC-like framing).
    Hdlc,
    /// One direction byte (LINKTYPE_PPP_WITH_DIR).
    DirectionPpp,
    Pppoe,
    L2tp,
    Vxlan,
}

#[inline]
fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

#[inline]
fn arr4(d: &[u8], at: usize) -> [u8; 4] {
    [d[at], d[at + 1], d[at + 2], d[at + 3]]
}

#[inline]
fn arr6(d: &[u8], at: usize) -> [u8; 6] {
    let mut a = [0u8; 6];
    a.copy_from_slice(&d[at..at + 6]);
    a
}

#[inline]
fn arr16(d: &[u8], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&d[at..at + 16]);
    a
}

/// Splits `s` at `n` the way a Python slice pair `s[:n], s[n:]` does: a negative
/// `n` counts from the end. The reference computes several header lengths as
/// `declared length - fixed size`, which goes negative on malformed headers.
fn py_split(s: &[u8], n: isize) -> (&[u8], &[u8]) {
    let at = if n >= 0 {
        (n as usize).min(s.len())
    } else {
        s.len().saturating_sub(n.unsigned_abs())
    };
    s.split_at(at)
}

/// Walks the frame from `first` inward and reports the layers found.
pub(super) fn walk<'a>(first: Layer, frame: &'a [u8]) -> Found<'a> {
    let mut found = Found::default();
    let mut layer = first;
    let mut data = frame;
    // Set once an ICMPv6 error's quoted IPv6 header has been entered: the
    // reference's extension headers check every enclosing layer for one.
    let mut under_quoted_ipv6 = false;
    let mut layers = 0;
    loop {
        // The reference decodes a payload only when bytes remain.
        if data.is_empty() {
            break;
        }
        layers += 1;
        if layers > MAX_LAYERS {
            break;
        }
        let step = match layer {
            Layer::Ether => ether(data, &mut found),
            Layer::Dot3 => dot3(data, &mut found),
            Layer::Llc => llc(data),
            Layer::Snap => snap(data),
            Layer::Vlan => vlan(data),
            Layer::Dot1ah => (data.len() >= 4).then(|| (Layer::Ether, &data[4..])),
            Layer::Sll => sll(data, &mut found),
            Layer::Sll2 => sll2(data, &mut found),
            Layer::NullLoopback => loopback(data, u32::from(data[0])),
            Layer::Loop => {
                if data.len() >= 4 {
                    loopback(data, u32::from_be_bytes(arr4(data, 0)))
                } else {
                    None
                }
            }
            Layer::RawIp => {
                let quoted = false;
                let next = if data[0] >> 4 == 6 {
                    Layer::Ipv6 { quoted }
                } else {
                    Layer::Ipv4 { quoted }
                };
                Some((next, data))
            }
            Layer::Ipv4 { quoted } => ipv4(data, quoted, &mut found),
            Layer::Ipv6 { quoted } => {
                if quoted {
                    under_quoted_ipv6 = true;
                }
                ipv6(data, quoted, &mut found)
            }
            Layer::Ipv6Options => ipv6_options(data, under_quoted_ipv6),
            Layer::Ipv6Routing => ipv6_routing(data, under_quoted_ipv6),
            Layer::Ipv6SegmentRouting => ipv6_segment_routing(data, under_quoted_ipv6),
            Layer::Ipv6Fragment => ipv6_fragment(data, under_quoted_ipv6),
            Layer::Ah => ah(data),
            Layer::Tcp => {
                tcp(data, &mut found);
                None
            }
            Layer::Udp { quoted } => udp(data, quoted, &mut found),
            Layer::Icmp { quoted } => icmp(data, quoted, &mut found),
            Layer::Icmpv6Error => {
                (data.len() >= 8).then(|| (Layer::Ipv6 { quoted: true }, &data[8..]))
            }
            Layer::Arp => {
                arp(data, &mut found);
                None
            }
            Layer::Gre => gre(data),
            Layer::Ppp => ppp(data),
            Layer::Hdlc => (data.len() >= 2).then(|| (Layer::Ppp, &data[2..])),
            Layer::DirectionPpp => Some((Layer::Ppp, &data[1..])),
            Layer::Pppoe => (data.len() >= 6 && data[1] == 0).then(|| (Layer::Ppp, &data[6..])),
            Layer::L2tp => l2tp(data),
            Layer::Vxlan => vxlan(data),
        };
        match step {
            Some((next, rest)) => {
                // Steps that only pick a variant of the same layer (802.3 for
                // Ethernet, IPv4 or IPv6 for raw IP, HDLC framing for PPP) consume
                // nothing and are not layers of their own.
                if rest.len() == data.len() {
                    layers -= 1;
                }
                layer = next;
                data = rest;
            }
            None => break,
        }
    }
    found
}

type Step<'a> = Option<(Layer, &'a [u8])>;
