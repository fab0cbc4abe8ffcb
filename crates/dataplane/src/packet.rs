//! Packet buffers: one allocation made up front and reused for every packet, so the
//! pipeline never allocates. A buffer has room to grow a packet in place (the VPC
//! router turns a packet into the ICMP error that quotes it).

/// A reusable packet buffer: `capacity` bytes, of which the first `len` are the packet.
#[derive(Debug, Clone)]
pub struct PacketBuf {
    data: Box<[u8]>,
    len: usize,
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
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// The packet, mutable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data[..self.len]
    }

    /// The whole buffer, to read a packet into (then call [`Self::set_len`]).
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The packet's length.
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
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(self.data.len());
    }
}
