//! Frame parsing: turns one captured frame into a [`TrafficVector`] exactly as the
//! Python reference does with scapy 2.8.0.
//!
//! The reference decodes each frame into a chain of layers and then reads the first
//! IPv4 (else IPv6) layer for the IP addresses, the first TCP (else UDP) layer for
//! the ports, the first ARP layer, whether an ICMP layer exists, and the first
//! layer that has a `src` / `dst` field for the "MAC" columns. [`dissect`] walks
//! the same chain and notes those layers; [`parse_frame`] then applies the
//! reference's rules to them.
//!
//! Why parts are hand-written rather than left to `etherparse` (which is used for
//! the Ethernet header, 802.1Q tags and the UDP ports, where it agrees with scapy):
//! * IPv4: scapy ignores the version nibble, accepts IHL < 5 (the "options" length
//!   then goes negative and the payload is the last bytes of the packet), accepts
//!   a total length shorter than the header, and binds the transport header only
//!   on the first fragment. etherparse rejects all of these.
//! * IPv6: scapy does not check the version nibble either, cuts the payload to the
//!   payload length (with its own jumbogram rule), and decodes extension headers
//!   with its own lenient rules (partial addresses in a routing header go to the
//!   payload, a fragment header with offset 0 is decoded through).
//! * TCP: scapy only needs the 20 fixed bytes and treats a data offset below 5 as
//!   5; etherparse needs valid offsets and all option bytes.
//! * ARP: scapy accepts any hardware and protocol lengths; its addresses become raw
//!   bytes unless type and length match Ethernet/IPv4/IPv6.
//! * Linux cooked captures, BSD loopback, GRE, PPP, PPPoE, L2TP and VXLAN follow
//!   scapy's own bindings, which differ from etherparse's (or etherparse has none).
//!
//! Deviations from the reference, on purpose:
//! * BSD loopback IPv6 with address family 24, 28 or 30 is decoded as IPv6; the
//!   reference only knows Linux's value 10 and skips these packets.
//! * Link type 14 (raw IP on OpenBSD) is decoded like 12 and 101; the reference
//!   does not know it and skips every packet.
//! * An empty frame is always skipped. On raw IP link types the reference turns it
//!   into an IPv4 packet with default field values (destination 127.0.0.1, source
//!   taken from the host's routing table, size 20).
//! * The size is the captured length. The reference measures a packet by encoding
//!   it again, and its LDAP/CLDAP and Kerberos decoders re-encode ASN.1 lengths in
//!   their shortest form, so such packets come out a few bytes shorter there. The
//!   one re-encoding that is simple and predictable is kept: an IGMP message under
//!   an IPv4 header without options gains a 4-byte router alert option.

mod dissect;

use crate::vector::{Address, Protocol, RawAddress, TrafficVector};
use dissect::{Field, Layer};

/// The reference reads at most this many bytes of each captured frame.
pub const MAX_FRAME_LEN: usize = 0xffff;

/// Reason a frame gave no traffic vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The capture's link type is not supported.
    UnsupportedLinkType,
    /// The frame has no IPv4, IPv6 or ARP layer.
    NoNetworkLayer,
    /// The frame is empty.
    EmptyFrame,
}

/// Short snake_case name of a skip reason, for summaries.
pub fn skip_reason_name(r: SkipReason) -> &'static str {
    match r {
        SkipReason::UnsupportedLinkType => "unsupported_link_type",
        SkipReason::NoNetworkLayer => "no_ip_or_arp",
        SkipReason::EmptyFrame => "empty_frame",
    }
}

/// The first layer of a frame of the given pcap link type.
fn link_layer(link_type: u32) -> Option<Layer> {
    Some(match link_type {
        // Ethernet; 23 and 772 are Linux ARPHRD values the reference also maps to
        // Ethernet.
        1 | 23 | 772 => Layer::Ether,
        113 | 144 => Layer::Sll,
        276 => Layer::Sll2,
        12 | 14 | 101 => Layer::RawIp,
        228 => Layer::Ipv4 { quoted: false },
        229 => Layer::Ipv6 { quoted: false },
        0 => Layer::NullLoopback,
        108 => Layer::Loop,
        9 => Layer::Ppp,
        50 => Layer::Hdlc,
        51 => Layer::Pppoe,
        204 => Layer::DirectionPpp,
        _ => return None,
    })
}

fn address(f: Field<'_>) -> Address {
    match f {
        Field::Mac(m) => Address::Mac(m),
        Field::Ipv4(a) => Address::Ipv4(a),
        Field::Ipv6(a) => Address::Ipv6(a),
        Field::Bytes(b) => Address::Raw(RawAddress::new(b)),
    }
}

/// Parses one captured frame into a traffic vector.
///
/// `link_type` is the LINKTYPE of the frame's interface. The capture reader passes
/// the low 16 bits of a classic pcap header's link-type field, as libpcap does; the
/// reference uses the whole field and so skips files whose FCS bits are set.
/// `frame` is the captured bytes (only the first [`MAX_FRAME_LEN`] are used and
/// counted, as by the reference), and `timestamp` is copied into the vector.
pub fn parse_frame(
    link_type: u32,
    frame: &[u8],
    timestamp: f64,
) -> Result<TrafficVector, SkipReason> {
    let first = link_layer(link_type).ok_or(SkipReason::UnsupportedLinkType)?;
    let frame = &frame[..frame.len().min(MAX_FRAME_LEN)];
    if frame.is_empty() {
        return Err(SkipReason::EmptyFrame);
    }
    let found = dissect::walk(first, frame);

    let (mut ip_type, mut src_ip, mut dst_ip) = if let Some((s, d)) = found.ipv4 {
        (0, Address::Ipv4(s), Address::Ipv4(d))
    } else if let Some((s, d)) = found.ipv6 {
        (1, Address::Ipv6(s), Address::Ipv6(d))
    } else if found.arp.is_some() {
        (0, Address::None, Address::None)
    } else {
        return Err(SkipReason::NoNetworkLayer);
    };
    let (mut src_protocol, mut dst_protocol) = match found.tcp.or(found.udp) {
        Some((s, d)) => (Protocol::Port(s), Protocol::Port(d)),
        None => (Protocol::None, Protocol::None),
    };
    // Every frame with an IP layer has a `src` and `dst` field somewhere, so the
    // fallbacks to `None` are never used.
    let (src_mac, dst_mac) = match (&found.arp, found.src, found.dst) {
        (Some(arp), _, _) => (address(arp.hwsrc), address(arp.hwdst)),
        (None, src, dst) => (
            src.map_or(Address::None, address),
            dst.map_or(Address::None, address),
        ),
    };
    if src_protocol == Protocol::None {
        if let Some(arp) = &found.arp {
            src_protocol = Protocol::Arp;
            dst_protocol = Protocol::Arp;
            src_ip = address(arp.psrc);
            dst_ip = address(arp.pdst);
            ip_type = 0;
        } else if found.icmp {
            src_protocol = Protocol::Icmp;
            dst_protocol = Protocol::Icmp;
            ip_type = 0;
        }
    }
    Ok(TrafficVector {
        ip_type,
        src_mac,
        dst_mac,
        src_ip,
        src_protocol,
        dst_ip,
        dst_protocol,
        timestamp,
        size: frame.len() as u32 + found.extra_len,
    })
}

#[cfg(test)]
mod tests;
