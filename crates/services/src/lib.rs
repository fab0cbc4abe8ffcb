//! The services every VPC answers itself, as functions of the compiled topology: the
//! Amazon DNS resolver ([`dns`], at the VPC's base+2 and 169.254.169.253) and the
//! instance metadata service ([`imds`], at 169.254.169.254). Sans-IO: the daemon owns
//! the sockets (in its services namespace, see docs/architecture.md), passes each
//! request in with the network interface that asked and the time, and writes back
//! what these functions return. The time service (169.254.169.123) is answered in the
//! packet pipeline itself (`vpc_dataplane`), being one UDP datagram.

pub mod dns;
pub mod imds;
