//! Durations written as milliseconds (a float, to the nanosecond), so that every duration a
//! JSON or TOML reader sees names its unit in its key (`silence_ms`), as the command line's
//! reports do. Used with `#[serde(with = "...")]` on the core's serialized types.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// `Duration` as milliseconds.
pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(to_ms(*d))
}

/// Milliseconds as a `Duration`, refusing a negative, infinite or out-of-range number.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    from_ms(f64::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn to_ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

fn from_ms(ms: f64) -> Result<Duration, String> {
    let nanos = (ms * 1e6).round();
    if (0.0..u64::MAX as f64).contains(&nanos) {
        Ok(Duration::from_nanos(nanos as u64))
    } else {
        Err(format!("{ms} ms is not a duration"))
    }
}

/// `Option<Duration>` as milliseconds or `null`.
pub(crate) mod option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&super::to_ms(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|ms| super::from_ms(ms).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_survives_milliseconds_to_the_nanosecond() {
        for nanos in [0, 1, 999, 1_234_567, 150_000_001, 86_400_000_000_123] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(from_ms(to_ms(d)), Ok(d), "{nanos} ns");
        }
    }

    #[test]
    fn a_negative_or_infinite_number_of_milliseconds_is_refused() {
        for ms in [-1.0, f64::INFINITY, f64::NAN] {
            assert!(from_ms(ms).is_err(), "{ms}");
        }
    }
}
