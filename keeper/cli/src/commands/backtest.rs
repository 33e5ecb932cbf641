//! `aidx backtest`.

use crate::backtest::{print, run, write_chart, Config};
use aidx_client::universe;
use anyhow::{bail, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// `aidx backtest` options.
#[derive(Args, Clone, Debug)]
pub struct BacktestArgs {
    /// Universe CSV (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE")]
    pub universe: Option<PathBuf>,
    /// Years simulated (whole years of 365 days, 1-50).
    #[arg(long, default_value_t = 5, env = "AIDX_YEARS")]
    pub years: u32,
    /// Seed of the simulated prices.
    #[arg(long, default_value_t = 42, env = "AIDX_SEED")]
    pub seed: u64,
    /// Trading cost per unit of value traded, basis points (0-1000).
    #[arg(
        long,
        default_value_t = 30.0,
        allow_negative_numbers = true,
        env = "AIDX_COST_BPS"
    )]
    pub cost_bps: f64,
    /// Buffer band, percent of target (relative), below 100.
    #[arg(
        long,
        default_value_t = 20.0,
        allow_negative_numbers = true,
        env = "AIDX_BAND_PCT"
    )]
    pub band_pct: f64,
    /// SVG chart of the NAV paths.
    #[arg(long, default_value = "backtest.svg", env = "AIDX_CHART")]
    pub chart: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, env = "AIDX_JSON")]
    pub json: bool,
}

impl BacktestArgs {
    /// Runs the backtest, writes the chart and shows the report.
    pub fn execute(self, out: &mut impl Write) -> Result<()> {
        let args = self;
        let started = Instant::now();
        let tokens = universe::parse(&super::read_universe(args.universe.as_deref())?)?;
        if !args.band_pct.is_finite() || !(0.0..100.0).contains(&args.band_pct) {
            bail!(
                "--band-pct must be at least 0 and below 100, got {}",
                args.band_pct
            );
        }
        let cfg = Config {
            years: args.years,
            seed: args.seed,
            cost_bps: args.cost_bps,
            band: args.band_pct / 100.0,
            ..Config::default()
        };
        let report = run(&tokens, &cfg)?;
        write_chart(&report, &args.chart)?;
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            print(&report, out)?;
            writeln!(
                out,
                "\nchart: {} (ran in {} ms)",
                args.chart.display(),
                started.elapsed().as_millis()
            )?;
        }
        Ok(())
    }
}
