//! Two device settings by ioctl, on a device of the calling thread's namespace: a link
//! brought up (`SIOCSIFFLAGS`), and, through `SIOCETHTOOL`, transmit checksum offload
//! turned off on an instance's end of a veth whose other end is an AF_XDP port. With it on, the
//! instance's kernel leaves TCP and UDP checksums partial (the pseudo-header sum only)
//! for the device to finish, and a frame handed to an AF_XDP socket is never finished;
//! with it off, every frame the daemon reads carries complete checksums, as on a wire.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SIOCETHTOOL`.
const SIOCETHTOOL: libc::c_ulong = 0x8946;
/// `ETHTOOL_STXCSUM`: set transmit checksum offload.
const ETHTOOL_STXCSUM: u32 = 0x17;

/// `struct ethtool_value`.
#[repr(C)]
struct Value {
    cmd: u32,
    data: u32,
}

/// A socket to issue device ioctls on.
fn socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before it is owned.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An `ifreq` naming device `name`, the rest zero.
fn request(name: &str) -> io::Result<libc::ifreq> {
    // SAFETY: `ifreq` is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= req.ifr_name.len() {
        return Err(io::Error::other(format!("device name {name} too long")));
    }
    for (d, b) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = b as libc::c_char;
    }
    Ok(req)
}

/// `ioctl(sock, op, req)`.
fn ioctl(sock: &OwnedFd, op: libc::c_ulong, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: `req` names a device (NUL-terminated: it was zeroed and the name is
    // shorter than the field) and, for `SIOCETHTOOL`, points at a live
    // `struct ethtool_value` the kernel reads for the duration of the call.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), op, std::ptr::from_mut(req)) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Turns transmit checksum offload off on device `name`.
pub fn tx_checksum_off(name: &str) -> io::Result<()> {
    let sock = socket()?;
    let mut value = Value {
        cmd: ETHTOOL_STXCSUM,
        data: 0,
    };
    let mut req = request(name)?;
    req.ifr_ifru.ifru_data = std::ptr::from_mut(&mut value).cast();
    ioctl(&sock, SIOCETHTOOL, &mut req)
}

/// Brings device `name` up.
pub fn link_up(name: &str) -> io::Result<()> {
    let sock = socket()?;
    let mut req = request(name)?;
    ioctl(&sock, libc::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ioctl(&sock, libc::SIOCSIFFLAGS, &mut req)
}
