//! The frame around a timeline's lanes: the header with the window and its figures, the grid
//! with its time axis, the notes of network and membership changes, and the legend.

use super::draw::*;
use super::read::{Change, MessageKind};
use super::svg::{Px, Svg};
use super::window::Scene;
use crate::core::Role;

pub(super) fn header(svg: &mut Svg, scene: &Scene, title: &str) {
    let w = scene.window;
    let heading = format!(
        "{title}: trial {}, {} to {} ms, {} nodes",
        scene.timeline.trial,
        trim_ms(w.from_ns),
        trim_ms(w.to_ns),
        scene.timeline.nodes
    );
    svg.text(
        &[("x", &Px(LEFT)), ("y", &Px(20.0)), ("font-size", &"15"), ("font-weight", &"bold")],
        &heading,
    );
    let caption = match scene.heartbeats {
        None => format!("messages: all {} in the window drawn", scene.messages),
        Some((drawn, of)) => format!(
            "messages: {} of {} in the window drawn (every election message; {drawn} of {of} \
             heartbeats and answers, evenly spaced)",
            scene.arrows.len(),
            scene.messages
        ),
    };
    svg.text(
        &[("x", &Px(LEFT)), ("y", &Px(38.0)), ("font-size", &"12"), ("fill", &MUTED)],
        &caption,
    );
}

/// A time in ms with no trailing zeros: 900, 1229.97.
pub(super) fn trim_ms(t_ns: u64) -> String {
    let text = format!("{:.2}", t_ns as f64 / 1e6);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Vertical lines at the ticks, and the time axis with its labels.
pub(super) fn grid(svg: &mut Svg, g: &Geometry) {
    let (top, bottom) = (g.lanes_top, g.lanes_bottom());
    let (from, to) = (g.from_ns as f64 / 1e6, g.to_ns as f64 / 1e6);
    let (step, decimals) = tick_step(to - from);
    let mut k = (from / step).ceil() as i64;
    while (k as f64) * step <= to + 1e-9 {
        let t = k as f64 * step;
        let x = g.x((t * 1e6).round() as u64);
        svg.leaf(
            "line",
            &[
                ("x1", &Px(x)),
                ("x2", &Px(x)),
                ("y1", &Px(top)),
                ("y2", &Px(bottom + 5.0)),
                ("stroke", &GRID),
            ],
        );
        svg.leaf(
            "line",
            &[
                ("x1", &Px(x)),
                ("x2", &Px(x)),
                ("y1", &Px(bottom)),
                ("y2", &Px(bottom + 5.0)),
                ("stroke", &TEXT),
            ],
        );
        svg.text(
            &[
                ("x", &Px(x)),
                ("y", &Px(bottom + 18.0)),
                ("font-size", &"11"),
                ("text-anchor", &"middle"),
                ("fill", &TEXT),
            ],
            &format!("{t:.decimals$}"),
        );
        k += 1;
    }
    let axis = [
        ("x1", &Px(LEFT) as &dyn std::fmt::Display),
        ("x2", &Px(LEFT + g.plot)),
        ("y1", &Px(bottom)),
        ("y2", &Px(bottom)),
        ("stroke", &TEXT),
    ];
    svg.leaf("line", &axis);
    svg.text(
        &[
            ("x", &Px(LEFT + g.plot)),
            ("y", &Px(bottom + 34.0)),
            ("font-size", &"12"),
            ("text-anchor", &"end"),
            ("fill", &MUTED),
        ],
        "simulated time (ms)",
    );
}

/// A round step for about ten ticks over `span_ms`, and the decimals its labels need.
pub(super) fn tick_step(span_ms: f64) -> (f64, usize) {
    let raw = (span_ms / 10.0).max(1e-6);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    (step, decimals)
}

/// Dashed lines at network, clock and membership changes, labelled in rows above the lanes
/// so that close labels do not overlap; changes at the same moment share one label.
pub(super) fn notes(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    let mut groups: Vec<(u64, String, usize)> = Vec::new();
    for n in &scene.timeline.notes {
        if n.t_ns < g.from_ns || n.t_ns > g.to_ns {
            continue;
        }
        let label = match (&n.change, n.node) {
            (Change::Network, _) => "network".to_string(),
            (Change::ClockRate { ppm }, Some(node)) => {
                format!("{node} clock x{:.3}", *ppm as f64 / 1e6)
            }
            (Change::ClockRate { ppm }, None) => format!("clock x{:.3}", *ppm as f64 / 1e6),
            (Change::Membership { voters, learners }, _) => {
                format!("membership: {voters} voters, {learners} learners")
            }
        };
        match groups.last_mut() {
            Some((t, l, count)) if *t == n.t_ns && *l == label => *count += 1,
            _ => groups.push((n.t_ns, label, 1)),
        }
    }
    let mut row_end = [f64::NEG_INFINITY; NOTE_ROWS];
    for (t, label, count) in groups {
        let x = g.x(t);
        let text = if count > 1 { format!("{label} (x{count})") } else { label };
        let width = text.len() as f64 * CHAR * 0.92;
        let row = (0..NOTE_ROWS).find(|&r| row_end[r] + 6.0 < x).unwrap_or_else(|| {
            (0..NOTE_ROWS).min_by(|&a, &b| row_end[a].total_cmp(&row_end[b])).unwrap_or(0)
        });
        let anchor_right = x + width > LEFT + g.plot;
        row_end[row] = if anchor_right { x } else { x + width };
        let y = HEADER + NOTE_ROW * (row as f64 + 1.0);
        svg.leaf_with_tip(
            "line",
            &[
                ("x1", &Px(x)),
                ("x2", &Px(x)),
                ("y1", &Px(y + 2.0)),
                ("y2", &Px(g.lanes_bottom())),
                ("stroke", &"#374151"),
                ("stroke-width", &"1.2"),
                ("stroke-dasharray", &"5 3"),
                ("class", &"change"),
            ],
            &format!("{text} at {} ms", ms(t)),
        );
        svg.text(
            &[
                ("x", &Px(if anchor_right { x - 3.0 } else { x + 3.0 })),
                ("y", &Px(y)),
                ("font-size", &"11"),
                ("text-anchor", if anchor_right { &"end" } else { &"start" }),
                ("fill", &TEXT),
            ],
            &text,
        );
    }
}

/// What each colour, mark and line means, in rows that wrap at the width.
pub(super) fn legend(svg: &mut Svg, g: &Geometry) {
    let mut x = LEFT;
    let mut y = g.lanes_bottom() + AXIS + 8.0;
    let mut item = |svg: &mut Svg, label: &str, draw: &dyn Fn(&mut Svg, f64, f64)| {
        let width = 26.0 + label.len() as f64 * CHAR + 18.0;
        if x + width > WIDTH - RIGHT {
            x = LEFT;
            y += LEGEND_ROW;
        }
        draw(svg, x, y);
        svg.text(
            &[("x", &Px(x + 26.0)), ("y", &Px(y + 4.0)), ("font-size", &"12"), ("fill", &TEXT)],
            label,
        );
        x += width;
    };
    for role in [Role::Follower, Role::PreCandidate, Role::Candidate, Role::Leader] {
        item(svg, &role.to_string(), &|svg, x, y| swatch(svg, x, y, role_fill(role)));
    }
    item(svg, "led (a lease lies within)", &|svg, x, y| {
        let r = [
            ("x", &Px(x) as &dyn std::fmt::Display),
            ("y", &Px(y + 3.0 - LEASE)),
            ("width", &Px(20.0)),
            ("height", &Px(LEASE)),
            ("fill", &LEASE_FILL),
        ];
        svg.leaf("rect", &r);
    });
    item(svg, "crashed", &|svg, x, y| swatch(svg, x, y, CRASH));
    item(svg, "paused", &|svg, x, y| swatch(svg, x, y, "url(#paused)"));
    item(svg, "election timeout", &|svg, x, y| {
        let d = triangle(x + 10.0, y + 5.0);
        svg.leaf("path", &[("d", &d), ("fill", &TIMEOUT)]);
    });
    item(svg, "timeout deferred", &|svg, x, y| {
        let d = diamond(x + 10.0, y + 6.0);
        svg.leaf(
            "path",
            &[("d", &d), ("fill", &"white"), ("stroke", &DEFERRED), ("stroke-width", &"1.5")],
        );
    });
    item(svg, "network change", &|svg, x, y| {
        line(svg, (x + 10.0, y - 7.0), (x + 10.0, y + 7.0), "#374151", "5 3", None);
    });
    for (kind, label) in [
        (MessageKind::Heartbeat, "heartbeat"),
        (MessageKind::PreVote, "pre-vote"),
        (MessageKind::Vote, "vote"),
        (MessageKind::TimeoutNow, "timeout-now, transfer vote"),
    ] {
        let (colour, marker) = message_style(kind);
        item(svg, label, &|svg, x, y| {
            line(svg, (x, y), (x + 20.0, y), colour, "none", Some(marker));
        });
    }
    item(svg, "answer (dashed)", &|svg, x, y| {
        line(svg, (x, y), (x + 20.0, y), TEXT, "4 2", None);
    });
    item(svg, "dropped", &|svg, x, y| {
        line(svg, (x, y + 4.0), (x + 14.0, y - 2.0), TEXT, "none", None);
        cross(svg, x + 14.0, y - 2.0, TEXT);
    });
}

pub(super) fn swatch(svg: &mut Svg, x: f64, y: f64, fill: &str) {
    svg.leaf(
        "rect",
        &[
            ("x", &Px(x)),
            ("y", &Px(y - 7.0)),
            ("width", &Px(20.0)),
            ("height", &Px(14.0)),
            ("fill", &fill),
            ("stroke", &"#9ca3af"),
            ("stroke-width", &"0.5"),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_about_ten() {
        assert_eq!(tick_step(500.0), (50.0, 0));
        assert_eq!(tick_step(1229.97), (200.0, 0));
        assert_eq!(tick_step(3.0), (0.5, 1));
    }
}
