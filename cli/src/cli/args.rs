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

/// A range of milliseconds written `MIN..MAX`, with `MIN <= MAX`.
pub fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("range must be MIN..MAX, got {s:?}"))?;
    let min = a.trim().parse().map_err(|_| format!("{a:?} is not a whole number of ms"))?;
    let max = b.trim().parse().map_err(|_| format!("{b:?} is not a whole number of ms"))?;
    if min > max {
        return Err(format!("range {s:?} has MIN above MAX"));
    }
    Ok((min, max))
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
        assert!(parse_range("150-300").unwrap_err().contains("MIN..MAX"));
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
