//! The audit chart: per constituent, the band, the target, the cap and the weight, as SVG with
//! round percentage ticks.

use crate::backtest::chart::{nice_ticks, tick_label};
use aidx::math::WEIGHT_SCALE;
use aidx_client::audit::AuditReport;
use aidx_client::format::pct;

/// An SVG chart: per constituent, the band as a grey range, the target as a tick, the cap as a
/// dashed line, and the weight as a bar (red when out of band).
pub fn audit_svg(r: &AuditReport) -> String {
    let (w, row_h, left, top) = (900.0f64, 26.0f64, 90.0f64, 60.0f64);
    let plot_w = w - left - 40.0;
    // The axis runs from 0 to a round percentage above every weight, band and the cap.
    let top_pct = r
        .rows
        .iter()
        .map(|x| x.weight.max(x.band_high).max(x.cap))
        .max()
        .unwrap_or(WEIGHT_SCALE / 10) as f64
        * 100.0
        / WEIGHT_SCALE as f64;
    let (ticks, step) = nice_ticks(0.0, top_pct * 1.05, 5);
    let max = ticks
        .last()
        .copied()
        .unwrap_or(top_pct)
        .max(f64::MIN_POSITIVE)
        / 100.0
        * WEIGHT_SCALE as f64;
    let x = |v: u64| left + plot_w * v as f64 / max;
    let h = top + row_h * r.rows.len() as f64 + 50.0;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="24" font-size="16" font-weight="bold">aidx audit: weight, target and band per constituent</text>
<text x="{left}" y="42" fill="#555">grey: band, black tick: target, bar: weight (red when out of band), dashed: cap</text>
"##
    );
    let cap_x = x(r.rows.first().map(|x| x.cap).unwrap_or(0));
    for (i, row) in r.rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let color = if row.out_of_band {
            "#d62728"
        } else {
            "#1f77b4"
        };
        s += &format!(
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>
<rect x="{}" y="{}" width="{}" height="{}" fill="#ddd"/>
<rect x="{left}" y="{}" width="{}" height="{}" fill="{color}"/>
<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="black" stroke-width="2"/>
<text x="{}" y="{}" fill="#333">{}</text>
"##,
            left - 8.0,
            y + 16.0,
            row.symbol,
            x(row.band_low),
            y + 3.0,
            (x(row.band_high) - x(row.band_low)).max(1.0),
            row_h - 6.0,
            y + 8.0,
            x(row.weight) - left,
            row_h - 16.0,
            x(row.target),
            y + 2.0,
            x(row.target),
            y + row_h - 2.0,
            x(row.weight.max(row.band_high)) + 6.0,
            y + 16.0,
            pct(row.weight as u128),
        );
    }
    let bottom = top + row_h * r.rows.len() as f64;
    s += &format!(
        r##"<line x1="{cap_x}" y1="{top}" x2="{cap_x}" y2="{bottom}" stroke="#999" stroke-dasharray="4 3"/>
<text x="{}" y="{}" fill="#555">cap {}</text>
<line x1="{left}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="black"/>
"##,
        cap_x + 4.0,
        top - 4.0,
        pct(r.rows.first().map(|x| x.cap).unwrap_or(0) as u128),
        left + plot_w
    );
    for t in &ticks {
        let v = (t / 100.0 * WEIGHT_SCALE as f64).round() as u64;
        s += &format!(
            r##"<line x1="{x}" y1="{bottom}" x2="{x}" y2="{}" stroke="black"/>
<text x="{x}" y="{}" text-anchor="middle">{}%</text>
"##,
            bottom + 5.0,
            bottom + 30.0,
            tick_label(*t, step),
            x = x(v),
        );
    }
    s + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ticks_are_round_percentages() {
        assert_eq!(
            nice_ticks(0.0, 14.85 * 1.05, 5).0,
            vec![0.0, 5.0, 10.0, 15.0, 20.0]
        );
        assert_eq!(
            nice_ticks(0.0, 9.9 * 1.05, 5).0,
            vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5]
        );
    }
}
