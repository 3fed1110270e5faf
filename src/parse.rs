//! Frame parsing (placeholder until the parser lands).
use crate::vector::TrafficVector;

/// Why a frame gave no traffic vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The capture's link type is not supported.
    UnsupportedLinkType,
    /// The frame has no IPv4, IPv6 or ARP layer.
    NoNetworkLayer,
}

/// Parses one captured frame into a traffic vector.
pub fn parse_frame(_link_type: u32, _frame: &[u8], _timestamp: f64) -> Result<TrafficVector, SkipReason> {
    Err(SkipReason::NoNetworkLayer)
}

/// Short name of a skip reason, for summaries.
pub fn skip_reason_name(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::UnsupportedLinkType => "unsupported_link_type",
        SkipReason::NoNetworkLayer => "no_ip_or_arp",
    }
}
