//! vpcd's dataplane: a sans-IO packet pipeline that makes a set of ENIs behave like the
//! ENIs of AWS VPCs.
//!
//! A packet read from an ENI goes through [`Dataplane::process`] (or a batch through
//! [`Dataplane::process_batch`]) with the current [`Time`] passed in, and comes back as
//! a [`Verdict`]: forward to an ENI, send the VPC router's reply, or drop for a named
//! [`DropReason`], counted in [`Counters`]. There are no sockets, threads or clocks in
//! here, and no allocation per packet: the caller owns reusable [`PacketBuf`]s and does
//! all I/O. The order of the stages is in `pipeline.rs`; each stage is its own module.
//! On ports that carry Ethernet frames (AF_XDP), [`link`] comes first: it hands the
//! pipeline the IPv4 packets, answers ARP, and gives the header of every frame written.

mod antispoof;
mod conntrack;
mod counters;
mod destination;
mod direction;
mod engine;
pub mod flowlog;
pub mod flowtable;
mod frag;
pub mod gro;
mod hop;
mod icmp_error;
mod l4;
pub mod link;
mod lpm;
pub mod nacl;
mod nat;
mod offload;
mod packet;
mod pipeline;
mod ports;
pub mod route;
mod router;
mod rule;
mod sanity;
pub mod services;
pub mod sg;
mod state;
mod tables;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
mod time;
mod timesync;
pub mod trace;
mod ttl;
mod verdict;
pub mod wire;
mod xlate;

pub use conntrack::{ConntrackStats, FlowInfo};
pub use counters::{Counters, EniCounters, NatMetrics, RouterCounters};
pub use direction::Direction;
pub use engine::Engine;
pub use hop::transit_gateway::TgwMetrics;
pub use hop::vpc_endpoint::EndpointMetrics;
pub use nat::NatMapping;
pub use packet::{Csum, Gso, Offload, PacketBuf};
pub use pipeline::{Batch, Dataplane, Limits, Snapshot};
pub use ports::Ports;
pub use time::Time;
pub use verdict::{DropReason, Port, Reply, Verdict};
