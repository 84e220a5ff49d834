//! `raft-heartbeat timeline`: one trial of a `simulate --trace` file drawn as an SVG picture,
//! a lane per node, to see what happened around a failover or a violation.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use raft_heartbeat::sim::timeline::{self, Options};

use super::args::parse_ms;

/// Options of `timeline`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A trace written by `simulate --trace`.
    trace: PathBuf,
    /// Where to write the picture.
    #[arg(long)]
    svg: PathBuf,
    /// Start of the window, ms of simulated time (default 0).
    #[arg(long, value_parser = parse_ms)]
    from: Option<f64>,
    /// End of the window, ms (default: the trial's last record).
    #[arg(long, value_parser = parse_ms)]
    to: Option<f64>,
    /// The trial to draw (default: the first in the file).
    #[arg(long)]
    trial: Option<u64>,
}

/// Draws the picture.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(&args.trace)
        .with_context(|| format!("cannot read {}", args.trace.display()))?;
    let title = args
        .trace
        .file_name()
        .map_or_else(|| args.trace.display().to_string(), |n| n.to_string_lossy().into_owned());
    let opts = Options { trial: args.trial, from_ms: args.from, to_ms: args.to, title };
    let drawing = timeline::draw(BufReader::new(file), &opts)
        .with_context(|| format!("cannot draw {}", args.trace.display()))?;
    std::fs::write(&args.svg, &drawing.svg)
        .with_context(|| format!("cannot write {}", args.svg.display()))?;
    eprintln!(
        "trial {}, {:.3} to {:.3} ms, {} nodes: {} of {} messages drawn; written to {}",
        drawing.trial,
        drawing.window.from_ns as f64 / 1e6,
        drawing.window.to_ns as f64 / 1e6,
        drawing.nodes,
        drawing.drawn,
        drawing.messages,
        args.svg.display()
    );
    Ok(ExitCode::SUCCESS)
}
