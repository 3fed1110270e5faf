//! Network and transport headers: IPv4 with options, IPv6 with extension
//! headers, AH, TCP, UDP, ICMP and ARP.

use super::{arr16, arr4, arr6, be16, py_split, Arp, Field, Found, Layer, Step, MAX_LIST_ITEMS};
use etherparse::UdpHeaderSlice;

pub(super) fn ipv4<'a>(d: &'a [u8], quoted: bool, found: &mut Found<'a>) -> Step<'a> {
    if d.len() < 20 {
        return None;
    }
    let ihl = isize::from(d[0] & 0x0f);
    let total_len = be16(d, 2) as isize;
    let frag = be16(d, 6) & 0x1fff;
    let proto = d[9];
    // The options take `ihl * 4 - 20` bytes; with IHL < 5 that is negative and,
    // as a Python slice, leaves the last bytes of the packet as the payload.
    let (options, rest) = py_split(&d[20..], ihl * 4 - 20);
    if list_exceeds_limit(options, ipv4_option_len) {
        return None;
    }
    let payload_len = total_len - ihl * 4;
    let payload = if payload_len < 0 {
        rest
    } else {
        py_split(rest, payload_len).0
    };
    if proto == 2 && options.is_empty() && payload.len() >= 8 {
        found.extra_len += 4;
    }
    let (src, dst) = (arr4(d, 12), arr4(d, 16));
    if !quoted {
        found.ipv4.get_or_insert((src, dst));
    }
    found.note_src(Field::Ipv4(src));
    found.note_dst(Field::Ipv4(dst));
    // Only a first fragment (offset 0) is bound to its transport header; IPv6 and
    // AH are bound whatever the offset.
    let next = match (frag, proto, quoted) {
        (0, 4, q) => Layer::Ipv4 { quoted: q },
        (0, 1, q) => Layer::Icmp { quoted: q },
        (0, 6, false) => Layer::Tcp,
        (0, 6, true) => return None,
        (0, 17, q) => Layer::Udp { quoted: q },
        (0, 47, _) => Layer::Gre,
        (_, 41, _) => Layer::Ipv6 { quoted: false },
        (_, 51, _) => Layer::Ah,
        _ => return None,
    };
    Some((next, payload))
}

/// Returns the length of the IPv4 option at the start of `s`, as the reference's
/// option classes consume it.
fn ipv4_option_len(s: &[u8]) -> usize {
    match s[0] & 0x1f {
        0 | 1 => 1,
        // Fixed layouts: security; stream id, MTU probe/reply, router alert;
        // address extension; traceroute; timestamp (with an address unless
        // its flag nibble is 0).
        2 => fixed_or_all(s, 11),
        8 | 11 | 12 | 20 => fixed_or_all(s, 4),
        19 => fixed_or_all(s, 10),
        18 => fixed_or_all(s, 12),
        4 => match s.get(3) {
            Some(flags) => fixed_or_all(s, if flags & 0x0f == 0 { 8 } else { 12 }),
            None => s.len(),
        },
        // Record route and source routes: a list of IPv4 addresses after a
        // 3-byte header; selective broadcast: after a 2-byte header. A
        // partial address fails the option, which swallows the rest.
        3 | 7 | 9 => address_list_len(s, 3),
        21 => address_list_len(s, 2),
        _ => tlv_len(s, 2, isize::from(*s.get(1).unwrap_or(&0)) - 2),
    }
}

/// Bytes used by an IPv4 option holding a list of addresses after a `head`-byte
/// header whose second byte is the option length.
fn address_list_len(s: &[u8], head: usize) -> usize {
    if s.len() < head {
        return s.len();
    }
    let list = py_split(&s[head..], s[1] as isize - head as isize).0;
    if list.len() % 4 == 0 {
        head + list.len()
    } else {
        s.len()
    }
}

/// Bytes used by an item of fixed size `n`: a short item fails and swallows the rest.
fn fixed_or_all(s: &[u8], n: usize) -> usize {
    if s.len() < n {
        s.len()
    } else {
        n
    }
}

/// Bytes used by a type-length-value item with a `head`-byte header and a value of
/// `value_len` bytes (a Python slice length, so negative counts from the end).
fn tlv_len(s: &[u8], head: usize, value_len: isize) -> usize {
    if s.len() < head {
        return s.len();
    }
    head + py_split(&s[head..], value_len).0.len()
}

/// Payload of an IPv6 next-header value. `Err` when the reference's lookup itself
/// fails (it reads past the end of a one- or two-byte payload), which rejects the
/// header doing the lookup.
fn ipv6_next(nh: u8, payload: &[u8], quoted: bool) -> Result<Option<Layer>, ()> {
    Ok(Some(match nh {
        // Inside an ICMPv6 error the transport headers are quoted copies.
        6 | 17 if quoted => {
            return Ok(if nh == 17 {
                Some(Layer::Udp { quoted: true })
            } else {
                None
            });
        }
        6 => Layer::Tcp,
        17 => Layer::Udp { quoted: false },
        41 => Layer::Ipv6 { quoted: false },
        4 => Layer::Ipv4 { quoted: false },
        47 => Layer::Gre,
        51 => Layer::Ah,
        58 => {
            // Destination unreachable, packet too big, time exceeded and parameter
            // problem quote the offending packet.
            let t = payload[0];
            return Ok(((1..=4).contains(&t) && payload.len() >= 8).then_some(Layer::Icmpv6Error));
        }
        43 => {
            if payload.len() < 3 {
                return Err(());
            }
            if payload[2] == 4 {
                Layer::Ipv6SegmentRouting
            } else {
                Layer::Ipv6Routing
            }
        }
        0 | 60 => Layer::Ipv6Options,
        44 => Layer::Ipv6Fragment,
        _ => return Ok(None),
    }))
}

/// Continues after an IPv6 header or extension header whose next header is `nh`.
fn ipv6_continue(nh: u8, payload: &[u8], quoted: bool) -> Result<Step<'_>, ()> {
    if payload.is_empty() {
        return Ok(None);
    }
    Ok(ipv6_next(nh, payload, quoted)?.map(|next| (next, payload)))
}

pub(super) fn ipv6<'a>(d: &'a [u8], quoted: bool, found: &mut Found<'a>) -> Step<'a> {
    if d.len() < 40 {
        return None;
    }
    let plen = be16(d, 4);
    let nh = d[6];
    let rest = &d[40..];
    let payload = if plen == 0 && nh == 0 && rest.len() >= 8 {
        jumbo_payload(rest)?
    } else {
        py_split(rest, plen as isize).0
    };
    let step = ipv6_continue(nh, payload, quoted).ok()?;
    let (src, dst) = (arr16(d, 8), arr16(d, 24));
    if !quoted {
        found.ipv6.get_or_insert((src, dst));
    }
    found.note_src(Field::Ipv6(src));
    found.note_dst(Field::Ipv6(dst));
    step
}

/// The payload of an IPv6 packet with payload length 0 and a hop-by-hop header:
/// the reference looks for a jumbo payload option at offsets 2, 6, 10, ... and
/// fails when its scan lands exactly on the end of the packet or the option's
/// length runs past it. The length is read in little-endian byte order.
fn jumbo_payload(rest: &[u8]) -> Option<&[u8]> {
    let hbh_len = 8 + 8 * rest[1] as usize;
    let mut jumbo = 0usize;
    let mut offset = 2;
    while offset <= rest.len() {
        let opt = *rest.get(offset)?;
        if opt == 0xc2 {
            let v = rest.get(offset + 2..offset + 6)?;
            jumbo = u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as usize;
            break;
        }
        offset += 4;
    }
    Some(&rest[..(hbh_len + jumbo).min(rest.len())])
}

pub(super) fn ipv6_options(d: &[u8], quoted: bool) -> Step<'_> {
    if d.len() < 2 {
        return None;
    }
    let opt_len = 8 * (d[1] as usize + 1) - 2;
    let (options, payload) = py_split(&d[2..], opt_len as isize);
    if list_exceeds_limit(options, ipv6_option_len) {
        return None;
    }
    ipv6_continue(d[0], payload, quoted).ok()?
}

fn ipv6_option_len(s: &[u8]) -> usize {
    match s[0] {
        0x00 => 1,
        0x05 => fixed_or_all(s, 4),
        0x63 | 0xc2 => fixed_or_all(s, 6),
        0xc9 => fixed_or_all(s, 18),
        _ => tlv_len(s, 2, isize::from(*s.get(1).unwrap_or(&0))),
    }
}

pub(super) fn ipv6_routing(d: &[u8], quoted: bool) -> Step<'_> {
    if d.len() < 8 {
        return None;
    }
    // Addresses are taken in whole 16-byte units; a partial one is left to the
    // payload.
    let region = (8 * d[1] as usize).min(d.len() - 8);
    let payload = &d[8 + region / 16 * 16..];
    ipv6_continue(d[0], payload, quoted).ok()?
}

pub(super) fn ipv6_segment_routing(d: &[u8], quoted: bool) -> Step<'_> {
    if d.len() < 8 {
        return None;
    }
    let entries = d[4] as usize + 1;
    let rest = &d[8..];
    let taken = entries.min(rest.len() / 16) * 16;
    let rest = &rest[taken..];
    let tlv_len = 8 * d[1] as isize - 16 * entries as isize;
    let (tlvs, payload) = py_split(rest, tlv_len);
    if list_exceeds_limit(tlvs, segment_tlv_len) {
        return None;
    }
    ipv6_continue(d[0], payload, quoted).ok()?
}

// NOTE: the TLV sizes follow the reference's TLV classes as read, but unlike the
// other option lists this one was not compared against the reference on frames
// with more than 100 TLVs.
fn segment_tlv_len(s: &[u8]) -> usize {
    match s[0] {
        0 => 1,
        1 | 2 => fixed_or_all(s, 20),
        5 => {
            if s.len() < 9 {
                s.len()
            } else {
                tlv_len(s, 9, be16(s, 1) as isize - 48)
            }
        }
        _ => tlv_len(s, 2, isize::from(*s.get(1).unwrap_or(&0))),
    }
}

pub(super) fn ipv6_fragment(d: &[u8], quoted: bool) -> Step<'_> {
    if d.len() < 8 {
        return None;
    }
    // Only the first fragment is bound to the next header.
    if be16(d, 2) >> 3 != 0 {
        return None;
    }
    ipv6_continue(d[0], &d[8..], quoted).ok()?
}

pub(super) fn ah(d: &[u8]) -> Step<'_> {
    if d.len() < 12 {
        return None;
    }
    let icv_len = (d[1] as isize - 1) * 4;
    let (_icv, payload) = py_split(&d[12..], icv_len);
    // AH is bound to IPv4 (next header 0) and IPv6 only.
    let next = match d[0] {
        0 => Layer::Ipv4 { quoted: false },
        41 => Layer::Ipv6 { quoted: false },
        _ => return None,
    };
    Some((next, payload))
}

pub(super) fn tcp<'a>(d: &'a [u8], found: &mut Found<'a>) {
    if d.len() < 20 {
        return;
    }
    let opt_len = ((d[12] >> 4) as usize).saturating_sub(5) * 4;
    let options = &d[20..(20 + opt_len).min(d.len())];
    if tcp_options_rejected(options) {
        return;
    }
    found.tcp.get_or_insert((be16(d, 0), be16(d, 2)));
}

/// The reference decodes a TCP-AO option (kind 29) value as a two-byte header and
/// rejects the whole TCP header when exactly one value byte is present.
fn tcp_options_rejected(mut x: &[u8]) -> bool {
    while let Some(&kind) = x.first() {
        match kind {
            0 => break,
            1 => {
                x = &x[1..];
                continue;
            }
            _ => {}
        }
        let len = (*x.get(1).unwrap_or(&0) as usize).max(2);
        let value = x.get(2..len.min(x.len())).unwrap_or(&[]);
        if kind == 29 && value.len() == 1 {
            return true;
        }
        x = &x[len.min(x.len())..];
    }
    false
}

/// Which tunnel, if any, the reference decodes after a UDP header. Its bindings are
/// tried in order and the first match wins, so the ports bound to other protocols
/// earlier in the list shadow the tunnels.
fn udp_tunnel(sport: u16, dport: u16) -> Option<Layer> {
    let either = |ports: &[u16]| ports.contains(&sport) || ports.contains(&dport);
    if dport == 4754 {
        return Some(Layer::Gre);
    }
    if either(&[5353, 53, 88, 464, 1985, 2029, 4500, 500])
        || matches!((sport, dport), (68, 67) | (67, 68) | (67, 67))
        || dport == 547
        || dport == 546
    {
        return None;
    }
    if either(&[1701]) {
        return Some(Layer::L2tp);
    }
    if either(&[
        137, 138, 389, 5355, 2727, 434, 2055, 2056, 9995, 9996, 6343, 123, 1812, 1813, 3799, 520,
        161, 162,
    ]) || dport == 69
    {
        return None;
    }
    if [4789, 4790, 6633, 8472, 48879].contains(&dport) || [4789, 4790, 6633, 8472].contains(&sport)
    {
        return Some(Layer::Vxlan);
    }
    None
}

pub(super) fn udp<'a>(d: &'a [u8], quoted: bool, found: &mut Found<'a>) -> Step<'a> {
    let hdr = UdpHeaderSlice::from_slice(d).ok()?;
    let (sport, dport) = (hdr.source_port(), hdr.destination_port());
    if !quoted {
        found.udp.get_or_insert((sport, dport));
    }
    let (payload, _padding) = py_split(&d[8..], hdr.length() as isize - 8);
    Some((udp_tunnel(sport, dport)?, payload))
}

pub(super) fn icmp<'a>(d: &'a [u8], quoted: bool, found: &mut Found<'a>) -> Step<'a> {
    let t = d[0];
    let header = match t {
        13 | 14 => 20,
        17 | 18 | 37 | 38 => 12,
        _ => 8,
    };
    if d.len() < header {
        return None;
    }
    if !quoted {
        found.icmp = true;
    }
    if !matches!(t, 3 | 4 | 5 | 11 | 12) {
        return None;
    }
    // RFC 4884: in a long error message the quoted packet ends at byte 136 and
    // extension objects follow.
    let quote = if matches!(t, 3 | 11 | 12) && d.len() >= 144 {
        &d[8..136]
    } else {
        &d[8..]
    };
    Some((Layer::Ipv4 { quoted: true }, quote))
}

pub(super) fn arp<'a>(d: &'a [u8], found: &mut Found<'a>) {
    if d.len() < 8 || found.arp.is_some() {
        return;
    }
    let (hwtype, ptype) = (be16(d, 0), be16(d, 2));
    let (hwlen, plen) = (d[4] as usize, d[5] as usize);
    // Hardware addresses are MACs only for Ethernet with length 6, protocol
    // addresses IPv4 or IPv6 only with the matching type and length; otherwise
    // they are raw bytes of the declared length, which may run short. A typed
    // field that runs short rejects the whole ARP header.
    let hw = |rest: &mut &'a [u8]| -> Option<Field<'a>> {
        if hwtype == 1 && hwlen == 6 {
            let f = Field::Mac(arr6(rest.get(..6)?, 0));
            *rest = &rest[6..];
            Some(f)
        } else {
            let (f, r) = rest.split_at(hwlen.min(rest.len()));
            *rest = r;
            Some(Field::Bytes(f))
        }
    };
    let proto = |rest: &mut &'a [u8]| -> Option<Field<'a>> {
        if ptype == 0x0800 && plen == 4 {
            let f = Field::Ipv4(arr4(rest.get(..4)?, 0));
            *rest = &rest[4..];
            Some(f)
        } else if ptype == 0x86dd && plen == 16 {
            let f = Field::Ipv6(arr16(rest.get(..16)?, 0));
            *rest = &rest[16..];
            Some(f)
        } else {
            let (f, r) = rest.split_at(plen.min(rest.len()));
            *rest = r;
            Some(Field::Bytes(f))
        }
    };
    let mut rest = &d[8..];
    let fields = (|| {
        Some((
            hw(&mut rest)?,
            proto(&mut rest)?,
            hw(&mut rest)?,
            proto(&mut rest)?,
        ))
    })();
    if let Some((hwsrc, psrc, hwdst, pdst)) = fields {
        found.arp = Some(Arp {
            hwsrc,
            hwdst,
            psrc,
            pdst,
        });
    }
}

/// Checks whether a list of options or TLVs has more items than the reference's
/// dissector accepts, in which case it rejects the whole header. `item_len` returns the
/// length of the item at the start of a slice. Only lists longer than
/// [`MAX_LIST_ITEMS`] bytes can exceed the limit, which takes damaged length fields
/// such as IPv4 with IHL < 5, where the "options" run to near the end of the packet.
fn list_exceeds_limit(mut s: &[u8], item_len: fn(&[u8]) -> usize) -> bool {
    if s.len() <= MAX_LIST_ITEMS {
        return false;
    }
    let mut items = 0;
    while !s.is_empty() {
        items += 1;
        if items > MAX_LIST_ITEMS {
            return true;
        }
        s = &s[item_len(s).min(s.len())..];
    }
    false
}
