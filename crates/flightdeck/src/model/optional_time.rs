//! An optional moment in 12 bytes, where `Option<Timestamp>` takes 24: a rollout, each
//! of its conditions and ReplicaSets and each deploy hold one or more, and the cockpit
//! holds a great many of them.

use jiff::Timestamp;

/// `Option<Timestamp>`, exactly (every timestamp, to the nanosecond), packed: the
/// seconds and the nanoseconds of a timestamp, or no nanoseconds a timestamp can
/// have for none.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct OptionalTime {
    second: i64,
    nanosecond: i32,
}

/// Outside a timestamp's nanoseconds (-999,999,999 to 999,999,999).
const NONE: i32 = i32::MIN;

impl OptionalTime {
    pub const NONE: OptionalTime = OptionalTime {
        second: 0,
        nanosecond: NONE,
    };

    pub fn get(self) -> Option<Timestamp> {
        let (second, nanosecond) = (self.second, self.nanosecond);
        // Inlined, unlike `Timestamp::new`: the figures read millions. The parts of a
        // timestamp make it again.
        (nanosecond != NONE).then(|| Timestamp::constant(second, nanosecond))
    }

    pub fn is_some(self) -> bool {
        self.nanosecond != NONE
    }
}

impl From<Option<Timestamp>> for OptionalTime {
    fn from(at: Option<Timestamp>) -> OptionalTime {
        at.map_or(OptionalTime::NONE, |at| OptionalTime {
            second: at.as_second(),
            nanosecond: at.subsec_nanosecond(),
        })
    }
}

/// The earlier of two times, either when only one is known.
pub fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Default for OptionalTime {
    fn default() -> OptionalTime {
        OptionalTime::NONE
    }
}

impl std::fmt::Debug for OptionalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_any_timestamp_or_none_in_12_bytes() {
        assert_eq!(std::mem::size_of::<OptionalTime>(), 12);
        assert_eq!(OptionalTime::from(None).get(), None);
        for at in [
            Timestamp::MIN,
            Timestamp::MAX,
            Timestamp::UNIX_EPOCH,
            Timestamp::new(-1, -1).unwrap(),
            Timestamp::new(1_700_000_000, 123_456_789).unwrap(),
        ] {
            assert_eq!(OptionalTime::from(Some(at)).get(), Some(at));
        }
    }
}
