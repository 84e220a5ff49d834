//! Drawing a scene as SVG: a lane per node, time across, in the frame `frame.rs` draws (the
//! header, the time axis, the notes and the legend).
//!
//! Each lane holds, top to bottom, the node's election-timeout marks and its role bands (the
//! term written in each, the lease span as a dark strip along a leader's band). Messages run
//! from the edge of the sender's band to the edge of the receiver's. Network, clock and
//! membership changes are dashed lines across every lane, labelled above them.

use super::frame::{grid, header, legend, notes};
use super::messages::{Arrow, Fate};
use super::model::{MarkKind, OutageKind, Span};
use super::read::MessageKind;
use super::svg::{Px, Svg};
use super::window::Scene;
use crate::core::{NodeId, Role};

pub(super) const WIDTH: f64 = 1500.0;
pub(super) const LEFT: f64 = 56.0;
pub(super) const RIGHT: f64 = 24.0;
/// Height of the strip above the lanes that holds one row of change labels.
pub(super) const NOTE_ROW: f64 = 14.0;
pub(super) const NOTE_ROWS: usize = 3;
pub(super) const HEADER: f64 = 50.0;
pub(super) const LANE: f64 = 60.0;
/// Top of a role band below its lane's top: the marks sit above it.
pub(super) const BAND_TOP: f64 = 16.0;
pub(super) const BAND: f64 = 28.0;
pub(super) const LEASE: f64 = 5.0;
pub(super) const AXIS: f64 = 44.0;
pub(super) const LEGEND_ROW: f64 = 22.0;
/// Average width of a character of the 12 px font: enough to keep labels apart.
pub(super) const CHAR: f64 = 6.8;

pub(super) const TEXT: &str = "#111827";
pub(super) const MUTED: &str = "#4b5563";
pub(super) const GRID: &str = "#eef2f7";
pub(super) const LEASE_FILL: &str = "#14532d";
pub(super) const TIMEOUT: &str = "#dc2626";
pub(super) const DEFERRED: &str = "#2563eb";
pub(super) const CRASH: &str = "#6b7280";

/// The SVG of `scene`, headed by `title`.
pub fn svg(scene: &Scene, title: &str) -> String {
    let g = Geometry::of(scene);
    let mut svg = Svg::new(WIDTH, g.height());
    defs(&mut svg);
    svg.leaf("rect", &[("width", &"100%"), ("height", &"100%"), ("fill", &"white")]);
    header(&mut svg, scene, title);
    grid(&mut svg, &g);
    for n in 1..=g.nodes {
        lane(&mut svg, &g, NodeId(n));
    }
    bands(&mut svg, scene, &g);
    outages(&mut svg, scene, &g);
    leases(&mut svg, scene, &g);
    for arrow in &scene.arrows {
        self::arrow(&mut svg, &g, arrow);
    }
    marks(&mut svg, scene, &g);
    terms(&mut svg, scene, &g);
    notes(&mut svg, scene, &g);
    legend(&mut svg, &g);
    svg.finish()
}

/// Where things go.
pub(super) struct Geometry {
    pub(super) from_ns: u64,
    pub(super) to_ns: u64,
    pub(super) nodes: u64,
    pub(super) plot: f64,
    pub(super) lanes_top: f64,
}

impl Geometry {
    pub(super) fn of(scene: &Scene) -> Self {
        let w = scene.window;
        let changes = scene.timeline.notes.iter().any(|n| w.overlaps(n.t_ns, n.t_ns));
        let note_rows = if changes { NOTE_ROWS } else { 0 };
        Geometry {
            from_ns: scene.window.from_ns,
            to_ns: scene.window.to_ns,
            nodes: scene.timeline.nodes,
            plot: WIDTH - LEFT - RIGHT,
            lanes_top: HEADER + NOTE_ROW * note_rows as f64 + 6.0,
        }
    }

    pub(super) fn lanes_bottom(&self) -> f64 {
        self.lanes_top + LANE * self.nodes as f64
    }

    pub(super) fn height(&self) -> f64 {
        self.lanes_bottom() + AXIS + LEGEND_ROW * 3.0 + 8.0
    }

    /// The x of time `t_ns`, inside the plot or not.
    pub(super) fn x(&self, t_ns: u64) -> f64 {
        let span = (self.to_ns - self.from_ns) as f64;
        LEFT + (t_ns as f64 - self.from_ns as f64) / span * self.plot
    }

    /// The x of time `t_ns`, kept inside the plot.
    pub(super) fn x_in(&self, t_ns: u64) -> f64 {
        self.x(t_ns.clamp(self.from_ns, self.to_ns))
    }

    pub(super) fn lane_top(&self, node: NodeId) -> f64 {
        self.lanes_top + LANE * (node.0 - 1) as f64
    }

    pub(super) fn band_top(&self, node: NodeId) -> f64 {
        self.lane_top(node) + BAND_TOP
    }

    pub(super) fn band_bottom(&self, node: NodeId) -> f64 {
        self.band_top(node) + BAND
    }

    /// The visible part of `span`: its left x and width, if any.
    pub(super) fn span(&self, start_ns: u64, end_ns: u64) -> Option<(f64, f64)> {
        if start_ns > self.to_ns || end_ns < self.from_ns {
            return None;
        }
        let (x1, x2) = (self.x_in(start_ns), self.x_in(end_ns));
        Some((x1, (x2 - x1).max(0.5)))
    }
}

pub(super) fn ms(t_ns: u64) -> String {
    format!("{:.3}", t_ns as f64 / 1e6)
}

pub(super) fn role_fill(role: Role) -> &'static str {
    match role {
        Role::Follower => "#dbe3ee",
        Role::PreCandidate => "#fde68a",
        Role::Candidate => "#fb923c",
        Role::Leader => "#4ade80",
    }
}

/// The colour of a message's kind, and the id of its arrowhead.
pub(super) fn message_style(kind: MessageKind) -> (&'static str, &'static str) {
    match kind {
        MessageKind::Heartbeat | MessageKind::HeartbeatResponse => ("#64748b", "head-heartbeat"),
        MessageKind::PreVote | MessageKind::PreVoteResponse => ("#b45309", "head-pre-vote"),
        MessageKind::Vote | MessageKind::VoteResponse => ("#7c3aed", "head-vote"),
        MessageKind::TimeoutNow | MessageKind::TransferVote => ("#0f766e", "head-transfer"),
    }
}

/// Arrowheads, one per colour, and the stripes of a pause.
pub(super) fn defs(svg: &mut Svg) {
    svg.open("defs", &[]);
    for kind in
        [MessageKind::Heartbeat, MessageKind::PreVote, MessageKind::Vote, MessageKind::TimeoutNow]
    {
        let (colour, id) = message_style(kind);
        svg.open(
            "marker",
            &[
                ("id", &id),
                ("viewBox", &"0 0 8 8"),
                ("refX", &"7"),
                ("refY", &"4"),
                ("markerWidth", &"7"),
                ("markerHeight", &"7"),
                ("orient", &"auto"),
            ],
        );
        svg.leaf("path", &[("d", &"M0,0 L8,4 L0,8 z"), ("fill", &colour)]);
        svg.close();
    }
    svg.open(
        "pattern",
        &[
            ("id", &"paused"),
            ("width", &"6"),
            ("height", &"6"),
            ("patternUnits", &"userSpaceOnUse"),
            ("patternTransform", &"rotate(45)"),
        ],
    );
    svg.leaf("rect", &[("width", &"6"), ("height", &"6"), ("fill", &"#f3f4f6")]);
    svg.leaf("rect", &[("width", &"2.5"), ("height", &"6"), ("fill", &"#4b5563")]);
    svg.close();
    svg.close();
}

/// The lane's name and its bottom rule.
pub(super) fn lane(svg: &mut Svg, g: &Geometry, node: NodeId) {
    let y = g.band_top(node) + BAND / 2.0 + 4.0;
    svg.text(
        &[
            ("x", &Px(LEFT - 10.0)),
            ("y", &Px(y)),
            ("font-size", &"13"),
            ("font-weight", &"bold"),
            ("text-anchor", &"end"),
            ("fill", &TEXT),
            ("class", &"lane"),
        ],
        &node.to_string(),
    );
    let bottom = g.lane_top(node) + LANE;
    svg.leaf(
        "line",
        &[
            ("x1", &Px(LEFT)),
            ("x2", &Px(LEFT + g.plot)),
            ("y1", &Px(bottom)),
            ("y2", &Px(bottom)),
            ("stroke", &"#e5e7eb"),
        ],
    );
}

pub(super) fn bands(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    for b in &scene.timeline.bands {
        let Some((x, w)) = g.span(b.span.start_ns, b.span.end_ns) else { continue };
        let tip = format!(
            "{} {} {}, {} to {} ms",
            b.span.node,
            b.role,
            b.term,
            ms(b.span.start_ns),
            ms(b.span.end_ns)
        );
        svg.leaf_with_tip(
            "rect",
            &[
                ("x", &Px(x)),
                ("y", &Px(g.band_top(b.span.node))),
                ("width", &Px(w)),
                ("height", &Px(BAND)),
                ("fill", &role_fill(b.role)),
                ("stroke", &"white"),
                ("stroke-width", &"1"),
                ("class", &format!("band {}", b.role)),
            ],
            &tip,
        );
    }
}

/// The term (and, where there is room, the role) in each band, over the arrows.
pub(super) fn terms(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    for b in &scene.timeline.bands {
        let Some((x, w)) = g.span(b.span.start_ns, b.span.end_ns) else { continue };
        let long = format!("{} {}", b.role, b.term);
        let short = b.term.to_string();
        let label = if fits(&long, w) {
            long
        } else if fits(&short, w) {
            short
        } else {
            continue;
        };
        svg.text(
            &[
                ("x", &Px(x + w / 2.0)),
                ("y", &Px(g.band_top(b.span.node) + BAND / 2.0 + 2.0)),
                ("font-size", &"12"),
                ("text-anchor", &"middle"),
                ("fill", &TEXT),
                ("stroke", &role_fill(b.role)),
                ("stroke-width", &"3"),
                ("paint-order", &"stroke"),
            ],
            &label,
        );
    }
}

pub(super) fn fits(text: &str, width: f64) -> bool {
    text.len() as f64 * CHAR + 6.0 <= width
}

pub(super) fn outages(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    for o in &scene.timeline.outages {
        let Span { node, start_ns, end_ns } = o.span;
        let Some((x, w)) = g.span(start_ns, end_ns) else { continue };
        let (fill, name, top, height) = match o.kind {
            OutageKind::Crash => (CRASH, "crashed", g.band_top(node) - 4.0, BAND + 8.0),
            OutageKind::Pause => ("url(#paused)", "paused", g.band_top(node), BAND),
        };
        let tip = format!("{node} {name}, {} to {} ms", ms(start_ns), ms(end_ns));
        svg.leaf_with_tip(
            "rect",
            &[
                ("x", &Px(x)),
                ("y", &Px(top)),
                ("width", &Px(w)),
                ("height", &Px(height)),
                ("fill", &fill),
                ("opacity", &"0.85"),
                ("class", &name),
            ],
            &tip,
        );
        if o.kind == OutageKind::Crash && fits(name, w) {
            svg.text(
                &[
                    ("x", &Px(x + w / 2.0)),
                    ("y", &Px(g.band_top(node) + BAND / 2.0 + 4.0)),
                    ("font-size", &"12"),
                    ("text-anchor", &"middle"),
                    ("fill", &"white"),
                ],
                name,
            );
        }
    }
}

pub(super) fn leases(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    for s in &scene.timeline.leases {
        let Some((x, w)) = g.span(s.start_ns, s.end_ns) else { continue };
        let tip = format!(
            "{} led from {} to {} ms: with leases on, its lease lies within",
            s.node,
            ms(s.start_ns),
            ms(s.end_ns)
        );
        svg.leaf_with_tip(
            "rect",
            &[
                ("x", &Px(x)),
                ("y", &Px(g.band_bottom(s.node) - LEASE)),
                ("width", &Px(w)),
                ("height", &Px(LEASE)),
                ("fill", &LEASE_FILL),
                ("class", &"lease"),
            ],
            &tip,
        );
    }
}

/// One message, from the sender's band edge toward the receiver's; clipped to the window.
pub(super) fn arrow(svg: &mut Svg, g: &Geometry, a: &Arrow) {
    let down = a.from < a.to;
    let (y1, y2) = if down {
        (g.band_bottom(a.from), g.band_top(a.to))
    } else {
        (g.band_top(a.from), g.band_bottom(a.to))
    };
    let x1 = g.x(a.sent_ns);
    let (x2, y2) = match a.fate {
        Fate::Lost => (x1 + 8.0, y1 + (y2 - y1).signum() * 16.0),
        Fate::Delivered | Fate::Refused => (g.x(a.end_ns), y2),
    };
    let (left, right) = (LEFT, LEFT + g.plot);
    let Some(((x1, y1), (x2, y2), head)) = clip((x1, y1), (x2, y2), left, right) else {
        return;
    };
    let (colour, marker) = message_style(a.message);
    let fate = match a.fate {
        Fate::Delivered => "delivered",
        Fate::Lost => "lost on the way",
        Fate::Refused => "refused or receiver down",
    };
    let tip = format!(
        "{} to {} {} T{}, sent {} ms, {fate} {} ms",
        a.from,
        a.to,
        a.message.name(),
        a.term,
        ms(a.sent_ns),
        ms(a.end_ns)
    );
    let heartbeat = a.message.is_heartbeat();
    let marker_end = format!("url(#{marker})");
    let dash = if a.message.is_response() { "4 2" } else { "none" };
    let (px1, py1, px2, py2) = (Px(x1), Px(y1), Px(x2), Px(y2));
    let mut attrs: Vec<(&str, &dyn std::fmt::Display)> = vec![
        ("x1", &px1),
        ("y1", &py1),
        ("x2", &px2),
        ("y2", &py2),
        ("stroke", &colour),
        ("stroke-width", if heartbeat { &"1" } else { &"1.6" }),
        ("stroke-dasharray", &dash),
        ("opacity", if heartbeat { &"0.6" } else { &"0.95" }),
    ];
    if head && a.fate == Fate::Delivered {
        attrs.push(("marker-end", &marker_end));
    }
    svg.leaf_with_tip("line", &attrs, &tip);
    if head && a.fate != Fate::Delivered {
        cross(svg, x2, y2, colour);
    }
}

/// The part of the segment from `a` to `b` between `left` and `right`, and whether its end
/// `b` is inside.
#[allow(clippy::type_complexity)]
pub(super) fn clip(
    a: (f64, f64),
    b: (f64, f64),
    left: f64,
    right: f64,
) -> Option<((f64, f64), (f64, f64), bool)> {
    if a.0.max(b.0) < left || a.0.min(b.0) > right {
        return None;
    }
    let at = |x: f64| {
        let dx = b.0 - a.0;
        let f = if dx.abs() < f64::EPSILON { 0.0 } else { (x - a.0) / dx };
        (x, a.1 + f * (b.1 - a.1))
    };
    let start = if a.0 < left { at(left) } else { a };
    let (end, inside) = if b.0 > right { (at(right), false) } else { (b, true) };
    Some((start, end, inside))
}

/// An x where a message was dropped.
pub(super) fn cross(svg: &mut Svg, x: f64, y: f64, colour: &str) {
    let r = 4.0;
    let d = format!(
        "M{},{} L{},{} M{},{} L{},{}",
        Px(x - r),
        Px(y - r),
        Px(x + r),
        Px(y + r),
        Px(x - r),
        Px(y + r),
        Px(x + r),
        Px(y - r)
    );
    svg.leaf(
        "path",
        &[("d", &d), ("stroke", &colour), ("stroke-width", &"2.2"), ("fill", &"none")],
    );
}

pub(super) fn marks(svg: &mut Svg, scene: &Scene, g: &Geometry) {
    for m in &scene.timeline.marks {
        if m.t_ns < g.from_ns || m.t_ns > g.to_ns {
            continue;
        }
        let (x, y) = (g.x(m.t_ns), g.band_top(m.node) - 2.0);
        let (d, fill, stroke, what, class) = match m.kind {
            MarkKind::Timeout => (triangle(x, y), TIMEOUT, TIMEOUT, "election timeout", "timeout"),
            MarkKind::Deferred => {
                (diamond(x, y), "white", DEFERRED, "election timeout deferred", "deferred")
            }
        };
        let tip = format!("{} {what} at {} ms", m.node, ms(m.t_ns));
        svg.leaf_with_tip(
            "path",
            &[
                ("d", &d),
                ("fill", &fill),
                ("stroke", &stroke),
                ("stroke-width", &"1.5"),
                ("class", &class),
            ],
            &tip,
        );
    }
}

/// A triangle pointing down at (x, y).
pub(super) fn triangle(x: f64, y: f64) -> String {
    format!(
        "M{},{} L{},{} L{},{} z",
        Px(x - 5.0),
        Px(y - 10.0),
        Px(x + 5.0),
        Px(y - 10.0),
        Px(x),
        Px(y)
    )
}

/// A diamond standing on (x, y).
pub(super) fn diamond(x: f64, y: f64) -> String {
    format!(
        "M{},{} L{},{} L{},{} L{},{} z",
        Px(x),
        Px(y - 12.0),
        Px(x + 5.0),
        Px(y - 6.0),
        Px(x),
        Px(y),
        Px(x - 5.0),
        Px(y - 6.0)
    )
}

pub(super) fn line(
    svg: &mut Svg,
    a: (f64, f64),
    b: (f64, f64),
    colour: &str,
    dash: &str,
    head: Option<&str>,
) {
    let marker = head.map(|m| format!("url(#{m})")).unwrap_or_default();
    let (x1, y1, x2, y2) = (Px(a.0), Px(a.1), Px(b.0), Px(b.1));
    let mut attrs: Vec<(&str, &dyn std::fmt::Display)> = vec![
        ("x1", &x1),
        ("y1", &y1),
        ("x2", &x2),
        ("y2", &y2),
        ("stroke", &colour),
        ("stroke-width", &"1.6"),
        ("stroke-dasharray", &dash),
    ];
    if head.is_some() {
        attrs.push(("marker-end", &marker));
    }
    svg.leaf("line", &attrs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::timeline::fixture::FAILOVER;
    use crate::sim::timeline::model::Timeline;
    use crate::sim::timeline::read::read;
    use crate::sim::timeline::window::Window;

    fn picture(from_ms: Option<f64>, to_ms: Option<f64>) -> String {
        let t = Timeline::build(&read(FAILOVER.as_bytes(), None).unwrap()).unwrap();
        let w = Window::of(&t, from_ms, to_ms).unwrap();
        svg(&Scene::new(&t, w), "fixture")
    }

    #[test]
    fn the_picture_has_a_lane_per_node_and_each_role_the_trial_saw() {
        let out = picture(None, None);
        assert!(out.starts_with("<svg"));
        assert!(out.trim_end().ends_with("</svg>"));
        assert_eq!(out.matches("class=\"lane\"").count(), 3);
        for role in ["band follower", "band pre-candidate", "band candidate", "band leader"] {
            assert!(out.contains(role), "{role}");
        }
        assert_eq!(out.matches("class=\"timeout\"").count(), 1);
        assert_eq!(out.matches("class=\"deferred\"").count(), 1);
        assert_eq!(out.matches("class=\"crashed\"").count(), 1);
        assert_eq!(out.matches("class=\"paused\"").count(), 1);
        assert_eq!(out.matches("class=\"change\"").count(), 1);
        assert_eq!(out.matches("class=\"lease\"").count(), 2);
        assert!(out.contains("messages: all 3 in the window drawn"));
    }

    #[test]
    fn a_cropped_picture_leaves_out_what_is_outside_the_window() {
        let out = picture(Some(310.0), Some(390.0));
        for gone in ["crashed", "paused", "timeout", "deferred", "change", "band candidate"] {
            assert!(!out.contains(&format!("class=\"{gone}")), "{gone}");
        }
        assert_eq!(out.matches("class=\"lease\"").count(), 1);
        assert!(out.contains("trial 0, 310 to 390 ms, 3 nodes"));
    }

    #[test]
    fn a_segment_is_clipped_to_the_plot_and_says_whether_its_end_is_inside() {
        assert_eq!(
            clip((0.0, 0.0), (10.0, 10.0), 5.0, 20.0),
            Some(((5.0, 5.0), (10.0, 10.0), true))
        );
        assert_eq!(clip((0.0, 0.0), (10.0, 10.0), 0.0, 4.0), Some(((0.0, 0.0), (4.0, 4.0), false)));
        assert_eq!(clip((0.0, 0.0), (1.0, 1.0), 2.0, 4.0), None);
    }
}
