//! A read-only longest-prefix-match index over IPv4 prefixes, built once from a sorted
//! prefix set: [`Lpm`].
//!
//! The prefixes are flattened into the partition of the address space they induce: a
//! sorted list of interval starts, each with the value of the longest prefix covering
//! that interval (or none). Nested prefixes cut their parent into pieces, so `n` prefixes
//! give at most `2n + 1` intervals, and adjacent intervals with the same value are merged.
//! A lookup is then "the last interval starting at or before the address".
//!
//! To find it without a binary search over the whole list, the top `b` bits of the
//! address select a bucket, and a direct index of `2^b + 1` offsets says which starts
//! fall in that bucket. `b` grows with the table (one to two buckets per interval, so the
//! index costs at most 8 bytes per interval), so a bucket holds about one start on
//! average and, where lookups land (a small prefix puts its start and its end in one
//! bucket), usually two. Every start before the bucket is at or below any address in
//! it, and every start after it is above, so the answer is the bucket's first start plus
//! how many of its starts are at or below the address. When a bucket has at most
//! [`WINDOW`] starts (over 90% of lookups in the random tables of the `lpm` benchmark)
//! they are counted at once, branch-free, in a window of `WINDOW` starts (the list is
//! padded so the window never runs off its end); a larger bucket (many prefixes in one
//! small range) falls back to a binary search inside it.
//!
//! A lookup is thus three dependent reads (the index, the starts, the value) and no
//! per-level popcounts, which matters because the build targets baseline x86-64, where
//! `count_ones` is a dozen instructions rather than one `POPCNT`. Memory is 40 to 60
//! bytes per prefix for 16-byte values (about 1.7 intervals per prefix in random tables,
//! each a 4-byte start, a 16-byte value and up to 8 bytes of index), and a table of a
//! few prefixes takes a couple of hundred bytes.
//!
//! Tried and dropped (same benchmark, 100,000 routes): starts and values interleaved in
//! one array, and buckets of 16 bytes holding up to six 16-bit starts inline (one read
//! fewer, but no faster here, and more memory); an 8-wide window.

use std::fmt;

use ipnet::Ipv4Net;

/// How many starts a lookup compares at once before it falls back to a binary search.
/// Four `u32`s are one SSE2 compare.
const WINDOW: usize = 4;

/// The most index bits: 2^24 buckets (64 MiB of index), reached at 8M intervals.
const MAX_BITS: u32 = 24;

/// A longest-prefix-match index from IPv4 prefixes to values of type `V`, built once by
/// [`Lpm::build`] and read-only after that.
#[derive(Clone)]
pub(crate) struct Lpm<V> {
    /// `32 - b`: an address's bucket is `addr >> shift`.
    shift: u32,
    /// For bucket `i` (and one past the last), the position in `starts` of its first start:
    /// bucket `i` holds `starts[index[i]..index[i + 1]]`.
    index: Box<[u32]>,
    /// The first address of each interval, ascending, `starts[0] == 0`; followed by
    /// [`WINDOW`] padding entries so a window read never leaves the slice.
    starts: Box<[u32]>,
    /// The value of each interval (of the longest prefix covering it), or `None` where no
    /// prefix covers it. One per real (unpadded) start.
    values: Box<[Option<V>]>,
}

impl<V: Copy + PartialEq> Lpm<V> {
    /// Builds the index from `prefixes`, which must be distinct and in ascending order of
    /// (network address, prefix length), as a `BTreeMap<Ipv4Net, _>` of canonical
    /// prefixes iterates. Host bits of a prefix are ignored. Values with distinct
    /// prefixes should differ (compare unequal), or adjacent intervals with equal values
    /// may be merged and reported as one.
    pub(crate) fn build(prefixes: impl IntoIterator<Item = (Ipv4Net, V)>) -> Self {
        let mut starts: Vec<u32> = Vec::new();
        let mut values: Vec<Option<V>> = Vec::new();
        push(&mut starts, &mut values, 0, None);
        // The prefixes containing the current position, innermost last: (end, value),
        // `end` exclusive (so 2^32 for a prefix that reaches the top of the space).
        let mut open: Vec<(u64, V)> = Vec::new();
        let mut last: Option<Ipv4Net> = None;
        for (net, value) in prefixes {
            let net = net.trunc();
            debug_assert!(last.is_none_or(|l| l < net), "prefixes not sorted: {net}");
            last = Some(net);
            let start = u64::from(u32::from(net.network()));
            let end = start + (1u64 << (32 - net.prefix_len()));
            // Close the prefixes that end before this one starts; their enclosing prefix
            // (or nothing) resumes where each ends.
            while let Some(&(e, _)) = open.last()
                && e <= start
            {
                open.pop();
                let resumed = open.last().map(|&(_, v)| v);
                push(&mut starts, &mut values, e as u32, resumed);
            }
            push(&mut starts, &mut values, start as u32, Some(value));
            open.push((end, value));
        }
        while let Some((e, _)) = open.pop() {
            if e > u64::from(u32::MAX) {
                // It and every prefix enclosing it reach the end of the space.
                break;
            }
            let resumed = open.last().map(|&(_, v)| v);
            push(&mut starts, &mut values, e as u32, resumed);
        }

        // One to two buckets per interval, at least two buckets.
        let intervals = starts.len();
        let ceil_log2 = usize::BITS - (intervals - 1).leading_zeros();
        let bits = ceil_log2.clamp(1, MAX_BITS);
        let shift = 32 - bits;
        let mut index = Vec::with_capacity((1 << bits) + 1);
        let mut j = 0;
        for bucket in 0..=(1u64 << bits) {
            let first = bucket << shift;
            while j < intervals && u64::from(starts[j]) < first {
                j += 1;
            }
            index.push(u32::try_from(j).expect("fewer than 2^32 intervals"));
        }
        starts.extend([u32::MAX; WINDOW]);
        Lpm {
            shift,
            index: index.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            values: values.into_boxed_slice(),
        }
    }

    /// The value of the longest prefix containing `addr`, if any prefix does.
    #[inline]
    pub(crate) fn lookup(&self, addr: u32) -> Option<&V> {
        let bucket = (addr >> self.shift) as usize;
        let lo = self.index[bucket] as usize;
        let hi = self.index[bucket + 1] as usize;
        let n = hi - lo;
        // One past the last start at or below `addr`. At least 1: either `lo > 0`, or
        // this is bucket 0, which holds `starts[0] == 0`.
        let end = if n <= WINDOW {
            let window = self.starts[lo..]
                .first_chunk::<WINDOW>()
                .expect("starts are padded by WINDOW");
            // Starts past the bucket are above `addr` (they are in a later bucket), so
            // the sum counts only the bucket's own, except padding when `addr` is
            // 255.255.255.255: hence the `min`.
            let at_or_below: usize = window.iter().map(|&s| usize::from(s <= addr)).sum();
            lo + at_or_below.min(n)
        } else {
            lo + self.starts[lo..hi].partition_point(|&s| s <= addr)
        };
        self.values[end - 1].as_ref()
    }
}

/// Appends the interval (`start`, `value`) to the partition being built: it replaces an
/// interval with the same start (a later, more specific or resuming value wins), and is
/// merged into the previous interval when the value is the same.
fn push<V: PartialEq>(
    starts: &mut Vec<u32>,
    values: &mut Vec<Option<V>>,
    start: u32,
    value: Option<V>,
) {
    if starts.last() == Some(&start) {
        starts.pop();
        values.pop();
    }
    if values.last() != Some(&value) {
        starts.push(start);
        values.push(value);
    }
}

impl<V> fmt::Debug for Lpm<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lpm")
            .field("buckets", &(self.index.len() - 1))
            .field("intervals", &self.values.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    /// An index over `prefixes` (any order), each mapping to its position in the list.
    fn build(prefixes: &[&str]) -> Lpm<usize> {
        let map: BTreeMap<Ipv4Net, usize> = prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| (p.parse::<Ipv4Net>().expect("prefix").trunc(), i))
            .collect();
        Lpm::build(map)
    }

    fn at(lpm: &Lpm<usize>, addr: &str) -> Option<usize> {
        lpm.lookup(u32::from(addr.parse::<Ipv4Addr>().expect("address")))
            .copied()
    }

    #[test]
    fn empty_and_default_only() {
        let empty = build(&[]);
        for a in ["0.0.0.0", "10.0.0.1", "255.255.255.255"] {
            assert_eq!(at(&empty, a), None);
        }
        let default = build(&["0.0.0.0/0"]);
        for a in ["0.0.0.0", "10.0.0.1", "255.255.255.255"] {
            assert_eq!(at(&default, a), Some(0));
        }
    }

    #[test]
    fn ends_of_the_address_space() {
        let t = build(&[
            "0.0.0.0/32",
            "255.255.255.255/32",
            "255.255.255.254/31",
            "0.0.0.0/1",
        ]);
        assert_eq!(at(&t, "0.0.0.0"), Some(0));
        assert_eq!(at(&t, "0.0.0.1"), Some(3));
        assert_eq!(at(&t, "127.255.255.255"), Some(3));
        assert_eq!(at(&t, "128.0.0.0"), None);
        assert_eq!(at(&t, "255.255.255.253"), None);
        assert_eq!(at(&t, "255.255.255.254"), Some(2));
        assert_eq!(at(&t, "255.255.255.255"), Some(1));
    }

    #[test]
    fn a_crowded_bucket_uses_the_binary_search() {
        // Forty /32s in one /24 plus a few elsewhere: far more than WINDOW starts in
        // the bucket that holds 10.0.0.0/24.
        let mut prefixes: Vec<String> = (0..40).map(|i| format!("10.0.0.{}/32", 2 * i)).collect();
        prefixes.extend([
            "10.0.0.0/24".into(),
            "0.0.0.0/0".into(),
            "200.0.0.0/8".into(),
        ]);
        let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
        let t = build(&refs);
        assert!(t.index.windows(2).any(|w| (w[1] - w[0]) as usize > WINDOW));
        for i in 0..40 {
            assert_eq!(at(&t, &format!("10.0.0.{}", 2 * i)), Some(i));
            assert_eq!(at(&t, &format!("10.0.0.{}", 2 * i + 1)), Some(40));
        }
        assert_eq!(at(&t, "10.0.0.255"), Some(40));
        assert_eq!(at(&t, "10.0.1.0"), Some(41));
        assert_eq!(at(&t, "200.1.2.3"), Some(42));
    }

    #[test]
    fn nested_prefixes_resume_their_parent() {
        let t = build(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "10.1.2.128/25",
            "10.1.3.0/24",
        ]);
        assert_eq!(at(&t, "10.0.255.255"), Some(0));
        assert_eq!(at(&t, "10.1.0.0"), Some(1));
        assert_eq!(at(&t, "10.1.2.127"), Some(2));
        assert_eq!(at(&t, "10.1.2.128"), Some(3));
        assert_eq!(at(&t, "10.1.2.255"), Some(3));
        assert_eq!(at(&t, "10.1.3.0"), Some(4));
        assert_eq!(at(&t, "10.1.4.0"), Some(1));
        assert_eq!(at(&t, "10.2.0.0"), Some(0));
        assert_eq!(at(&t, "11.0.0.0"), None);
        assert_eq!(at(&t, "9.255.255.255"), None);
    }

    #[test]
    fn the_index_grows_with_the_table_but_a_small_one_stays_small() {
        // Three intervals (before, inside and after 10.0.0.0/16): four buckets.
        assert_eq!(build(&["10.0.0.0/16", "0.0.0.0/0"]).index.len(), 5);
        let many: Vec<String> = (0..1000u32)
            .map(|i| format!("{}/24", Ipv4Addr::from(i.wrapping_mul(0x9e37_79b9) & !0xff)))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let t = build(&refs);
        // One to two buckets per interval.
        assert!(t.index.len() <= 2 * t.values.len() + 1, "{t:?}");
        assert!(t.index.len() > t.values.len(), "{t:?}");
    }
}
