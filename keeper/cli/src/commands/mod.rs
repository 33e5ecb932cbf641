//! One module per command: its clap arguments and `execute`, which calls the client and hands
//! the result to [`crate::output`].

pub mod admin;
pub mod audit;
pub mod backtest;
pub mod chain;
#[cfg(feature = "embedded")]
pub mod demo;
#[cfg(feature = "embedded")]
pub mod export_accounts;
#[cfg(feature = "embedded")]
pub mod localnet;
pub mod mint;
pub mod nav;
#[cfg(feature = "embedded")]
pub mod oracle;
pub mod plan;
pub mod pyth;
pub mod rebalance;
pub mod redeem;
pub mod run;
pub mod targets;

use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::Write;
use std::path::Path;

/// Every command of `aidx`.
#[derive(Subcommand)]
pub enum Command {
    /// Run the whole life of an index on the embedded in-process runtime (or over JSON-RPC on a
    /// development node with `--url`): create the universe's mints, initialize and seed the
    /// index, mint and redeem in kind, publish oracle prices, move two prices, mint and redeem
    /// single-asset, print NAV and the basket.
    #[cfg(feature = "embedded")]
    Demo(demo::DemoArgs),
    /// Target weights of a universe by the index methodology: eligibility, circulating market
    /// cap, cap with pro-rata redistribution, unlock haircut, optional pure-play / host split.
    Targets(targets::TargetsArgs),
    /// Backtest the quarterly buffer rebalance against a full rebalance and the uncapped
    /// market-cap index on seeded, correlated simulated prices; writes an SVG chart.
    Backtest(backtest::BacktestArgs),
    /// NAV, value per share, prices and weights (refresh + report, simulated: nothing is sent).
    Nav(nav::NavArgs),
    /// Publish Pyth price updates on a development chain (a saved state, or a local node with
    /// `--url`; the stand-in for Pyth): every constituent's stored price, published now, with
    /// `--set SYMBOL=USD` overrides.
    #[cfg(feature = "embedded")]
    Oracle(oracle::OracleArgs),
    /// Which constituents are out of band, the swaps that bring them back, the reward now
    /// (prices refreshed in a simulation; nothing is sent).
    Plan(plan::PlanArgs),
    /// Refresh prices, record the imbalance, and execute the plan's swaps from a keeper
    /// wallet holding the underweight tokens (each simulated first).
    Rebalance(rebalance::RebalanceArgs),
    /// Operator instructions (admin, guardian, fee recipient), each simulated first.
    Admin(admin::AdminArgs),
    /// Recompute NAV, weights, targets, bands and caps from chain state alone and check the
    /// invariants; exits non-zero naming every violation.
    Audit(audit::AuditArgs),
    /// Write a saved embedded chain's accounts as JSON files a local validator loads
    /// (`solana-test-validator --account-dir DIR`); prints the index account and the
    /// constituent symbols (comma-separated).
    #[cfg(feature = "embedded")]
    ExportAccounts(export_accounts::ExportArgs),
    /// Serve the embedded chain as a Solana JSON-RPC node on 127.0.0.1 (a saved state, the
    /// demo run on it, or an empty chain): every `aidx` command and standard client works
    /// against it with `--url`.
    #[cfg(feature = "embedded")]
    Localnet(localnet::LocalnetArgs),
    /// The keeper loop: every interval, unless the kill switch file exists, refresh prices,
    /// record the imbalance, and execute the rebalance plan. Configuration: a JSON file
    /// (`interval_secs`, `kill_switch`, and optionally `keeper`, `max_slippage_bps`, `retries`,
    /// `max_rounds`). Logs with `AIDX_LOG` (default info).
    Run(run::RunArgs),
    /// Mint shares: in kind (`--shares`) or with one constituent (`--single SYMBOL --amount X`).
    Mint(mint::MintArgs),
    /// Redeem shares: in kind (optionally skipping constituents) or for one constituent.
    Redeem(redeem::RedeemArgs),
}

impl Command {
    /// Runs the command, writing what it shows to `out`.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        match self {
            #[cfg(feature = "embedded")]
            Command::Demo(a) => a.execute(out).await,
            Command::Targets(a) => a.execute(out),
            Command::Backtest(a) => a.execute(out),
            Command::Nav(a) => a.execute(out).await,
            #[cfg(feature = "embedded")]
            Command::Oracle(a) => a.execute(out).await,
            Command::Plan(a) => a.execute(out).await,
            Command::Rebalance(a) => a.execute(out).await,
            Command::Admin(a) => a.execute(out).await,
            Command::Audit(a) => a.execute(out).await,
            #[cfg(feature = "embedded")]
            Command::ExportAccounts(a) => a.execute(out),
            #[cfg(feature = "embedded")]
            Command::Localnet(a) => a.execute(out).await,
            Command::Run(a) => a.execute(out).await,
            Command::Mint(a) => a.execute(out).await,
            Command::Redeem(a) => a.execute(out).await,
        }
    }
}

/// The universe file's text, or the bundled sample.
pub fn read_universe(path: Option<&Path>) -> Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())),
        None => Ok(aidx_client::universe::SAMPLE_UNIVERSE.to_string()),
    }
}

/// Sends a holder's request (`mint`, `redeem`), saves an embedded chain unless it was a dry
/// run, and shows the events.
#[allow(clippy::too_many_arguments)]
async fn holder_request(
    chain: &chain::ChainArgs,
    pyth: &pyth::PythArgs,
    holder: &str,
    request: aidx_client::holder::Request,
    max_slippage_bps: u16,
    dry_run: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let mut o = chain.open().await?;
    // A single-asset trade values every row at a price within the trade age: fresh ones
    // first, from Hermes, when it is given.
    let single = matches!(
        request,
        aidx_client::holder::Request::MintSingle { .. }
            | aidx_client::holder::Request::RedeemSingle { .. }
    );
    if let (true, Some(poster)) = (single, pyth.poster(chain.compute_unit_price)?) {
        use aidx_client::Chain as _;
        let index = o.chain.load_index(&o.book.index_key()?).await?;
        let posted = poster.post_for_index(&mut o.chain, &index, dry_run).await?;
        if !json {
            pyth::show(&posted, dry_run, out)?;
        }
    }
    let spinner = o.spinner("simulating, sending and confirming", json);
    let executed = aidx_client::holder::execute_with(
        &mut o.chain,
        &o.book,
        holder,
        request,
        max_slippage_bps,
        dry_run,
    )
    .await;
    spinner.finish_and_clear();
    let executed = executed?;
    if !dry_run {
        o.save().await?;
    }
    if json {
        crate::output::holder_json(out, &executed)
    } else {
        writeln!(
            out,
            "{} {}",
            if dry_run { "simulated" } else { "sent" },
            executed.describe()
        )?;
        crate::output::holder_events(&executed.events, out)
    }
}
