//! `aidx targets`.

use crate::output;
use aidx_client::{targets, universe};
use anyhow::{anyhow, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx targets` options.
#[derive(Args)]
pub struct TargetsArgs {
    /// Universe CSV (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE")]
    pub universe: Option<PathBuf>,
    /// Per-constituent cap, percent (15-20).
    #[arg(long, default_value_t = 15, env = "AIDX_MAX_WEIGHT_PCT")]
    pub max_weight_pct: u64,
    /// Unlock haircut, percent (25-50).
    #[arg(long, default_value_t = 25, env = "AIDX_UNLOCK_HAIRCUT_PCT")]
    pub unlock_haircut_pct: u64,
    /// Pure-play share when splitting pure plays and host chains, percent (50-90); 0: no split.
    #[arg(long, default_value_t = 0, env = "AIDX_PURE_PLAY_PCT")]
    pub pure_play_pct: u64,
    /// At most this many constituents, chosen by circulating market-cap rank (0: no limit; the
    /// index's default, 20, keeps room in its 24-row table for entrants while exits wind down).
    #[arg(long, default_value_t = aidx::state::DEFAULT_MAX_MEMBERS as usize, env = "AIDX_MAX_CONSTITUENTS")]
    pub max_constituents: usize,
    /// Ranks of buffer around the count: a member stays while ranked at most N + B, a newcomer
    /// enters when ranked at most N - B.
    #[arg(long, default_value_t = aidx::state::DEFAULT_RANK_BUFFER as usize, env = "AIDX_RANK_BUFFER")]
    pub rank_buffer: usize,
    /// A member leaves at once under this average daily volume, whole USD (newcomers need the
    /// $5M floor).
    #[arg(long, default_value_t = 4_000_000, env = "AIDX_EXIT_VOLUME_USD")]
    pub exit_volume_usd: u128,
    /// The index's members before this review (symbols; none: a first review).
    #[arg(long, value_delimiter = ',', env = "AIDX_MEMBERS")]
    pub members: Vec<String>,
    /// Members already under the $5M entry floor at the previous review(s): SYMBOL=REVIEWS
    /// (a second review in a row under it makes them leave).
    #[arg(long, value_delimiter = ',', env = "AIDX_UNDER_ENTRY")]
    pub under_entry: Vec<String>,
    /// Print JSON instead of tables.
    #[arg(long, env = "AIDX_JSON")]
    pub json: bool,
}

impl TargetsArgs {
    /// Runs the methodology on the universe.
    pub fn execute(self, out: &mut impl Write) -> Result<()> {
        let tokens = universe::parse(&super::read_universe(self.universe.as_deref())?)?;
        let pct = aidx::math::WEIGHT_SCALE / 100;
        let params = aidx::state::IndexParams {
            max_weight: self.max_weight_pct.saturating_mul(pct),
            unlock_haircut: self.unlock_haircut_pct.saturating_mul(pct),
            pure_play_share: self.pure_play_pct.saturating_mul(pct),
            ..Default::default()
        };
        params.validate().map_err(|e| anyhow!("{e}"))?;
        let membership = aidx::math::membership::MembershipParams {
            max_constituents: self.max_constituents,
            rank_buffer: self.rank_buffer,
            exit_volume_usd: self.exit_volume_usd,
            ..aidx::math::membership::MembershipParams::index_default()
        };
        let mut before = vec![aidx::math::membership::MemberState::default(); tokens.len()];
        let row = |symbol: &str| {
            tokens
                .iter()
                .position(|t| t.symbol == symbol)
                .ok_or_else(|| anyhow!("{symbol} is not in the universe"))
        };
        for m in &self.members {
            before[row(m)?].member = true;
        }
        for u in &self.under_entry {
            let (symbol, n) = u
                .split_once('=')
                .ok_or_else(|| anyhow!("--under-entry takes SYMBOL=REVIEWS, not {u}"))?;
            let i = row(symbol)?;
            if !before[i].member {
                return Err(anyhow!("--under-entry {symbol}: not one of --members"));
            }
            before[i].reviews_under_entry = n
                .parse()
                .map_err(|_| anyhow!("--under-entry {u}: REVIEWS is a small whole number"))?;
        }
        let report = targets::report_with(&tokens, &params.methodology(), &membership, &before)?;
        if self.json {
            output::json(out, &report)
        } else {
            output::targets(&report, out)
        }
    }
}
