//! Everything the command line shows people: tables, event lines and JSON, rendered in one
//! place from the data the client returns.

use aidx::math::SHARE_DECIMALS;
use aidx::math::WEIGHT_SCALE;
use aidx::state::Index;
use aidx_client::audit::AuditReport;
use aidx_client::format::{pct, ui_amount, usd};
use aidx_client::holder::NavView;
use aidx_client::rebalance::{reward_usd, Plan, RebalanceReport};
use aidx_client::targets::TargetsReport;
use aidx_client::AidxEvent;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Writes `value` as pretty JSON and a newline.
pub fn json(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Events as JSON: `[{"event": name, "detail": ...}]`.
pub fn events_json(out: &mut impl Write, events: &[AidxEvent]) -> Result<()> {
    let v: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::json!({ "event": e.name(), "detail": format!("{e:?}") }))
        .collect();
    json(out, &v)
}

/// A holder's request as JSON: how it was sent and its events.
pub fn holder_json(out: &mut impl Write, e: &aidx_client::holder::Executed) -> Result<()> {
    let events: Vec<serde_json::Value> = e
        .events
        .iter()
        .map(|e| serde_json::json!({ "event": e.name(), "detail": format!("{e:?}") }))
        .collect();
    json(
        out,
        &serde_json::json!({
            "transaction": {
                "lookup_tables": e.shape,
                "bytes": e.footprint.bytes,
                "account_locks": e.footprint.locks,
                "static_keys": e.footprint.static_keys,
            },
            "events": events,
        }),
    )
}

/// A review's plan: each row's posted rank and the rules' decision, and the tokens the rules
/// admit that the table lacks.
pub fn review_plan(
    out: &mut impl Write,
    p: &aidx_client::review::ReviewPlan,
    dry_run: bool,
) -> Result<()> {
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|r| {
            vec![
                r.symbol.clone(),
                if r.rank == 0 {
                    "-".into()
                } else {
                    r.rank.to_string()
                },
                if r.member { "yes" } else { "no" }.into(),
                r.decision.clone(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        if dry_run {
            "review (dry run: nothing posted):"
        } else {
            "review:"
        }
    )?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("rank", Align::Right),
                ("member", Align::Left),
                ("decision", Align::Left)
            ],
            &rows
        )
    )?;
    if !p.entrants_outside.is_empty() {
        writeln!(
            out,
            "the rules admit {} not in the table: add {} (add-constituent) and review again",
            p.entrants_outside.join(", "),
            if p.entrants_outside.len() == 1 {
                "it"
            } else {
                "them"
            }
        )?;
    }
    Ok(())
}

/// Each event on its own line, as debug text (what `aidx admin` shows).
pub fn event_lines(out: &mut impl Write, events: &[AidxEvent], indent: &str) -> Result<()> {
    for e in events {
        writeln!(out, "{indent}{e:?}")?;
    }
    Ok(())
}

/// `aidx rebalance` as text: failures and dry-run swaps, each swap done, the totals.
pub fn rebalance(r: &RebalanceReport, out: &mut impl Write) -> Result<()> {
    for symbol in &r.quarantined {
        writeln!(out, "  {symbol} is quarantined: left out")?;
    }
    for line in &r.notes {
        writeln!(out, "  {line}")?;
    }
    for line in &r.events {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "{} swaps done, {} failed, reward paid {}",
        r.swaps_done,
        r.swaps_failed,
        usd(r.reward_paid_usd, 4)
    )?;
    Ok(())
}

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

/// `aidx nav` as a table.
pub fn nav(v: &NavView, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = v
        .constituents
        .iter()
        .map(|c| {
            vec![
                c.symbol.clone(),
                c.balance.clone(),
                format!("${}", c.price_usd),
                format!("±{}", c.conf_usd),
                c.weight.clone(),
                c.target.clone(),
            ]
        })
        .collect();
    writeln!(out, "index {}", v.index)?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("balance", Align::Right),
                ("price", Align::Right),
                ("conf", Align::Right),
                ("weight", Align::Right),
                ("target", Align::Right),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "share supply {}  NAV ${} (low ${}, high ${})  value per share ${}",
        v.share_supply, v.nav_usd, v.nav_low_usd, v.nav_high_usd, v.value_per_share_usd
    )?;
    Ok(())
}

/// One line per event of a holder operation.
pub fn holder_events(events: &[AidxEvent], out: &mut impl Write) -> Result<()> {
    for e in events {
        match e {
            AidxEvent::MintedInKind(m) => writeln!(
                out,
                "minted {} shares in kind; supply {}",
                ui_amount(m.shares as u128, SHARE_DECIMALS, 9),
                ui_amount(m.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::RedeemedInKind(r) => writeln!(
                out,
                "redeemed {} shares in kind; supply {}",
                ui_amount(r.shares as u128, SHARE_DECIMALS, 9),
                ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::MintedSingle(m) => writeln!(
                out,
                "minted {} shares for {} raw units (fee {} shares); supply {}",
                ui_amount(m.shares as u128, SHARE_DECIMALS, 9),
                m.amount_in,
                ui_amount(m.fee_shares as u128, SHARE_DECIMALS, 9),
                ui_amount(m.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::RedeemedSingle(r) => writeln!(
                out,
                "redeemed {} shares for {} raw units (fee {} shares); supply {}",
                ui_amount(r.shares as u128, SHARE_DECIMALS, 9),
                r.amount_out,
                ui_amount(r.fee_shares as u128, SHARE_DECIMALS, 9),
                ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            _ => {}
        }
    }
    Ok(())
}

/// `aidx plan` as tables: what is out of band, the swaps and their reward now.
/// A unix time as RFC 3339 UTC, to the second (`humantime`).
fn utc(unix: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn plan(p: &Plan, index: &Index, out: &mut impl Write) -> Result<()> {
    for d in p.deviations.iter().filter(|d| d.quarantined) {
        writeln!(
            out,
            "{} is quarantined: left out of the plan (weight {}, target {})",
            d.symbol,
            pct(d.weight as u128),
            pct(d.target as u128)
        )?;
    }
    let out_rows: Vec<Vec<String>> = p
        .deviations
        .iter()
        .filter(|d| d.out_of_band)
        .map(|d| {
            vec![
                d.symbol.clone(),
                pct(d.weight as u128),
                pct(d.target as u128),
                format!("{}-{}", pct(d.band_low as u128), pct(d.band_high as u128)),
                if d.weight > d.target { "over" } else { "under" }.into(),
                pct(d.clip_at as u128),
                if d.tradeable { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    if out_rows.is_empty() {
        writeln!(out, "every constituent is inside its band: nothing to do")?;
        return Ok(());
    }
    writeln!(out, "out of band:")?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("weight", Align::Right),
                ("target", Align::Right),
                ("band", Align::Right),
                ("", Align::Left),
                ("trade to", Align::Right),
                ("tradeable now", Align::Left)
            ],
            &out_rows
        )
    )?;
    match (p.window_ends_at, p.window_open) {
        (0, _) => writeln!(out, "rebalance window: any time")?,
        (end, true) => writeln!(
            out,
            "rebalance window: open until {} (it opens when targets change)",
            utc(end)
        )?,
        (end, false) => writeln!(
            out,
            "rebalance window: closed since {}; until targets change only a row above the breach \
             weight or winding down may trade",
            utc(end)
        )?,
    }
    writeln!(
        out,
        "auction: {} s since the imbalance was recorded, reward now {}",
        p.auction_elapsed,
        pct(p.reward_now as u128)
    )?;
    let rows: Vec<Vec<String>> = p
        .swaps
        .iter()
        .map(|s| {
            let (ci, co) = (
                &index.constituents()[s.row_in],
                &index.constituents()[s.row_out],
            );
            vec![
                format!("{} -> {}", s.symbol_in, s.symbol_out),
                ui_amount(s.amount_in as u128, ci.decimals, 4),
                ui_amount(s.expected_out as u128, co.decimals, 4),
                usd(s.value_usd, 2),
                usd(reward_usd(s.value_usd, s.reward), 4),
            ]
        })
        .collect();
    writeln!(out, "swaps (caller pays in -> receives out):")?;
    write!(
        out,
        "{}",
        render(
            &[
                ("swap", Align::Left),
                ("pay in", Align::Right),
                ("receive", Align::Right),
                ("value", Align::Right),
                ("reward now", Align::Right)
            ],
            &rows
        )
    )?;
    Ok(())
}

/// `aidx targets` as tables: every step per token, then the sector breakdown.
pub fn targets(r: &TargetsReport, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = r
        .tokens
        .iter()
        .map(|t| {
            vec![
                t.symbol.clone(),
                t.sector.clone(),
                t.bucket.clone(),
                t.rank.map(|r| r.to_string()).unwrap_or_default(),
                format!("{} ({})", t.membership, t.membership_because),
                format!("${}", t.market_cap_usd),
                pct(t.raw_weight as u128),
                pct(t.capped_weight as u128),
                if t.haircut > 0 {
                    format!("-{}", pct(t.haircut as u128))
                } else {
                    String::new()
                },
                pct(t.target as u128),
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("sector", Align::Left),
                ("bucket", Align::Left),
                ("rank", Align::Right),
                ("membership", Align::Left),
                ("market cap", Align::Right),
                ("raw", Align::Right),
                ("capped", Align::Right),
                ("haircut", Align::Right),
                ("target", Align::Right),
            ],
            &rows
        )
    )?;
    let total: u64 = r.tokens.iter().map(|t| t.target).sum();
    writeln!(
        out,
        "targets sum to {} ({} units of {WEIGHT_SCALE})",
        pct(total as u128),
        total
    )?;
    writeln!(out, "\nsector breakdown")?;
    let rows: Vec<Vec<String>> = r
        .sectors
        .iter()
        .map(|(s, w)| vec![s.clone(), pct(*w as u128)])
        .collect();
    write!(
        out,
        "{}",
        render(&[("sector", Align::Left), ("target", Align::Right)], &rows)
    )?;
    Ok(())
}

/// `aidx audit` as a table and its verdict.
pub fn audit(r: &AuditReport, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.symbol.clone(),
                x.status.into(),
                x.balance.to_string(),
                if x.surplus > 0 {
                    format!("+{}", x.surplus)
                } else {
                    String::new()
                },
                usd(x.price as u128, 4),
                pct(x.weight as u128),
                pct(x.target as u128),
                format!("{}-{}", pct(x.band_low as u128), pct(x.band_high as u128)),
                if x.out_of_band { "out" } else { "" }.into(),
                x.controls.join(", "),
                x.stopped.unwrap_or("").into(),
                x.quarantine.unwrap_or("").into(),
            ]
        })
        .collect();
    writeln!(out, "index {}", r.index)?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("status", Align::Left),
                ("balance", Align::Right),
                ("donated", Align::Right),
                ("price", Align::Right),
                ("weight", Align::Right),
                ("target", Align::Right),
                ("band", Align::Right),
                ("", Align::Left),
                ("can be stopped by", Align::Left),
                ("now", Align::Left),
                ("quarantined", Align::Left),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "supply {}  NAV {} (low {}, high {})  value per share {}  management fee due {} shares",
        ui_amount(r.share_supply as u128, SHARE_DECIMALS, 9),
        usd(r.nav_mid, 2),
        usd(r.nav_low, 2),
        usd(r.nav_high, 2),
        usd(r.value_per_share, 4),
        ui_amount(r.pending_management_fee as u128, SHARE_DECIMALS, 9)
    )?;
    if let Some(n) = r.events_replayed {
        writeln!(out, "replayed {n} events")?;
    }
    for w in &r.written_off {
        writeln!(
            out,
            "written off at {}: {} raw units of {} against {} raw shares (the vault {} keeps them)",
            w.at, w.balance, w.mint, w.share_supply, w.vault
        )?;
    }
    if r.violations.is_empty() {
        writeln!(out, "all invariants hold")?;
    } else {
        for x in &r.violations {
            writeln!(out, "VIOLATION {}: {}", x.rule, x.detail)?;
        }
    }
    Ok(())
}
