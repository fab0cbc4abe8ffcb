//! Packet buffers: one allocation made up front and reused for every packet, so the
//! pipeline never allocates. A buffer has room to grow a packet in place (the VPC
//! router turns a packet into the ICMP error that quotes it). A buffer also carries what
//! the kernel said about the packet when the daemon read it from a TUN device with
//! virtio-net headers ([`Offload`]): a transport checksum left partial, and a
//! superpacket's segment size. The pipeline forwards such packets whole and keeps the
//! metadata true; the daemon writes it back with the packet.

/// A reusable packet buffer: `capacity` bytes, of which the first `len` are the packet.
#[derive(Debug, Clone)]
pub struct PacketBuf {
    data: Box<[u8]>,
    len: usize,
    offload: Offload,
    fragment_mtu: Option<u16>,
}

/// Offload metadata of a packet (Linux `virtio_net_hdr`, as a TUN device with
/// `IFF_VNET_HDR` reads and writes it), as checked types. The default is a plain packet
/// whose checksums are all complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offload {
    /// The state of the transport checksum.
    pub csum: Csum,
    /// Segmentation: a superpacket is cut into segments by whoever receives it.
    pub gso: Gso,
}

/// The state of a packet's transport (TCP/UDP) checksum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Csum {
    /// Complete, as on the wire (or absent: UDP checksum 0). Verified where the pipeline
    /// verifies checksums.
    #[default]
    Complete,
    /// Partial (`VIRTIO_NET_HDR_F_NEEDS_CSUM`, the kernel's `CHECKSUM_PARTIAL`): the
    /// field at `start + offset` holds only the pseudo-header sum, not complemented;
    /// the receiving kernel completes it over the bytes from `start`. Address changes
    /// update it; port changes do not (ports are summed later, with the data).
    Partial {
        /// Where the checksummed bytes start (the transport header).
        start: u16,
        /// Offset of the checksum field from `start`.
        offset: u16,
    },
    /// Complete and already verified by the sender's kernel
    /// (`VIRTIO_NET_HDR_F_DATA_VALID`).
    Valid,
}

/// Segmentation offload of a packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Gso {
    /// One packet.
    #[default]
    None,
    /// A TCP superpacket (`VIRTIO_NET_HDR_GSO_TCPV4`): its payload is cut into
    /// segments of `mss` bytes, each with a copy of the headers; `ecn` if the sender
    /// uses ECN (`VIRTIO_NET_HDR_GSO_ECN`).
    Tcp {
        /// Payload bytes per segment.
        mss: u16,
        /// ECN in use.
        ecn: bool,
    },
    /// A UDP superpacket (`VIRTIO_NET_HDR_GSO_UDP_L4`): datagrams of `size` payload
    /// bytes each.
    Udp {
        /// Payload bytes per datagram.
        size: u16,
    },
    /// Another segmentation type (IPv6 TCP, UDP fragmentation offload, ...), by its
    /// `virtio_net_hdr` number: never forwarded (`bad-offload`).
    Other(u8),
}

impl Gso {
    /// The packets and bytes a packet of `len` bytes whose headers (IP and transport)
    /// take `headers` bytes stands for on the wire.
    #[inline]
    pub fn wire(self, len: usize, headers: usize) -> (u64, u64) {
        let seg = match self {
            Gso::None | Gso::Other(_) => return (1, len as u64),
            Gso::Tcp { mss, .. } => usize::from(mss),
            Gso::Udp { size } => usize::from(size),
        };
        let payload = len.saturating_sub(headers);
        let n = payload.div_ceil(seg.max(1)).max(1);
        (n as u64, (len + (n - 1) * headers) as u64)
    }

    /// The size of the largest packet a packet of `len` bytes whose headers take
    /// `headers` bytes is cut into (`len` itself if it is not a superpacket).
    pub fn segment_len(self, len: usize, headers: usize) -> usize {
        match self {
            Gso::None | Gso::Other(_) => len,
            Gso::Tcp { mss, .. } => len.min(headers + usize::from(mss)),
            Gso::Udp { size } => len.min(headers + usize::from(size)),
        }
    }
}

impl PacketBuf {
    /// The smallest capacity: an IPv4 datagram every host must accept (RFC 791), which
    /// is also the most an ICMP error built in place may grow to.
    pub const MIN_CAPACITY: usize = 576;

    /// Enough for any IPv4 datagram (65,535 bytes).
    pub const MAX_DATAGRAM: usize = 65_535;

    /// An empty buffer with room for `capacity` bytes (at least [`Self::MIN_CAPACITY`]).
    pub fn new(capacity: usize) -> Self {
        PacketBuf {
            data: vec![0; capacity.max(Self::MIN_CAPACITY)].into_boxed_slice(),
            len: 0,
            offload: Offload::default(),
            fragment_mtu: None,
        }
    }

    /// A buffer holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut p = Self::new(bytes.len());
        p.data[..bytes.len()].copy_from_slice(bytes);
        p.len = bytes.len();
        p
    }

    /// The packet.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// The packet, mutable.
    #[inline]
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data[..self.len]
    }

    /// The whole buffer, to read a packet into (then call [`Self::set_len`]).
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The packet's length.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the packet is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffer's capacity.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Sets the packet's length (clamped to the capacity).
    #[inline]
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(self.data.len());
    }

    /// The packet's offload metadata.
    #[inline]
    pub fn offload(&self) -> Offload {
        self.offload
    }

    /// Sets the packet's offload metadata (the daemon, for a packet it read; the
    /// pipeline, for a packet it replaced with one of its own).
    pub fn set_offload(&mut self, offload: Offload) {
        self.offload = offload;
    }

    /// The MTU the packet must be fragmented to when it is written (the pipeline's
    /// decision for a packet larger than an internet gateway's MTU without DF): the
    /// writer sends the fragments `wire::fragment::Fragments` cuts it into. `None`: as
    /// it is. The pipeline sets it for every packet it processes.
    pub fn fragment_mtu(&self) -> Option<u16> {
        self.fragment_mtu
    }

    /// Sets what [`Self::fragment_mtu`] returns.
    pub fn set_fragment_mtu(&mut self, mtu: Option<u16>) {
        self.fragment_mtu = mtu;
    }
}
