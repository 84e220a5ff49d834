//! What `--json` prints: one object per run, `format_version` first, then the output's own
//! fields. The version changes only when a field is renamed, removed or changes meaning; new
//! fields may appear within a version. Each output's JSON Schema (`raft-heartbeat schema NAME`)
//! is kept in `docs/schemas/` and checked against real output by the tests.

use anyhow::bail;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

/// The version of every `--json` output's format.
pub const FORMAT_VERSION: u32 = 1;

/// An output with its format version.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Versioned<T> {
    /// The format of this object: 1. Changes when a field is renamed, removed or changes
    /// meaning; fields may be added within a version.
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    /// The output's own fields.
    #[serde(flatten)]
    pub body: T,
}

/// Prints `body` as one line of JSON on stdout, with the format version.
pub fn print_json<T: Serialize>(body: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&Versioned { format_version: FORMAT_VERSION, body })?);
    Ok(())
}

/// Reads an output printed by [`print_json`], refusing another format version by name.
pub fn read_json<T: for<'de> Deserialize<'de>>(text: &str) -> anyhow::Result<T> {
    #[derive(Deserialize)]
    struct Version {
        format_version: Option<u32>,
    }
    match serde_json::from_str::<Version>(text)?.format_version {
        Some(FORMAT_VERSION) => {}
        Some(v) => bail!("format_version {v}; this build reads {FORMAT_VERSION}"),
        None => bail!("no format_version: written by a build older than format {FORMAT_VERSION}"),
    }
    Ok(serde_json::from_str::<Versioned<T>>(text)?.body)
}

/// The JSON Schema of `T` printed with [`print_json`], titled for the command that prints it.
pub fn schema_of<T: JsonSchema>(title: &str, description: &str) -> Schema {
    titled(schemars::schema_for!(Versioned<T>), title, description)
}

/// The JSON Schema of `T` written one object per line (JSON Lines, no format version).
pub fn line_schema_of<T: JsonSchema>(title: &str, description: &str) -> Schema {
    titled(schemars::schema_for!(T), title, description)
}

/// `schema` with its title and description.
pub fn titled(mut schema: Schema, title: &str, description: &str) -> Schema {
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Body {
        trials: u64,
    }

    #[test]
    fn an_output_reads_back_with_its_version() {
        let text = serde_json::to_string(&Versioned {
            format_version: FORMAT_VERSION,
            body: Body { trials: 3 },
        })
        .unwrap();
        assert!(text.starts_with(r#"{"format_version":1,"#), "{text}");
        assert_eq!(read_json::<Body>(&text).unwrap(), Body { trials: 3 });
    }

    #[test]
    fn another_format_version_or_none_is_refused_by_name() {
        let e = read_json::<Body>(r#"{"format_version":2,"trials":3}"#).unwrap_err();
        assert!(e.to_string().contains("format_version 2; this build reads 1"), "{e}");
        let e = read_json::<Body>(r#"{"trials":3}"#).unwrap_err();
        assert!(e.to_string().contains("no format_version"), "{e}");
    }
}
