//! Wire formats: field layout and in-place edits of IPv4 and ICMP, IGMP membership, and
//! the link layer of AF_XDP ports (Ethernet frames and ARP), NTP headers. Parsing IPv4 with checks
//! is done by the `sanity` stage (with etherparse's zero-copy header view); this module
//! only knows where fields are and how to rewrite them with valid checksums.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod fragment;
pub mod icmp;
pub mod igmp;
pub mod ipv4;
pub mod ntp;
