//! Timelines: one trial of a trace (`simulate --trace`) drawn as an SVG picture, a lane per
//! node and time across, to see at a glance what happened around a failover or a violation.
//!
//! ```text
//!  trace.jsonl ──read──▶ TrialTrace ──build──▶ Timeline ──Window, Scene──▶ svg
//!  (JSON lines)          (one trial's          (roles, leases,   (crop, thin    (text)
//!                         records)              outages, arrows)   the messages)
//! ```
//!
//! What the picture shows, and how far to trust it:
//! - roles and terms from `RoleChanged` and `TermChanged` events, each node starting as a
//!   follower in term 0; a crashed node has none until it restarts in its durable term;
//! - messages from send to delivery, each delivery paired with the earliest unpaired send of
//!   the same sender, receiver, kind and term (see [`Arrow`]); duplicates and
//!   messages still in flight at the end of the trace are not drawn;
//! - the span a node led, as a strip along its leader band. The trace has no record of a lease
//!   being taken: with leases enabled (the default) the lease lies within the strip, from the
//!   first heartbeat round a majority acknowledged, and may lapse and return unrecorded;
//!   the strip ends at `LeaseExpired` or the end of the leadership.
//!
//! Records, events, messages and faults this reader does not know are skipped, so newer traces
//! still draw; a line that is not a record at all is an error naming it.

mod draw;
mod error;
#[cfg(test)]
mod fixture;
mod frame;
mod messages;
mod model;
mod read;
mod svg;
mod window;

use std::io::BufRead;

pub use error::TimelineError;
pub use messages::{Arrow, Fate};
pub use model::{Band, Mark, MarkKind, Note, Outage, OutageKind, Span, Timeline, MAX_NODES};
pub use read::{read, Change, DropReason, Entry, Item, MessageKind, TrialTrace};
pub use window::{Scene, Window, MAX_ARROWS};

/// What to draw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// The trial (default: the first in the file).
    pub trial: Option<u64>,
    /// Start of the window, ms (default 0).
    pub from_ms: Option<f64>,
    /// End of the window, ms (default: the trial's last record).
    pub to_ms: Option<f64>,
    /// What the picture is of, written at its top (a file name, a scenario).
    pub title: String,
}

/// A picture and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    /// The SVG text.
    pub svg: String,
    /// The trial drawn.
    pub trial: u64,
    /// The nodes, one lane each.
    pub nodes: u64,
    /// The window drawn.
    pub window: Window,
    /// Messages in the window.
    pub messages: usize,
    /// Messages drawn (fewer when the window was dense).
    pub drawn: usize,
}

/// Reads a trace and draws one trial's window as SVG.
pub fn draw(trace: impl BufRead, opts: &Options) -> Result<Drawing, TimelineError> {
    let timeline = Timeline::build(&read(trace, opts.trial)?)?;
    let window = Window::of(&timeline, opts.from_ms, opts.to_ms)?;
    let scene = Scene::new(&timeline, window);
    Ok(Drawing {
        svg: svg(&scene, &opts.title),
        trial: timeline.trial,
        nodes: timeline.nodes,
        window,
        messages: scene.messages,
        drawn: scene.arrows.len(),
    })
}

/// The SVG of a scene, headed by `title`.
pub fn svg(scene: &Scene, title: &str) -> String {
    draw::svg(scene, title)
}
