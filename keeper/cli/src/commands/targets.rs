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
        let report = targets::report(&tokens, &params.methodology())?;
        if self.json {
            output::json(out, &report)
        } else {
            output::targets(&report, out)
        }
    }
}
