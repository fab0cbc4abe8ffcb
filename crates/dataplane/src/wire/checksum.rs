//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624), used for
//! IPv4 headers and ICMP messages, and with the IPv4 pseudo header for TCP and UDP.

use std::net::Ipv4Addr;

/// The ones' complement sum of `data` as 16-bit big-endian words (an odd last byte is
/// padded with zero), folded to 16 bits but not complemented.
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    add(0, data)
}

/// `acc`, an unfolded ones' complement sum of big-endian words, plus the sum of `data`
/// ([`sum`]), folded to 16 bits.
///
/// RFC 1071 2(B): the ones' complement sum does not depend on byte order (the sum of
/// byte-swapped words is the byte-swapped sum), so `data` is added as little-endian
/// 64-bit words, which on x86 are plain loads with no swap per word, with an end-around
/// carry; the sum is swapped once at the end. The tail (under 8 bytes) is added
/// as a 32-bit, a 16-bit and a last byte, each starting at an even offset, so that an odd
/// last byte lands where the big-endian sum pads it with zero.
#[inline]
fn add(acc: u64, data: &[u8]) -> u32 {
    let mut le: u64 = 0;
    // 32 bytes a round, then the words left (at most three): a loop LLVM does not
    // unroll again, whose setup cost more than the rounds for short segments.
    let (blocks, rest) = data.as_chunks::<32>();
    for b in blocks {
        let (w, _) = b.as_chunks::<8>();
        le = add_carry(le, u64::from_le_bytes(w[0]));
        le = add_carry(le, u64::from_le_bytes(w[1]));
        le = add_carry(le, u64::from_le_bytes(w[2]));
        le = add_carry(le, u64::from_le_bytes(w[3]));
    }
    let (words, rest) = rest.as_chunks::<8>();
    for w in words {
        le = add_carry(le, u64::from_le_bytes(*w));
    }
    let (quad, rest) = rest.as_chunks::<4>();
    if let [q] = quad {
        le = add_carry(le, u64::from(u32::from_le_bytes(*q)));
    }
    let (pair, rest) = rest.as_chunks::<2>();
    if let [p] = pair {
        le = add_carry(le, u64::from(u16::from_le_bytes(*p)));
    }
    if let [last] = rest {
        le = add_carry(le, u64::from(*last));
    }
    // Swapping the bytes of the whole word swaps those of each 16-bit lane (and
    // reverses the lanes, which the sum does not see: 2^16 = 1 modulo 2^16 - 1).
    fold64(add_carry(acc, le.swap_bytes())).into()
}

/// `a + b` with the carry out of bit 63 added back in (ones' complement addition).
#[inline(always)]
fn add_carry(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    s + u64::from(carry)
}

/// Folds a 64-bit ones' complement sum into 16 bits: the two 32-bit halves, then the
/// two 16-bit halves, each added with an end-around carry (no loop: 2^16 - 1 divides
/// 2^32 - 1, so both steps keep the sum modulo 2^16 - 1, and only zero folds to zero,
/// which is what [`fold`]'s loop gives too).
#[inline(always)]
fn fold64(sum: u64) -> u16 {
    let (s, carry) = (sum as u32).overflowing_add((sum >> 32) as u32);
    // With a carry, `s` is at most 2^32 - 2: adding it back cannot overflow.
    let s = s + u32::from(carry);
    let (s, carry) = (s as u16).overflowing_add((s >> 16) as u16);
    s + u16::from(carry)
}

/// Folds a 32-bit ones' complement sum into 16 bits.
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The checksum to store for `data` (whose checksum field is zero).
pub fn internet(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// Whether `data`, checksum field included, verifies.
#[inline]
pub fn verifies(data: &[u8]) -> bool {
    // An IPv4 header without options, the common case, is summed as 20 bytes known at
    // compile time: two words and a half, no loop.
    let sum = match <&[u8; IPV4_HEADER]>::try_from(data) {
        Ok(header) => add(0, header),
        Err(_) => sum(data),
    };
    fold(sum) == 0xffff
}

/// The length of an IPv4 header without options.
const IPV4_HEADER: usize = 20;

/// The sum of a TCP or UDP segment with its IPv4 pseudo header (RFC 793 3.1, RFC 768):
/// source, destination, zero, protocol, segment length, then the segment; folded.
/// The pseudo header is added as 32-bit words (ones' complement addition is the same in
/// any word size once folded): the addresses whole, the zero byte and protocol with the
/// length.
#[inline]
fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> u32 {
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    let header =
        u64::from(u32::from(src)) + u64::from(u32::from(dst)) + u64::from(proto) + u64::from(len);
    add(header, segment)
}

/// The checksum to store in a TCP or UDP `segment` (whose checksum field is zero)
/// between `src` and `dst`.
pub fn transport(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> u16 {
    !fold(pseudo_sum(src, dst, proto, segment))
}

/// Whether a TCP or UDP `segment`, checksum field included, verifies.
pub fn transport_verifies(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> bool {
    fold(pseudo_sum(src, dst, proto, segment)) == 0xffff
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes
/// from `old` to `new`: HC' = ~(~HC + ~m + m').
pub fn update(checksum: u16, old: u16, new: u16) -> u16 {
    !fold(u32::from(!checksum) + u32::from(!old) + u32::from(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 1071 section 3's example words.
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(internet(&data), !0xddf2);
    }

    #[test]
    fn an_ipv4_header_checksum() {
        // A real header with its checksum (0xb861) zeroed.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet(&h), 0xb861);
        let mut with = h;
        with[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(verifies(&with));
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    proptest! {
        /// The incremental update gives what a full recomputation gives.
        #[test]
        fn update_matches_recomputation(
            mut words in proptest::collection::vec(any::<u16>(), 1..40),
            i in any::<prop::sample::Index>(),
            new in any::<u16>(),
        ) {
            let bytes = |w: &[u16]| w.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
            let before = internet(&bytes(&words));
            let i = i.index(words.len());
            let old = words[i];
            words[i] = new;
            let after = internet(&bytes(&words));
            let incremental = update(before, old, new);
            // 0x0000 and 0xffff are the same value in ones' complement.
            prop_assert!(incremental == after || (incremental ^ after) == 0xffff && (after == 0 || after == 0xffff));
        }

        /// The sum equals the sum of big-endian 16-bit words, an odd last byte padded
        /// with zero, added one by one and folded (RFC 1071 as written), at every
        /// length and alignment of the tail.
        #[test]
        fn sum_matches_the_word_by_word_definition(
            data in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut reference: u32 = 0;
            for pair in data.chunks(2) {
                let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
                reference = u32::from(fold(reference + u32::from(word)));
            }
            prop_assert_eq!(sum(&data), reference);
        }

        /// An IPv4 header without options verifies exactly when the sum of its 20
        /// bytes, as any other length is summed, folds to 0xffff.
        #[test]
        fn a_20_byte_header_verifies_as_summed_in_general(
            mut header in proptest::array::uniform20(any::<u8>()),
            fix in any::<bool>(),
        ) {
            if fix {
                header[10] = 0;
                header[11] = 0;
                let c = internet(&header);
                header[10..12].copy_from_slice(&c.to_be_bytes());
            }
            let general = fold(sum(&header)) == 0xffff;
            prop_assert_eq!(verifies(&header), general);
            prop_assert!(!fix || general);
        }

        /// Folding a 64-bit sum without a loop gives what folding 16 bits at a time
        /// gives.
        #[test]
        fn fold64_matches_the_loop(sum in prop_oneof![
            any::<u64>(),
            0u64..0x2_0000,
            Just(0u64),
            Just(u64::MAX),
            Just(0xffff_ffffu64),
            Just(0x1_0000_fffeu64),
        ]) {
            let mut reference = sum;
            while reference > 0xffff {
                reference = (reference & 0xffff) + (reference >> 16);
            }
            prop_assert_eq!(fold64(sum), reference as u16);
        }

        /// The pseudo-header checksum equals the checksum of the pseudo header and the
        /// segment laid out in one buffer, and verifies once stored.
        #[test]
        fn transport_matches_the_written_out_pseudo_header(
            src in any::<u32>(),
            dst in any::<u32>(),
            mut segment in proptest::collection::vec(any::<u8>(), 8..200),
        ) {
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            segment[6] = 0;
            segment[7] = 0;
            let mut pseudo = [src.octets(), dst.octets()].concat();
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&(segment.len() as u16).to_be_bytes());
            pseudo.extend_from_slice(&segment);
            let c = transport(src, dst, 17, &segment);
            prop_assert_eq!(c, internet(&pseudo));
            segment[6..8].copy_from_slice(&c.to_be_bytes());
            prop_assert!(transport_verifies(src, dst, 17, &segment));
        }
    }
}
