//! Wire formats: field layout and in-place edits of IPv4 and ICMP, and IGMP membership. Parsing with checks
//! is done by the `sanity` stage (with etherparse's zero-copy header view); this module
//! only knows where fields are and how to rewrite them with valid checksums.

pub mod checksum;
pub mod fragment;
pub mod icmp;
pub mod igmp;
pub mod ipv4;
