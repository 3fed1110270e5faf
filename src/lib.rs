//! afterimage computes the AfterImage features of the Kitsune network intrusion
//! detection system: damped incremental statistics over several time windows, 20
//! values per decay factor for every packet, bit-identical to the Python reference.
//!
//! - [`engine`]: the statistics engine ([`Engine`]), its record store and keys;
//! - [`parse`]: frames to [`TrafficVector`]s;
//! - [`capture`]: pcap and pcapng reading;
//! - [`output`]: feature and meta tables;
//! - [`state`]: saving and loading an engine's state;
//! - [`ffi`]: the C ABI declared in `include/afterimage.h` (conventions in the README's C API section).

pub mod capture;
#[doc(hidden)]
pub mod cli;
pub mod engine;
pub mod ffi;
pub mod output;
pub mod parse;
pub mod state;
pub mod vector;

pub use engine::{Config, ConfigError, Engine, LimitPolicy, PreallocateError, UpdateError};
pub use vector::{Address, Protocol, RawAddress, TrafficVector};
