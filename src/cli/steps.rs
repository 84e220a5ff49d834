//! An experiment's steps (curves, latencies) run one after another, with a progress bar on a
//! terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Runs `step` on each of `items` in order, showing `what` and how many are done on stderr
/// when it is a terminal, and stops at the first error.
pub fn each<T, R, E>(
    items: &[T],
    what: &str,
    mut step: impl FnMut(&T) -> Result<R, E>,
) -> Result<Vec<R>, E> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(items.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len}, {elapsed} elapsed")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_string());
        bar
    });
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(step(item)?);
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(out)
}
