//! The `Range` header of a download: one byte range, as media players send to seek.

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file: no header, a unit other than bytes, or several ranges (which are
    /// allowed to be answered whole).
    Whole,
    /// Bytes `start..=end` (`end` is inclusive, as in `Content-Range`).
    Part {
        /// First byte.
        start: u64,
        /// Last byte.
        end: u64,
    },
    /// A range outside the file: 416.
    Unsatisfiable,
}

/// Reads `header` (the `Range` value, if any) against a file of `len` bytes.
pub fn wanted(header: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Unsatisfiable;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (start, end) = match (number(first), number(last)) {
        // `bytes=500-999`, `bytes=500-`
        (Some(start), end) if last.trim().is_empty() || end.is_some() => {
            (start, end.unwrap_or(u64::MAX).min(len.saturating_sub(1)))
        }
        // `bytes=-500`: the last 500 bytes.
        (None, Some(suffix)) if first.trim().is_empty() && suffix > 0 => {
            (len.saturating_sub(suffix), len.saturating_sub(1))
        }
        _ => return Wanted::Unsatisfiable,
    };
    if len == 0 || start >= len || start > end {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| Wanted::Part { start, end };
        let cases = [
            (None, Wanted::Whole),
            (Some("items=0-1"), Wanted::Whole),
            (Some("bytes=0-1,5-6"), Wanted::Whole),
            (Some("bytes=0-0"), part(0, 0)),
            (Some("bytes=10-19"), part(10, 19)),
            (Some("bytes=10-"), part(10, 99)),
            (Some("bytes=90-500"), part(90, 99)),
            (Some("bytes=-10"), part(90, 99)),
            (Some("bytes=-500"), part(0, 99)),
            (Some("bytes=100-"), Wanted::Unsatisfiable),
            (Some("bytes=20-10"), Wanted::Unsatisfiable),
            (Some("bytes=-0"), Wanted::Unsatisfiable),
            (Some("bytes=-"), Wanted::Unsatisfiable),
            (Some("bytes=a-b"), Wanted::Unsatisfiable),
            (Some("bytes=+1-2"), Wanted::Unsatisfiable),
            (Some("bytes=99999999999999999999-"), Wanted::Unsatisfiable),
        ];
        for (header, expected) in cases {
            assert_eq!(wanted(header, 100), expected, "{header:?}");
        }
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
    }
}
