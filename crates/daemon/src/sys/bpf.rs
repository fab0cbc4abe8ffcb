//! The XDP program of an AF_XDP port: on the daemon's end of a veth, every frame goes
//! to the AF_XDP socket bound to the queue it arrived on (an `XSKMAP` indexed by queue,
//! `bpf_redirect_map(&map, ctx->rx_queue_index, XDP_DROP)`). It is libxdp's default
//! AF_XDP program but for that last argument: a queue with no socket yet drops its
//! frames rather than passing them to the port namespace's stack, which has no use for
//! them. Five instructions (one of them two slots long), loaded here with the `bpf(2)`
//! system call (as libbpf's own `xsk.c` once did) rather than from an object file: that
//! needs neither a BPF compiler at build time nor a loader library (see
//! docs/dependencies.md). Attached through a BPF link in native (driver) mode: it stays
//! attached while the link's descriptor is open, so it goes away with the daemon.
//!
//! Also the steering program of a multi-queue TUN device ([`steer`]): which queue (and
//! so which forwarding thread) reads each packet an instance sends. It hashes the
//! packet's source and destination addresses, and TCP and UDP ports, symmetrically
//! (`src ^ dst ^ sport ^ dport`, folded), so both directions of every conversation are
//! read by one thread,
//! and a flow never moves: without it the kernel steers a flow to the queue its last
//! reply was written on, which moves flows between threads.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `bpf(2)` commands.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
/// `BPF_MAP_TYPE_XSKMAP`.
const MAP_TYPE_XSKMAP: u32 = 17;
/// `BPF_PROG_TYPE_XDP`.
const PROG_TYPE_XDP: u32 = 6;
/// `BPF_PROG_TYPE_SOCKET_FILTER`: what a TUN device's steering program is.
const PROG_TYPE_SOCKET_FILTER: u32 = 1;
/// `TUNSETSTEERINGEBPF` (`_IOR('T', 224, int)`).
const TUNSETSTEERINGEBPF: libc::c_ulong = 0x8004_54e0;
/// `BPF_XDP`, the attach type of an XDP link.
const ATTACH_XDP: u32 = 37;
/// `XDP_FLAGS_DRV_MODE`: native XDP (veth has it).
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;
/// `bpf_redirect_map`'s helper number.
const HELPER_REDIRECT_MAP: i32 = 51;
/// `XDP_DROP`: what the redirect returns when the queue has no socket.
const XDP_DROP: i32 = 1;
/// `BPF_PSEUDO_MAP_FD`: a 64-bit immediate load that names a map by descriptor.
const PSEUDO_MAP_FD: u8 = 1;
/// Offset of `rx_queue_index` in `struct xdp_md`.
const XDP_MD_RX_QUEUE_INDEX: i16 = 16;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct Insn {
    code: u8,
    /// Destination register (low nibble) and source register (high nibble).
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program, for the map with descriptor `map`.
fn program(map: RawFd) -> [Insn; 6] {
    [
        // r2 = ctx->rx_queue_index (BPF_LDX | BPF_W | BPF_MEM)
        insn(0x61, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0),
        // r1 = map (BPF_LD | BPF_DW | BPF_IMM, two instructions)
        insn(0x18, 1, PSEUDO_MAP_FD, 0, map),
        insn(0, 0, 0, 0, 0),
        // r3 = XDP_DROP (BPF_ALU64 | BPF_MOV | BPF_K)
        insn(0xb7, 3, 0, 0, XDP_DROP),
        // r0 = bpf_redirect_map(r1, r2, r3) (BPF_JMP | BPF_CALL)
        insn(0x85, 0, 0, 0, HELPER_REDIRECT_MAP),
        // return r0 (BPF_JMP | BPF_EXIT)
        insn(0x95, 0, 0, 0, 0),
    ]
}

/// The steering program: returns a symmetric hash of the IPv4 source and destination
/// addresses, and for TCP and UDP of the two ports too (the TUN device takes it modulo
/// its queues, 16 bits of it). `LD_ABS`/`LD_IND` read the packet through the context in
/// r6; a packet too short for a load returns 0 (queue 0).
fn steering_program() -> [Insn; 27] {
    [
        // r6 = r1 (the context, for LD_ABS)
        insn(0xbf, 6, 1, 0, 0),
        // r7 = source address ^ destination address (BPF_LD | BPF_W | BPF_ABS)
        insn(0x20, 0, 0, 0, 12),
        insn(0xbf, 7, 0, 0, 0),
        insn(0x20, 0, 0, 0, 16),
        insn(0xaf, 7, 0, 0, 0),
        // r0 = protocol (BPF_LD | BPF_B | BPF_ABS); TCP or UDP: to 9, else to 19
        insn(0x30, 0, 0, 0, 9),
        insn(0x15, 0, 0, 2, 6),
        insn(0x15, 0, 0, 1, 17),
        insn(0x05, 0, 0, 10, 0),
        // 9: r8 = the header's length (IHL * 4)
        insn(0x30, 0, 0, 0, 0),
        insn(0x57, 0, 0, 0, 0x0f),
        insn(0x67, 0, 0, 0, 2),
        insn(0xbf, 8, 0, 0, 0),
        // r0 = both ports (BPF_LD | BPF_W | BPF_IND, at r8); r7 ^= sport ^ dport
        insn(0x40, 0, 8, 0, 0),
        insn(0xbf, 9, 0, 0, 0),
        insn(0x77, 9, 0, 0, 16),
        insn(0x57, 0, 0, 0, 0xffff),
        insn(0xaf, 0, 9, 0, 0),
        insn(0xaf, 7, 0, 0, 0),
        // 19: r0 = r7, the high half folded into the low, the second byte into the first
        insn(0xbf, 0, 7, 0, 0),
        insn(0xbf, 9, 0, 0, 0),
        insn(0x77, 9, 0, 0, 16),
        insn(0xaf, 0, 9, 0, 0),
        insn(0xbf, 9, 0, 0, 0),
        insn(0x77, 9, 0, 0, 8),
        insn(0xaf, 0, 9, 0, 0),
        // return r0
        insn(0x95, 0, 0, 0, 0),
    ]
}

/// Loads the steering program; its descriptor.
fn load_steering() -> io::Result<OwnedFd> {
    let insns = steering_program();
    let license = c"GPL";
    let mut attr = ProgLoad {
        prog_type: PROG_TYPE_SOCKET_FILTER,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name("vpcd_steer"),
        ..ProgLoad::default()
    };
    owned(bpf(BPF_PROG_LOAD, &mut attr)?)
}

/// Gives the multi-queue TUN device whose queue descriptor is `tun` the steering
/// program (the device keeps it until it goes; the program's descriptor is closed
/// here).
pub fn steer(tun: RawFd) -> io::Result<()> {
    let prog = load_steering()?;
    let fd: libc::c_int = prog.as_raw_fd();
    // SAFETY: `TUNSETSTEERINGEBPF` reads one `int` (a program descriptor) from the
    // pointer, which points at `fd`, alive for the call; `tun` is the caller's open
    // TUN descriptor (a bad one fails with an error, nothing else).
    let r = unsafe { libc::ioctl(tun, TUNSETSTEERINGEBPF, std::ptr::from_ref(&fd)) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `union bpf_attr` for `BPF_MAP_CREATE` (the fields up to `map_name`).
#[repr(C)]
#[derive(Default)]
struct MapCreate {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

/// `union bpf_attr` for `BPF_MAP_UPDATE_ELEM`.
#[repr(C)]
#[derive(Default)]
struct MapUpdate {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// `union bpf_attr` for `BPF_PROG_LOAD` (the fields up to `expected_attach_type`).
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for `BPF_LINK_CREATE` (the common fields).
#[repr(C)]
#[derive(Default)]
struct LinkCreate {
    prog_fd: u32,
    target_ifindex: u32,
    attach_type: u32,
    flags: u32,
}

/// Calls `bpf(cmd, attr)`; a non-negative result is a new descriptor when `fd`.
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a `#[repr(C)]` prefix of `union bpf_attr` for `cmd`, valid for
    // reads and writes of `size_of::<T>()` bytes; the kernel reads at most that size
    // (the rest of the union counts as zero) and any pointers inside it point to live
    // memory of the lengths given beside them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            std::ptr::from_mut(attr),
            std::mem::size_of::<T>(),
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A descriptor `bpf(2)` returned.
fn owned(r: libc::c_long) -> io::Result<OwnedFd> {
    let fd = RawFd::try_from(r).map_err(|_| io::Error::other("bpf: descriptor out of range"))?;
    // SAFETY: the kernel just returned `fd` as a new descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn name(s: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    for (d, b) in n.iter_mut().zip(s.bytes().take(15)) {
        *d = b;
    }
    n
}

/// The XDP program attached to one device, its socket map, and the link that keeps it
/// attached (dropping this detaches it).
#[derive(Debug)]
pub struct Redirect {
    map: OwnedFd,
    _prog: OwnedFd,
    _link: OwnedFd,
}

impl Redirect {
    /// Loads the program with a map of `queues` sockets and attaches it to device
    /// `ifindex` of the calling thread's namespace, in native mode.
    pub fn attach(ifindex: u32, queues: u32) -> io::Result<Redirect> {
        let map = Self::map(queues)?;
        let prog = Self::load(&map)?;
        let mut link = LinkCreate {
            prog_fd: fd_u32(&prog),
            target_ifindex: ifindex,
            attach_type: ATTACH_XDP,
            flags: XDP_FLAGS_DRV_MODE,
        };
        let link = owned(bpf(BPF_LINK_CREATE, &mut link)?)?;
        Ok(Redirect {
            map,
            _prog: prog,
            _link: link,
        })
    }

    /// Whether this kernel lets the daemon create a socket map and load the program
    /// (BPF enabled, the daemon privileged): neither is kept.
    pub fn probe() -> io::Result<()> {
        let map = Self::map(1)?;
        Self::load(&map).map(drop)
    }

    fn map(queues: u32) -> io::Result<OwnedFd> {
        let mut attr = MapCreate {
            map_type: MAP_TYPE_XSKMAP,
            key_size: 4,
            value_size: 4,
            max_entries: queues.max(1),
            map_name: name("vpcd_xsks"),
            ..MapCreate::default()
        };
        owned(bpf(BPF_MAP_CREATE, &mut attr)?)
    }

    fn load(map: &OwnedFd) -> io::Result<OwnedFd> {
        let insns = program(map.as_raw_fd());
        let license = c"GPL";
        let mut attr = ProgLoad {
            prog_type: PROG_TYPE_XDP,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: license.as_ptr() as u64,
            prog_name: name("vpcd_xsk"),
            expected_attach_type: ATTACH_XDP,
            ..ProgLoad::default()
        };
        owned(bpf(BPF_PROG_LOAD, &mut attr)?)
    }

    /// Sends the frames of queue `queue` to AF_XDP socket `socket`.
    pub fn insert(&self, queue: u32, socket: RawFd) -> io::Result<()> {
        let value = u32::try_from(socket).map_err(|_| io::Error::other("bad socket"))?;
        let mut attr = MapUpdate {
            map_fd: fd_u32(&self.map),
            key: std::ptr::from_ref(&queue) as u64,
            value: std::ptr::from_ref(&value) as u64,
            ..MapUpdate::default()
        };
        bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
    }
}

fn fd_u32(fd: &OwnedFd) -> u32 {
    // Descriptors are non-negative.
    fd.as_raw_fd().unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instructions byte for byte, for map descriptor 7, as the eBPF instruction
    /// set (RFC 9669) encodes them: opcode, destination and source registers (low and
    /// high nibble), 16-bit offset, 32-bit immediate, little-endian.
    #[test]
    fn the_program_encodes_as_expected() {
        let p = program(7);
        let bytes: Vec<u8> = p
            .iter()
            .flat_map(|i| {
                let mut b = vec![i.code, i.regs];
                b.extend_from_slice(&i.off.to_le_bytes());
                b.extend_from_slice(&i.imm.to_le_bytes());
                b
            })
            .collect();
        assert_eq!(
            bytes,
            [
                0x61, 0x12, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // r2 = *(u32 *)(r1 + 16)
                0x18, 0x11, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, // r1 = map 7 ll
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
                0xb7, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // r3 = 1
                0x85, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00, // call 51
                0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // exit
            ]
        );
        assert_eq!(std::mem::size_of::<Insn>(), 8);
    }

    /// `union bpf_attr` for `BPF_PROG_TEST_RUN` (the fields up to `ctx_out`).
    #[repr(C)]
    #[derive(Default)]
    struct TestRun {
        prog_fd: u32,
        retval: u32,
        data_size_in: u32,
        data_size_out: u32,
        data_in: u64,
        data_out: u64,
        repeat: u32,
        duration: u32,
        ctx_size_in: u32,
        ctx_size_out: u32,
        ctx_in: u64,
        ctx_out: u64,
    }

    /// What the loaded steering program returns for an IPv4 packet of protocol
    /// `proto` from `src`:`sport` to `dst`:`dport` (run by the kernel,
    /// `BPF_PROG_TEST_RUN`, behind an Ethernet header, as the kernel runs socket
    /// filters).
    fn steer_of(
        prog: &OwnedFd,
        proto: u8,
        (src, sport): ([u8; 4], u16),
        (dst, dport): ([u8; 4], u16),
    ) -> u32 {
        let mut frame = [0u8; 14 + 28];
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        frame[14] = 0x45;
        frame[16..18].copy_from_slice(&28u16.to_be_bytes());
        frame[22] = 64;
        frame[23] = proto;
        frame[26..30].copy_from_slice(&src);
        frame[30..34].copy_from_slice(&dst);
        frame[34..36].copy_from_slice(&sport.to_be_bytes());
        frame[36..38].copy_from_slice(&dport.to_be_bytes());
        let mut attr = TestRun {
            prog_fd: fd_u32(prog),
            data_size_in: frame.len() as u32,
            data_in: frame.as_ptr() as u64,
            repeat: 1,
            ..TestRun::default()
        };
        bpf(10, &mut attr).expect("BPF_PROG_TEST_RUN");
        attr.retval
    }

    /// The kernel accepts the steering program, and it keeps both directions of a
    /// conversation together while spreading conversations, even between the same two
    /// addresses, over two queues (as root).
    #[test]
    fn the_steering_program_keeps_both_directions_together() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: loading a BPF program needs root");
            return;
        }
        let prog = load_steering().expect("the kernel loads the steering program");
        let (web, app) = ([10, 0, 1, 10], [10, 0, 2, 10]);
        for proto in [6, 17] {
            let there = steer_of(&prog, proto, (web, 40000), (app, 8080));
            assert_eq!(there, steer_of(&prog, proto, (app, 8080), (web, 40000)));
        }
        // 10.0.1.10 ^ 10.0.2.10 = 0x0300, 40000 ^ 8080 = 0x9c40 ^ 0x1f90 = 0x83d0:
        // 0x80d0, folded (>> 16: nothing; >> 8: 0x80) to 0x8050.
        assert_eq!(steer_of(&prog, 6, (web, 40000), (app, 8080)), 0x8050);
        // ICMP: the addresses only (0x0303), whatever follows the header.
        assert_eq!(steer_of(&prog, 1, (web, 0x0800), (app, 1)), 0x0303);
        let queues: std::collections::BTreeSet<u32> = (40000..40016)
            .map(|p| steer_of(&prog, 6, (web, p), (app, 5201)) % 2)
            .collect();
        assert_eq!(queues.len(), 2, "streams between two hosts use both queues");
    }

    /// The steering program byte for byte (RFC 9669 encodings).
    #[test]
    fn the_steering_program_encodes_as_expected() {
        let bytes: Vec<u8> = steering_program()
            .iter()
            .flat_map(|i| {
                let mut b = vec![i.code, i.regs];
                b.extend_from_slice(&i.off.to_le_bytes());
                b.extend_from_slice(&i.imm.to_le_bytes());
                b
            })
            .collect();
        #[rustfmt::skip]
        let expected = [
            0xbf, 0x16, 0, 0, 0, 0, 0, 0,       // r6 = r1
            0x20, 0x00, 0, 0, 12, 0, 0, 0,      // r0 = ntohl(skb[12]) (source)
            0xbf, 0x07, 0, 0, 0, 0, 0, 0,       // r7 = r0
            0x20, 0x00, 0, 0, 16, 0, 0, 0,      // r0 = ntohl(skb[16]) (destination)
            0xaf, 0x07, 0, 0, 0, 0, 0, 0,       // r7 ^= r0
            0x30, 0x00, 0, 0, 9, 0, 0, 0,       // r0 = skb[9] (protocol)
            0x15, 0x00, 2, 0, 6, 0, 0, 0,       // if r0 == 6 goto +2
            0x15, 0x00, 1, 0, 17, 0, 0, 0,      // if r0 == 17 goto +1
            0x05, 0x00, 10, 0, 0, 0, 0, 0,      // goto +10
            0x30, 0x00, 0, 0, 0, 0, 0, 0,       // r0 = skb[0]
            0x57, 0x00, 0, 0, 0x0f, 0, 0, 0,    // r0 &= 0xf
            0x67, 0x00, 0, 0, 2, 0, 0, 0,       // r0 <<= 2
            0xbf, 0x08, 0, 0, 0, 0, 0, 0,       // r8 = r0
            0x40, 0x80, 0, 0, 0, 0, 0, 0,       // r0 = ntohl(skb[r8]) (ports)
            0xbf, 0x09, 0, 0, 0, 0, 0, 0,       // r9 = r0
            0x77, 0x09, 0, 0, 16, 0, 0, 0,      // r9 >>= 16
            0x57, 0x00, 0, 0, 0xff, 0xff, 0, 0, // r0 &= 0xffff
            0xaf, 0x90, 0, 0, 0, 0, 0, 0,       // r0 ^= r9
            0xaf, 0x07, 0, 0, 0, 0, 0, 0,       // r7 ^= r0
            0xbf, 0x70, 0, 0, 0, 0, 0, 0,       // r0 = r7
            0xbf, 0x09, 0, 0, 0, 0, 0, 0,       // r9 = r0
            0x77, 0x09, 0, 0, 16, 0, 0, 0,      // r9 >>= 16
            0xaf, 0x90, 0, 0, 0, 0, 0, 0,       // r0 ^= r9
            0xbf, 0x09, 0, 0, 0, 0, 0, 0,       // r9 = r0
            0x77, 0x09, 0, 0, 8, 0, 0, 0,       // r9 >>= 8
            0xaf, 0x90, 0, 0, 0, 0, 0, 0,       // r0 ^= r9
            0x95, 0x00, 0, 0, 0, 0, 0, 0,       // exit
        ];
        assert_eq!(bytes, expected);
    }
}
