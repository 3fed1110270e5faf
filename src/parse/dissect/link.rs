//! Link-layer and tunnel headers: Ethernet, 802.3/LLC/SNAP, VLAN tags, Linux
//! cooked captures, BSD loopback, GRE, PPP, PPPoE, L2TP and VXLAN.

use super::{arr6, be16, py_split, Field, Found, Layer, Step};
use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};

/// Payload of an EtherType, as bound to Ethernet (and inherited by 802.1Q tags).
fn ethertype_layer(t: u16) -> Option<Layer> {
    Some(match t {
        0x007a | 0x8870 => Layer::Llc,
        0x8100 | 0x88a8 => Layer::Vlan,
        0x88e7 => Layer::Dot1ah,
        0x0001 => Layer::Ether,
        0x0806 => Layer::Arp,
        0x0800 => Layer::Ipv4 { quoted: false },
        0x86dd => Layer::Ipv6 { quoted: false },
        0x8864 => Layer::Pppoe,
        _ => return None,
    })
}

pub(super) fn ether<'a>(d: &'a [u8], found: &mut Found<'a>) -> Step<'a> {
    // An EtherType of 1500 or less is an 802.3 length.
    if d.len() >= 14 && be16(d, 12) <= 1500 {
        return Some((Layer::Dot3, d));
    }
    let eth = Ethernet2HeaderSlice::from_slice(d).ok()?;
    found.note_src(Field::Mac(eth.source()));
    found.note_dst(Field::Mac(eth.destination()));
    Some((ethertype_layer(eth.ether_type().0)?, &d[14..]))
}

pub(super) fn dot3<'a>(d: &'a [u8], found: &mut Found<'a>) -> Step<'a> {
    if d.len() < 14 {
        return None;
    }
    found.note_src(Field::Mac(arr6(d, 6)));
    found.note_dst(Field::Mac(arr6(d, 0)));
    let (payload, _padding) = py_split(&d[14..], be16(d, 12) as isize);
    Some((Layer::Llc, payload))
}

pub(super) fn llc(d: &[u8]) -> Step<'_> {
    (d.len() >= 3 && d[..3] == [0xaa, 0xaa, 0x03]).then(|| (Layer::Snap, &d[3..]))
}

pub(super) fn snap(d: &[u8]) -> Step<'_> {
    if d.len() < 5 {
        return None;
    }
    // SNAP has its own, shorter list of bindings (no 802.1ad or PPPoE).
    let next = match be16(d, 3) {
        0x8100 => Layer::Vlan,
        0x0001 => Layer::Ether,
        0x0806 => Layer::Arp,
        0x0800 => Layer::Ipv4 { quoted: false },
        0x86dd => Layer::Ipv6 { quoted: false },
        _ => return None,
    };
    Some((next, &d[5..]))
}

pub(super) fn vlan(d: &[u8]) -> Step<'_> {
    let tag = SingleVlanHeaderSlice::from_slice(d).ok()?;
    let t = tag.ether_type().0;
    let payload = &d[4..];
    if t <= 1500 {
        // A length, not a type: the payload is LLC, cut to that length.
        let (payload, _padding) = py_split(payload, t as isize);
        return Some((ethertype_layer(t).unwrap_or(Layer::Llc), payload));
    }
    Some((ethertype_layer(t)?, payload))
}

/// Payload of a Linux cooked capture protocol number.
fn sll_layer(proto: u16) -> Option<Layer> {
    Some(match proto {
        0x007a => Layer::Llc,
        0x8100 => Layer::Vlan,
        0x0001 => Layer::Ether,
        0x0806 => Layer::Arp,
        0x0800 => Layer::Ipv4 { quoted: false },
        0x86dd => Layer::Ipv6 { quoted: false },
        0x8864 => Layer::Pppoe,
        _ => return None,
    })
}

pub(super) fn sll<'a>(d: &'a [u8], found: &mut Found<'a>) -> Step<'a> {
    if d.len() < 16 {
        return None;
    }
    // The address field is always 8 bytes, whatever the address length says.
    found.note_src(Field::Bytes(&d[6..14]));
    Some((sll_layer(be16(d, 14))?, &d[16..]))
}

pub(super) fn sll2<'a>(d: &'a [u8], found: &mut Found<'a>) -> Step<'a> {
    // Shorter frames have no payload, so no network layer: nothing to note.
    if d.len() < 20 {
        return None;
    }
    found.note_src(Field::Bytes(&d[12..20]));
    Some((sll_layer(be16(d, 0))?, &d[20..]))
}

pub(super) fn loopback(d: &[u8], family: u32) -> Step<'_> {
    if d.len() < 4 {
        return None;
    }
    let next = match family {
        0 | 2 => Layer::Ipv4 { quoted: false },
        10 => Layer::Ipv6 { quoted: false },
        // Deliberate deviation: the reference only knows Linux's AF_INET6 (10) and
        // drops IPv6 captured on BSD loopback, whose AF_INET6 is 24 (NetBSD,
        // OpenBSD), 28 (FreeBSD) or 30 (macOS). These are decoded as IPv6.
        24 | 28 | 30 => Layer::Ipv6 { quoted: false },
        _ => return None,
    };
    Some((next, &d[4..]))
}

pub(super) fn gre(d: &[u8]) -> Step<'_> {
    if d.len() < 4 {
        return None;
    }
    let (flags, proto) = (d[0], be16(d, 2));
    let routing = flags & 0x40 != 0;
    if proto == 0x880b {
        // Enhanced GRE (PPTP): payload length and call id, then optional sequence
        // and acknowledgement numbers.
        let len = 8 + 4 * usize::from(flags & 0x10 != 0) + 4 * usize::from(d[1] & 0x80 != 0);
        if d.len() < len || routing {
            return None;
        }
        return Some((Layer::Ppp, &d[len..]));
    }
    let len = 4
        + 4 * usize::from(flags & 0xc0 != 0)
        + 4 * usize::from(flags & 0x20 != 0)
        + 4 * usize::from(flags & 0x10 != 0);
    if d.len() < len {
        return None;
    }
    let next = match proto {
        0x007a => Layer::Llc,
        0x8100 => Layer::Vlan,
        0x6558 => Layer::Ether,
        0x0806 => Layer::Arp,
        // A routing header is bound before IP and IPv6 and ends the walk.
        _ if routing => return None,
        0x0800 => Layer::Ipv4 { quoted: false },
        0x86dd => Layer::Ipv6 { quoted: false },
        _ => return None,
    };
    Some((next, &d[len..]))
}

pub(super) fn ppp(d: &[u8]) -> Step<'_> {
    if d[0] == 0xff {
        return Some((Layer::Hdlc, d));
    }
    // Protocol field compression: an odd first byte is a one-byte protocol.
    let (proto, len) = if d[0] & 1 == 1 {
        (u16::from(d[0]), 1)
    } else if d.len() >= 2 {
        (be16(d, 0), 2)
    } else {
        return None;
    };
    let next = match proto {
        0x21 => Layer::Ipv4 { quoted: false },
        0x57 => Layer::Ipv6 { quoted: false },
        _ => return None,
    };
    Some((next, &d[len..]))
}

pub(super) fn l2tp(d: &[u8]) -> Step<'_> {
    if d.len() < 2 {
        return None;
    }
    let flags = be16(d, 0) >> 4;
    let (control, length, sequence, offset) = (
        flags & 0x800 != 0,
        flags & 0x400 != 0,
        flags & 0x080 != 0,
        flags & 0x020 != 0,
    );
    let mut at = 2 + 2 * usize::from(control || length) + 4 + 4 * usize::from(sequence || control);
    if d.len() < at {
        return None;
    }
    if !control && offset {
        if d.len() < at + 2 {
            return None;
        }
        let pad = be16(d, at) as usize;
        at = (at + 2 + pad).min(d.len());
    }
    // Every L2TP message, control messages included, is followed by PPP.
    Some((Layer::Ppp, &d[at..]))
}

pub(super) fn vxlan(d: &[u8]) -> Step<'_> {
    let flags = d[0];
    let (next_protocol, group_policy) = (flags & 0x04 != 0, flags & 0x80 != 0);
    let len = if next_protocol && group_policy { 11 } else { 8 };
    if d.len() < len {
        return None;
    }
    let next = if next_protocol {
        match d[3] {
            0 | 3 => Layer::Ether,
            1 => Layer::Ipv4 { quoted: false },
            2 => Layer::Ipv6 { quoted: false },
            _ => return None,
        }
    } else {
        Layer::Ether
    };
    Some((next, &d[len..]))
}
