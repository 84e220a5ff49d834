//! Argument parsers shared by the subcommands: each refuses bad input with a message naming
//! what it expected.

/// A count that must be at least one (`--jobs`).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// A range of milliseconds, `MIN <= MAX`, written `MIN..MAX` (the documented form) or as the
/// other places print or read one: `MIN-MAX` (tables), `[MIN, MAX]` (TOML), `MIN,MAX`.
pub fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let (a, b) = ["..", "-", ","]
        .iter()
        .find_map(|sep| inner.split_once(sep))
        .ok_or_else(|| format!("range must be MIN..MAX (e.g. 150..300), got {s:?}"))?;
    let whole = |x: &str| {
        x.trim().parse::<u64>().map_err(|_| {
            format!("{x:?} is not a whole number of ms (a range is MIN..MAX, e.g. 150..300)")
        })
    };
    let (min, max) = (whole(a)?, whole(b)?);
    if min > max {
        return Err(format!("range {s:?} has MIN above MAX"));
    }
    Ok((min, max))
}

/// A number of simulated hours: positive, at most 100,000, fractions allowed (`0.1`).
pub fn parse_hours(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 && h <= 100_000.0 => Ok(h),
        Ok(_) => Err(format!("{s:?} hours: must be above 0 and at most 100000")),
        Err(_) => Err(format!("{s:?} is not a number of hours")),
    }
}

/// A time in milliseconds: a number, not negative (`--from 900.5`).
pub fn parse_ms(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms),
        Ok(_) => Err(format!("{s:?} is not a time of 0 ms or later")),
        Err(_) => Err(format!("{s:?} is not a number of ms")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_counts_are_read_or_refused_with_a_reason() {
        assert_eq!(parse_range("150..300"), Ok((150, 300)));
        assert_eq!(parse_range(" 12 .. 24 "), Ok((12, 24)));
        assert!(parse_range("300..150").unwrap_err().contains("MIN above MAX"));
        for other in ["150-300", "[150, 300]", "150,300"] {
            assert_eq!(parse_range(other), Ok((150, 300)), "{other}");
        }
        assert!(parse_range("150 300").unwrap_err().contains("MIN..MAX"));
        assert!(parse_range("-5..3").unwrap_err().contains("MIN..MAX"));
        assert!(parse_range("a..3").unwrap_err().contains("\"a\""));
        assert_eq!(at_least_one("2"), Ok(2));
        assert!(at_least_one("0").unwrap_err().contains("at least 1"));
        assert!(at_least_one("-1").is_err());
    }

    #[test]
    fn times_in_ms_are_numbers_not_below_zero() {
        assert_eq!(parse_ms("900.5"), Ok(900.5));
        assert!(parse_ms("-1").unwrap_err().contains("0 ms or later"));
        assert!(parse_ms("NaN").is_err() && parse_ms("inf").is_err());
        assert!(parse_ms("soon").unwrap_err().contains("not a number"));
    }
}

/// Fails at once, naming the path, if a file cannot be written at `path`: a run that would
/// write it at its end should not run for minutes first. A file this creates to find out is
/// removed again.
pub fn check_output(path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// The options every experiment takes: its output, its seed and its threads.
#[derive(clap::Args, Debug)]
pub struct ExperimentArgs {
    /// Print exactly one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Draw the experiment's figure to this SVG file.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
    /// The run's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads; results are identical for any number.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    pub jobs: usize,
}

impl ExperimentArgs {
    /// Checks that the figure, if asked for, can be written, before the experiment runs.
    pub fn check_outputs(&self) -> anyhow::Result<()> {
        self.svg.as_deref().map_or(Ok(()), check_output)
    }
}

/// A switch given as `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Switched on.
    On,
    /// Switched off.
    Off,
}

impl OnOff {
    /// Whether it is on.
    pub fn on(self) -> bool {
        self == OnOff::On
    }
}

impl std::fmt::Display for OnOff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.on() { "on" } else { "off" })
    }
}
