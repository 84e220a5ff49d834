//! The digest of a trace: XXH3-128 over its records' fixed binary encoding, written as 32 hex
//! digits. Two runs with the same scenario and seed have the same hash on any machine.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use xxhash_rust::xxh3::Xxh3;

/// A trace digest (of one trial, or of a run: the digest of its trials' digests in order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceHash(pub u128);

/// Text that is not a trace hash.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("trace hash {text:?} is not 32 hexadecimal digits")]
pub struct BadTraceHash {
    /// What was read.
    pub text: String,
}

impl TraceHash {
    /// The digest of a run: of its trials' digests, in trial order.
    pub fn of_trials(trials: impl IntoIterator<Item = TraceHash>) -> TraceHash {
        let mut hasher = Xxh3::new();
        for t in trials {
            hasher.update(&t.0.to_le_bytes());
        }
        TraceHash(hasher.digest128())
    }
}

impl fmt::Display for TraceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl FromStr for TraceHash {
    type Err = BadTraceHash;

    fn from_str(s: &str) -> Result<TraceHash, BadTraceHash> {
        let bad = || BadTraceHash { text: s.to_string() };
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        u128::from_str_radix(s, 16).map(TraceHash).map_err(|_| bad())
    }
}

impl Serialize for TraceHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for TraceHash {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TraceHash".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9a-f]{32}$",
            "description": "XXH3-128 of the trace's records, 32 hexadecimal digits",
        })
    }
}

impl<'de> Deserialize<'de> for TraceHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TraceHash, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_hash_reads_back_what_it_writes_and_refuses_anything_else() {
        let h = TraceHash(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(h.to_string(), "0123456789abcdef0011223344556677");
        assert_eq!(h.to_string().parse::<TraceHash>(), Ok(h));
        for bad in
            ["", "xyz", "0123456789abcdef001122334455667", "+123456789abcdef0011223344556677"]
        {
            assert!(bad.parse::<TraceHash>().is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<TraceHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<TraceHash>("\"not-a-hash\"").is_err());
    }
}
