//! The backtest chart: NAV paths on a log axis, and two relative panels, as SVG.

use super::report::{pct_f, Report};
use super::{DAYS_PER_YEAR, SERIES_BENCHMARK, SERIES_BUFFER, SERIES_FULL};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Evenly spaced round tick values covering `[lo, hi]` (about `n` of them).
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let (lo, hi) = if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    let count = ((end - start) / step).round() as usize;
    ((0..=count).map(|k| start + k as f64 * step).collect(), step)
}

pub(crate) fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        format!("{:.decimals$}", 0.0)
    } else {
        s
    }
}

/// Round ticks for a log axis over `[lo, hi]` (both positive): 1-2-5 per decade, coarser or
/// finer so that there are a handful.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let sets: [&[f64]; 4] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[
            1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
        ],
    ];
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut best = Vec::new();
    for set in sets {
        best = (k0..=k1)
            .flat_map(|k| set.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
        if best.len() >= 4 {
            break;
        }
    }
    best
}

/// A tick value: no decimals from 10 up, else up to two, trailing zeros dropped.
fn log_label(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One line of a chart panel: values by day, colour, dash pattern, width.
type Line<'a> = (&'a [f64], &'a str, &'a str, f64);

/// Axis scale of a chart panel.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    Log,
}

/// The NAV paths of buffer, full and the uncapped benchmark (rebased to 100, log scale); below
/// them buffer and full relative to the benchmark, and buffer relative to full; as a
/// hand-written SVG.
const W: f64 = 1000.0;
const H: f64 = 900.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const BLUE: &str = "#1f5fbf";
const RED: &str = "#d0402b";
const GREY: &str = "#444444";

/// The horizontal axis every panel shares: days of the run, a year grid.
struct Frame {
    days: f64,
    years: u32,
    /// Plot every `stride`-th day (long runs).
    stride: usize,
}

impl Frame {
    fn x(&self, d: usize) -> f64 {
        LEFT + (W - LEFT - RIGHT) * d as f64 / self.days
    }
}

/// One panel of the chart.
struct Panel<'a> {
    /// Top and bottom, pixels.
    y: (f64, f64),
    title: &'a str,
    ylabel: &'a str,
    scale: Scale,
    series: &'a [Line<'a>],
    /// Whether the years are labelled under it.
    x_labels: bool,
}

/// The axis range and its ticks (value, label).
fn axis(scale: Scale, lo: f64, hi: f64) -> (f64, f64, Vec<(f64, String)>) {
    match scale {
        Scale::Log => {
            let (lo, hi) = (lo.max(1e-9) / 1.08, hi.max(1e-9) * 1.08);
            let ticks = log_ticks(lo, hi)
                .into_iter()
                .map(|t| (t, log_label(t)))
                .collect();
            (lo, hi, ticks)
        }
        Scale::Linear => {
            let (ticks, step) = nice_ticks(lo, hi, 5);
            let (a0, a1) = (
                ticks.first().copied().unwrap_or(lo),
                ticks.last().copied().unwrap_or(hi),
            );
            let ticks = ticks
                .into_iter()
                .map(|t| (t, tick_label(t, step)))
                .collect();
            (a0, a1, ticks)
        }
    }
}

fn draw_panel(svg: &mut String, frame: &Frame, p: &Panel) {
    let (y0, y1) = p.y;
    let values = || p.series.iter().flat_map(|s| s.0.iter()).copied();
    let lo = values().fold(f64::INFINITY, f64::min);
    let hi = values().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let (a0, a1, ticks) = axis(p.scale, lo, hi);
    let f = |v: f64| match p.scale {
        Scale::Log => v.max(1e-9).ln(),
        Scale::Linear => v,
    };
    let span = if f(a1) > f(a0) { f(a1) - f(a0) } else { 1.0 };
    let y = |v: f64| y1 - (y1 - y0) * (f(v) - f(a0)) / span;
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
        y0 - 8.0,
        esc(p.title)
    );
    for (t, label) in &ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{}"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            y(*t),
            W - RIGHT,
            y(*t),
            if p.scale == Scale::Linear && *t == 0.0 {
                "#888888"
            } else {
                "#e2e2e2"
            },
            LEFT - 8.0,
            y(*t) + 5.0,
        );
    }
    let year_step = (frame.years / 10).max(1);
    for k in (0..=frame.years).step_by(year_step as usize) {
        let x = frame.x(k.saturating_mul(DAYS_PER_YEAR) as usize);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}" stroke="#e2e2e2"/>"##
        );
        if p.x_labels {
            let _ = writeln!(
                svg,
                r##"<text x="{x:.1}" y="{}" text-anchor="middle">{k}</text>"##,
                y1 + 20.0
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<text transform="translate(28 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        (y0 + y1) / 2.0,
        esc(p.ylabel)
    );
    for (s, color, dash, width) in p.series {
        let points: Vec<String> = s
            .iter()
            .enumerate()
            .filter(|(d, _)| d % frame.stride == 0 || *d + 1 == s.len())
            .map(|(d, v)| format!("{:.1},{:.1}", frame.x(d), y(*v)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polyline fill="none" stroke="{color}" stroke-width="{width}" stroke-dasharray="{dash}" stroke-linejoin="round" points="{}"/>"##,
            points.join(" ")
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{}" fill="none" stroke="#333333"/>"##,
        W - LEFT - RIGHT,
        y1 - y0
    );
}

/// The title, the run's settings and the legend (one row, each entry sized by its text).
fn draw_header(svg: &mut String, r: &Report) {
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="14">"##
    );
    let _ = writeln!(svg, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="30" text-anchor="middle" font-size="19" font-weight="bold">aidx backtest: the program's buffer vs full rebalance vs uncapped market cap</text>"##,
        W / 2.0
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="52" text-anchor="middle" fill="#555555">simulated prices, seed {}, {} years, reviews every {} days, band ±{:.0}% (the program's own code), full rebalance at {} bps per unit traded</text>"##,
        W / 2.0,
        r.seed,
        r.years,
        r.review_every_days,
        r.band * 100.0,
        r.cost_bps
    );
    let legend = [
        (
            BLUE,
            "",
            format!(
                "{SERIES_BUFFER} ±{:.0}% band ({}/yr)",
                r.band * 100.0,
                pct_f(r.buffer.annual_return, 1)
            ),
        ),
        (
            RED,
            "",
            format!(
                "{SERIES_FULL} rebalance ({}/yr)",
                pct_f(r.full.annual_return, 1)
            ),
        ),
        (
            GREY,
            "6 4",
            format!(
                "{SERIES_BENCHMARK} benchmark ({}/yr)",
                pct_f(r.benchmark.annual_return, 1)
            ),
        ),
    ];
    let mut lx = LEFT;
    for (color, dash, label) in &legend {
        let _ = writeln!(
            svg,
            r##"<line x1="{lx:.1}" y1="80" x2="{:.1}" y2="80" stroke="{color}" stroke-width="3" stroke-dasharray="{dash}"/><text x="{:.1}" y="85">{}</text>"##,
            lx + 28.0,
            lx + 34.0,
            esc(label)
        );
        lx += 34.0 + 7.6 * label.chars().count() as f64 + 36.0;
    }
}

/// The NAV paths of buffer, full and the uncapped benchmark (rebased to 100, log scale); below
/// them buffer and full relative to the benchmark, and buffer relative to full; as a
/// hand-written SVG.
pub fn chart_svg(r: &Report) -> String {
    let frame = Frame {
        days: r.days.max(1) as f64,
        years: r.years,
        stride: (r.days as usize / 1500).max(1),
    };
    let rebase = |s: &[f64]| -> Vec<f64> {
        let base = s.first().copied().filter(|b| *b > 0.0).unwrap_or(1.0);
        s.iter().map(|v| (100.0 * v / base).max(1e-9)).collect()
    };
    let (buf, full, bench) = (
        rebase(&r.nav.buffer),
        rebase(&r.nav.full),
        rebase(&r.nav.benchmark),
    );
    let relative = |s: &[f64], to: &[f64]| -> Vec<f64> {
        s.iter()
            .zip(to)
            .map(|(a, b)| if *b > 0.0 { 100.0 * (a / b - 1.0) } else { 0.0 })
            .collect()
    };
    let (rel_buf, rel_full, buf_vs_full) = (
        relative(&buf, &bench),
        relative(&full, &bench),
        relative(&buf, &full),
    );
    let mut svg = String::new();
    draw_header(&mut svg, r);
    let panels = [
        Panel {
            y: (125.0, 445.0),
            title: "NAV of each portfolio, rebased to 100 (log scale)",
            ylabel: "NAV",
            scale: Scale::Log,
            series: &[
                (&bench, GREY, "6 4", 2.0),
                (&full, RED, "", 1.6),
                (&buf, BLUE, "", 1.6),
            ],
            x_labels: false,
        },
        Panel {
            y: (495.0, 655.0),
            title: "buffer and full relative to the uncapped benchmark",
            ylabel: "% vs uncapped",
            scale: Scale::Linear,
            series: &[(&rel_full, RED, "", 1.6), (&rel_buf, BLUE, "", 1.6)],
            x_labels: false,
        },
        Panel {
            y: (705.0, 835.0),
            title: "buffer relative to full",
            ylabel: "% vs full",
            scale: Scale::Linear,
            series: &[(&buf_vs_full, BLUE, "", 1.6)],
            x_labels: true,
        },
    ];
    for p in &panels {
        draw_panel(&mut svg, &frame, p);
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle">years</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        835.0 + 44.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes [`chart_svg`] to `path`.
pub fn write_chart(r: &Report, path: &Path) -> Result<()> {
    std::fs::write(path, chart_svg(r)).with_context(|| format!("writing {}", path.display()))
}
