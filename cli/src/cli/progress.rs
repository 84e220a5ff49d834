//! An experiment's progress on a terminal: a bar per stage (curves, latencies, rows) on stderr,
//! nothing when stderr is not a terminal.

use std::cell::RefCell;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// The bars of one experiment's stages, one at a time.
pub struct Bar {
    /// The experiment's name, before each stage's.
    what: &'static str,
    /// The stage shown and its bar; `None` before the first, or off a terminal.
    shown: RefCell<Option<(String, ProgressBar)>>,
    on: bool,
}

impl Bar {
    /// Bars for the experiment `what`, shown only on a terminal.
    pub fn new(what: &'static str) -> Bar {
        Bar { what, shown: RefCell::new(None), on: std::io::stderr().is_terminal() }
    }

    /// `done` of the `total` steps of `stage` are done (the lab's `Progress`).
    pub fn at(&self, stage: &str, done: usize, total: usize) {
        if !self.on {
            return;
        }
        let mut shown = self.shown.borrow_mut();
        if shown.as_ref().is_none_or(|(s, _)| s != stage) {
            if let Some((_, old)) = shown.take() {
                old.finish_and_clear();
            }
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len}, {elapsed} elapsed")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("{} {stage}", self.what));
            *shown = Some((stage.to_string(), bar));
        }
        if let Some((_, bar)) = shown.as_ref() {
            bar.set_position(done as u64);
            if done == total {
                bar.finish_and_clear();
            }
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.shown.get_mut().take() {
            bar.finish_and_clear();
        }
    }
}
