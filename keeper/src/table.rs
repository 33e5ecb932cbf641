//! Plain-text tables for humans.

/// Column alignment.
#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Right,
}

/// Renders rows under a header, each column as wide as its widest cell.
pub fn render(header: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|(h, _)| h.chars().count()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| match header[i].1 {
                Align::Left => format!("{c:<w$}", w = width[i]),
                Align::Right => format!("{c:>w$}", w = width[i]),
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header.iter().map(|(h, _)| *h).collect());
    out.push('\n');
    out.push_str(
        &width
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// A raw amount with `decimals`, printed with up to `shown` fraction digits (truncated).
pub fn ui_amount(raw: u128, decimals: u8, shown: usize) -> String {
    let scale = 10u128.pow(decimals as u32);
    let int = raw / scale;
    if decimals == 0 || shown == 0 {
        return int.to_string();
    }
    let frac = format!("{:0w$}", raw % scale, w = decimals as usize);
    format!("{int}.{}", &frac[..shown.min(frac.len())])
}

/// A `WEIGHT_SCALE` ratio as a percentage with two decimals.
pub fn pct(weight: u128) -> String {
    let bp = weight / 100_000; // 1e9 scale -> 1e4 (basis points)
    format!("{}.{:02}%", bp / 100, bp % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ui_amount(1_234_567, 6, 2), "1.23");
        assert_eq!(ui_amount(5, 0, 2), "5");
        assert_eq!(ui_amount(5, 9, 3), "0.000");
        assert_eq!(pct(150_000_000), "15.00%");
        assert_eq!(pct(1_234_567), "0.12%");
        let t = render(
            &[("a", Align::Left), ("b", Align::Right)],
            &[vec!["xx".into(), "1".into()]],
        );
        assert_eq!(t, "a   b\n--  -\nxx  1\n");
    }
}
