//! Hand-built frames for each link type and each rule of the traffic vector.

use super::*;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const IP_A: [u8; 4] = [10, 0, 0, 1];
const IP_B: [u8; 4] = [10, 0, 0, 2];
const IP6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const IP6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn ether(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4_with(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
    let len = (20 + payload.len()) as u16;
    h[2..4].copy_from_slice(&len.to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_with(IP_A, IP_B, proto, 0, payload)
}

fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next_header, 64]);
    h.extend_from_slice(&IP6_A);
    h.extend_from_slice(&IP6_B);
    h.extend_from_slice(payload);
    h
}

fn tcp(sport: u16, dport: u16) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[12] = 0x50;
    h
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(payload);
    h
}

fn arp(hwtype: u16, ptype: u16, hwlen: u8, plen: u8, addresses: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&hwtype.to_be_bytes());
    h.extend_from_slice(&ptype.to_be_bytes());
    h.extend_from_slice(&[hwlen, plen, 0, 1]);
    h.extend_from_slice(addresses);
    h
}

fn parse(link_type: u32, frame: &[u8]) -> TrafficVector {
    parse_frame(link_type, frame, 1.5).expect("frame should give a traffic vector")
}

fn text(a: &Address) -> String {
    a.to_string()
}

#[test]
fn ethernet_tcp_gives_macs_ips_and_ports() {
    let v = parse(1, &ether(0x0800, &ipv4(6, &tcp(1234, 80))));
    assert_eq!(v.ip_type, 0);
    assert_eq!(text(&v.src_mac), "02:00:00:00:00:0a");
    assert_eq!(text(&v.dst_mac), "02:00:00:00:00:0b");
    assert_eq!(text(&v.src_ip), "10.0.0.1");
    assert_eq!(text(&v.dst_ip), "10.0.0.2");
    assert_eq!(v.src_protocol, Protocol::Port(1234));
    assert_eq!(v.dst_protocol, Protocol::Port(80));
    assert_eq!(v.timestamp, 1.5);
    assert_eq!(v.size, 54);
}

#[test]
fn vlan_tag_keeps_outer_macs() {
    let mut tagged = vec![0x00, 0x64, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4(17, &udp(53, 5353, b"")));
    let v = parse(1, &ether(0x8100, &tagged));
    assert_eq!(v.src_mac, Address::Mac(MAC_A));
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
    assert_eq!(v.src_protocol, Protocol::Port(53));
}

#[test]
fn qinq_tags_reach_the_ip_layer() {
    let mut tagged = vec![0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4(6, &tcp(1, 2)));
    let v = parse(1, &ether(0x88a8, &tagged));
    assert_eq!(v.src_mac, Address::Mac(MAC_A));
    assert_eq!(v.dst_protocol, Protocol::Port(2));
}

#[test]
fn llc_snap_carries_ip() {
    let mut payload = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    payload.extend_from_slice(&ipv4(6, &tcp(7, 8)));
    let frame = ether(payload.len() as u16, &payload);
    let v = parse(1, &frame);
    assert_eq!(v.src_mac, Address::Mac(MAC_A));
    assert_eq!(v.src_protocol, Protocol::Port(7));
}

#[test]
fn sll_source_is_raw_address_and_destination_is_ip() {
    let mut frame = vec![
        0, 0, 0, 1, 0, 6, 0x08, 0x00, 0x27, 0x19, 0x1c, 0x78, 0, 0, 0x08, 0x00,
    ];
    frame.extend_from_slice(&ipv4(6, &tcp(1, 2)));
    let v = parse(113, &frame);
    assert_eq!(text(&v.src_mac), r#"b"\x08\x00'\x19\x1cx\x00\x00""#);
    assert_eq!(v.dst_mac, Address::Ipv4(IP_B));
}

#[test]
fn sll2_source_is_raw_address() {
    let mut frame = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6];
    frame.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
    frame.extend_from_slice(&ipv4(1, &[8, 0, 0, 0, 0, 0, 0, 0]));
    let v = parse(276, &frame);
    assert_eq!(text(&v.src_mac), r"b'\x01\x02\x03\x04\x05\x06\x00\x00'");
    assert_eq!(v.src_protocol, Protocol::Icmp);
}

#[test]
fn raw_ip_v4_uses_ip_addresses_as_macs() {
    let v = parse(101, &ipv4(6, &tcp(1, 2)));
    assert_eq!(v.src_mac, Address::Ipv4(IP_A));
    assert_eq!(v.dst_mac, Address::Ipv4(IP_B));
}

#[test]
fn raw_ip_v6_picked_by_version_nibble() {
    let v = parse(12, &ipv6(17, &udp(1, 2, b"")));
    assert_eq!(v.ip_type, 1);
    assert_eq!(text(&v.src_ip), "2001:db8::1");
    assert_eq!(v.src_mac, Address::Ipv6(IP6_A));
}

#[test]
fn raw_ipv6_link_type_229() {
    let v = parse(229, &ipv6(6, &tcp(5, 6)));
    assert_eq!(v.dst_protocol, Protocol::Port(6));
}

#[test]
fn loopback_af2_gives_ipv4() {
    let mut frame = vec![2, 0, 0, 0];
    frame.extend_from_slice(&ipv4(6, &tcp(1, 2)));
    let v = parse(0, &frame);
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
}

#[test]
fn loopback_af30_decoded_as_ipv6() {
    let mut frame = vec![30, 0, 0, 0];
    frame.extend_from_slice(&ipv6(6, &tcp(1, 2)));
    let v = parse(0, &frame);
    assert_eq!(v.ip_type, 1);
}

#[test]
fn loop_link_type_reads_family_big_endian() {
    let mut frame = vec![0, 0, 0, 24];
    frame.extend_from_slice(&ipv6(6, &tcp(1, 2)));
    let v = parse(108, &frame);
    assert_eq!(v.src_ip, Address::Ipv6(IP6_A));
}

#[test]
fn loopback_unknown_family_is_skipped() {
    let mut frame = vec![7, 0, 0, 0];
    frame.extend_from_slice(&ipv4(6, &tcp(1, 2)));
    assert_eq!(parse_frame(0, &frame, 0.0), Err(SkipReason::NoNetworkLayer));
}

#[test]
fn arp_request_uses_arp_addresses() {
    let mut addresses = MAC_A.to_vec();
    addresses.extend_from_slice(&IP_A);
    addresses.extend_from_slice(&[0; 6]);
    addresses.extend_from_slice(&IP_B);
    let v = parse(1, &ether(0x0806, &arp(1, 0x0800, 6, 4, &addresses)));
    assert_eq!(v.src_mac, Address::Mac(MAC_A));
    assert_eq!(text(&v.dst_mac), "00:00:00:00:00:00");
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
    assert_eq!(v.dst_protocol, Protocol::Arp);
    assert_eq!(v.ip_type, 0);
}

#[test]
fn arp_odd_lengths_give_raw_bytes() {
    let v = parse(1, &ether(0x0806, &arp(6, 0x0800, 2, 3, b"ab123cd45")));
    assert_eq!(text(&v.src_mac), "b'ab'");
    assert_eq!(text(&v.src_ip), "b'123'");
    assert_eq!(text(&v.dst_mac), "b'cd'");
    assert_eq!(text(&v.dst_ip), "b'45'");
}

#[test]
fn arp_short_mac_field_rejects_arp() {
    let frame = ether(0x0806, &arp(1, 0x0800, 6, 4, &MAC_A[..4]));
    assert_eq!(parse_frame(1, &frame, 0.0), Err(SkipReason::NoNetworkLayer));
}

#[test]
fn ipv4_later_fragment_has_no_ports() {
    let v = parse(
        1,
        &ether(0x0800, &ipv4_with(IP_A, IP_B, 6, 0x00b9, &tcp(1, 2))),
    );
    assert_eq!(v.src_protocol, Protocol::None);
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
}

#[test]
fn ipv6_fragment_header_first_fragment_keeps_ports() {
    let mut frag = vec![17, 0, 0, 1, 0, 0, 0, 9];
    frag.extend_from_slice(&udp(67, 68, b""));
    let v = parse(1, &ether(0x86dd, &ipv6(44, &frag)));
    assert_eq!(v.src_protocol, Protocol::Port(67));
}

#[test]
fn ipv6_fragment_header_later_fragment_has_no_ports() {
    let mut frag = vec![17, 0, 0, 0x09, 0, 0, 0, 9];
    frag.extend_from_slice(&udp(67, 68, b""));
    let v = parse(1, &ether(0x86dd, &ipv6(44, &frag)));
    assert_eq!(v.src_protocol, Protocol::None);
}

#[test]
fn icmp_error_with_quoted_tcp_counts_as_icmp() {
    let mut icmp = vec![3, 1, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&ipv4_with(IP_B, [8, 8, 8, 8], 6, 0, &tcp(443, 5555)));
    let v = parse(1, &ether(0x0800, &ipv4(1, &icmp)));
    assert_eq!(v.src_protocol, Protocol::Icmp);
    assert_eq!(v.dst_ip, Address::Ipv4(IP_B));
}

#[test]
fn icmpv6_gives_empty_protocols() {
    let v = parse(1, &ether(0x86dd, &ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1])));
    assert_eq!(v.src_protocol, Protocol::None);
    assert_eq!(v.ip_type, 1);
}

#[test]
fn gre_carrying_tcp_gives_outer_ips_and_inner_ports() {
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(&ipv4_with(
        [192, 168, 0, 1],
        [192, 168, 0, 2],
        6,
        0,
        &tcp(22, 2222),
    ));
    let v = parse(1, &ether(0x0800, &ipv4(47, &gre)));
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
    assert_eq!(v.src_protocol, Protocol::Port(22));
}

#[test]
fn vxlan_carrying_tcp_gives_inner_ports() {
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vxlan.extend_from_slice(&ether(
        0x0800,
        &ipv4_with([192, 168, 0, 1], [192, 168, 0, 2], 6, 0, &tcp(80, 8080)),
    ));
    let v = parse(1, &ether(0x0800, &ipv4(17, &udp(40000, 4789, &vxlan))));
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
    assert_eq!(v.dst_protocol, Protocol::Port(8080));
}

#[test]
fn ipv4_inside_ipv6_wins() {
    let v = parse(1, &ether(0x86dd, &ipv6(4, &ipv4(6, &tcp(1, 2)))));
    assert_eq!(v.ip_type, 0);
    assert_eq!(v.src_ip, Address::Ipv4(IP_A));
    assert_eq!(v.src_mac, Address::Mac(MAC_A));
}

#[test]
fn truncated_tcp_header_has_no_ports() {
    let frame = ether(0x0800, &ipv4(6, &tcp(1, 2)));
    let v = parse(1, &frame[..14 + 20 + 19]);
    assert_eq!(v.src_protocol, Protocol::None);
    assert_eq!(v.size, 53);
}

#[test]
fn ipv4_ihl_below_five_takes_payload_from_the_end() {
    // With IHL 0 the "options" are all but the last 20 bytes (here 20 NOPs),
    // which leaves the TCP header as the payload.
    let mut body = vec![1u8; 20];
    body.extend_from_slice(&tcp(9, 10));
    let mut packet = ipv4(6, &body);
    packet[0] = 0x40;
    let v = parse(228, &packet);
    assert_eq!(v.src_protocol, Protocol::Port(9));
}

#[test]
fn igmp_without_ip_options_counts_router_alert_in_size() {
    let v = parse(1, &ether(0x0800, &ipv4(2, &[0x16, 0, 0, 0, 224, 0, 0, 1])));
    assert_eq!(v.size, 14 + 20 + 8 + 4);
}

#[test]
fn frame_longer_than_65535_bytes_is_cut() {
    let mut frame = ether(0x0800, &ipv4(17, &udp(1, 2, b"")));
    frame.resize(70_000, 0);
    let v = parse(1, &frame);
    assert_eq!(v.size, 65_535);
}

#[test]
fn lldp_is_skipped() {
    let frame = ether(0x88cc, &[2, 7, 4, 0, 0, 0, 0, 0, 1]);
    assert_eq!(parse_frame(1, &frame, 0.0), Err(SkipReason::NoNetworkLayer));
}

#[test]
fn unknown_link_type_is_skipped() {
    assert_eq!(
        parse_frame(147, &[0x45; 40], 0.0),
        Err(SkipReason::UnsupportedLinkType)
    );
}

#[test]
fn empty_frame_is_skipped() {
    assert_eq!(parse_frame(101, &[], 0.0), Err(SkipReason::EmptyFrame));
}

#[test]
fn skip_reasons_have_names() {
    assert_eq!(skip_reason_name(SkipReason::NoNetworkLayer), "no_ip_or_arp");
}

#[test]
fn hostile_bytes_never_panic() {
    // A cheap deterministic generator; every prefix of every frame is parsed on
    // every supported link type.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let seeds = [
        ether(
            0x0800,
            &ipv4(47, &[0x30, 0, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0]),
        ),
        ether(0x86dd, &ipv6(0, &[6, 0, 0xc2, 4, 0, 0, 0, 9])),
        ether(
            0x0800,
            &ipv4(
                17,
                &udp(1701, 1701, &[0xc8, 2, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0x21]),
            ),
        ),
    ];
    for link_type in [0, 1, 9, 12, 50, 51, 101, 108, 113, 204, 228, 229, 276] {
        for seed in &seeds {
            for _ in 0..200 {
                let mut frame = seed.clone();
                for _ in 0..3 {
                    let i = next() as usize % frame.len();
                    frame[i] = next();
                }
                for end in 0..=frame.len() {
                    let _ = parse_frame(link_type, &frame[..end], 0.0);
                }
            }
        }
    }
}
