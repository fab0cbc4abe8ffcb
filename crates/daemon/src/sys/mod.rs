//! Every `unsafe` block of the daemon lives under this module (the crate's lints deny
//! `unsafe` elsewhere): the system interfaces no safe crate covers. `uring`: batched TUN
//! I/O with io_uring; `xsk`: AF_XDP sockets over a memory area the kernel shares;
//! `bpf`: the few-instruction XDP program that hands a veth's frames to those sockets,
//! and a multi-queue TUN device's steering program;
//! `netdev`: two device settings. Each `unsafe` block says why it is sound
//! (`// SAFETY:`); what they hand out is safe to use.

#![allow(unsafe_code)]

pub mod bpf;
pub mod netdev;
pub mod uring;
pub mod xsk;
