//! Wall-clock time and human durations.
//!
//! The store keeps every instant as integer milliseconds since the Unix epoch (cheap to index and
//! compare); people and JSON see RFC 3339 UTC strings. Durations in config files, flags and the
//! socket protocol are short human strings (`"30s"`, `"5m"`, `"30d"`) through [`Dur`], which
//! prints back in the largest unit that divides it evenly so a round trip is stable.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC with millisecond precision, e.g. `2026-11-22T14:00:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// RFC 3339 UTC to the second, for tables where milliseconds are noise.
pub fn rfc3339_seconds(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A duration written the way admins write them: `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"30d"`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn secs(s: u64) -> Dur {
        Dur(Duration::from_secs(s))
    }
    pub fn as_millis(self) -> i64 {
        self.0.as_millis().min(i64::MAX as u128) as i64
    }
}

impl FromStr for Dur {
    type Err = String;
    fn from_str(s: &str) -> Result<Dur, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty duration (expected e.g. \"30s\", \"5m\", \"2h\")".into());
        }
        let d = humantime::parse_duration(s).map_err(|e| {
            format!("invalid duration {s:?}: {e} (expected e.g. \"30s\", \"5m\", \"2h\")")
        })?;
        if d > MAX_DURATION {
            return Err(format!("duration {s:?} is longer than 100 years"));
        }
        Ok(Dur(d))
    }
}

/// The longest duration accepted anywhere: far beyond any sensible timeout or retention, and
/// small enough to print and parse back exactly.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The largest unit that divides the duration exactly, so printing and parsing round-trip.
        const UNITS: [(u128, &str); 7] = [
            (86_400_000_000_000, "d"),
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
            (1, "ns"),
        ];
        let ns = self.0.as_nanos();
        if ns == 0 {
            return f.write_str("0s");
        }
        let (size, unit) = UNITS
            .into_iter()
            .find(|(size, _)| ns % size == 0)
            .unwrap_or((1, "ns"));
        write!(f, "{}{unit}", ns / size)
    }
}

impl fmt::Debug for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_in_their_largest_unit() {
        for (text, shown) in [
            ("30s", "30s"),
            ("5m", "5m"),
            ("90s", "90s"),
            ("2h", "2h"),
            ("30d", "30d"),
            ("120m", "2h"),
            ("1500ms", "1500ms"),
            ("1ns", "1ns"),
            ("1500us", "1500us"),
            ("1s 1ns", "1000000001ns"),
        ] {
            let d: Dur = text.parse().unwrap();
            assert_eq!(d.to_string(), shown);
            assert_eq!(d.to_string().parse::<Dur>().unwrap(), d);
        }
        assert!("".parse::<Dur>().is_err());
        assert!("five".parse::<Dur>().is_err());
        // Found by fuzzing: longer than anything printable round-trips.
        assert!("18446744073709551615s 999999999ns".parse::<Dur>().is_err());
        assert!("36500d".parse::<Dur>().is_ok());
    }

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_seconds(1_500), "1970-01-01T00:00:01Z");
    }
}
