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
    /// Compare the rebalance policies (when trades may happen, where they clip) over
    /// `--seeds` paths instead of one path's report.
    #[arg(long, env = "AIDX_POLICIES")]
    pub policies: bool,
    /// Paths for `--policies`, seeds `--seed` onward.
    #[arg(long, default_value_t = 200, env = "AIDX_SEEDS")]
    pub seeds: u64,
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
        if args.policies {
            let bar = indicatif::ProgressBar::new(args.seeds);
            if args.json {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} paths, {eta} left",
                )
                .expect("a template")
                .progress_chars("=> "),
            );
            bar.set_message("simulating");
            let study = crate::backtest::policies::study(&tokens, &cfg, args.seeds, |done, _| {
                bar.set_position(done)
            })?;
            bar.finish_and_clear();
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &study)?;
                writeln!(out)?;
            } else {
                crate::backtest::policies::print(&study, out)?;
                writeln!(out, "\n(ran in {} s)", started.elapsed().as_secs())?;
            }
            return Ok(());
        }
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
