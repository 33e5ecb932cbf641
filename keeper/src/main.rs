//! `aidx`: the keeper, holder and auditor command line of the aidx index.

use aidx_keeper::chain::Chain;
use aidx_keeper::holder::{self, Request};
use aidx_keeper::{rebalance, state, targets};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "aidx",
    version,
    about = "aidx: an on-chain AI-sector index on Solana"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the chain is: a saved embedded runtime (`--state`), or a cluster (`--url`, with
/// defaults from the Solana CLI config file when neither is given).
#[derive(Args)]
struct ChainArgs {
    /// Saved embedded chain (written by `aidx demo --save-state FILE`); updated in place by
    /// commands that send transactions.
    #[arg(long, env = "AIDX_STATE", conflicts_with = "url")]
    state: Option<PathBuf>,
    /// JSON-RPC URL of a cluster.
    #[arg(long, env = "AIDX_URL")]
    url: Option<String>,
    /// Keypair file that pays and signs on a cluster (every wallet name resolves to it).
    #[arg(long, env = "AIDX_KEYPAIR")]
    keypair: Option<PathBuf>,
    /// Commitment on a cluster: processed, confirmed or finalized.
    #[arg(long, env = "AIDX_COMMITMENT")]
    commitment: Option<String>,
    /// The index account on a cluster.
    #[arg(long, env = "AIDX_INDEX")]
    index: Option<String>,
    /// Constituent symbols on a cluster, table order (comma-separated), for readable output.
    #[arg(long, env = "AIDX_SYMBOLS", value_delimiter = ',')]
    symbols: Vec<String>,
    /// Priority fee on a cluster, micro-lamports per compute unit.
    #[arg(long, env = "AIDX_CU_PRICE", default_value_t = 0)]
    compute_unit_price: u64,
}

/// An open chain.
enum Backend {
    Embedded(Box<aidx_keeper::embedded::Embedded>, state::Book, PathBuf),
    Rpc(Box<aidx_keeper::rpc::Rpc>, state::Book),
}

async fn open(args: &ChainArgs) -> Result<Backend> {
    if let Some(path) = &args.state {
        let (c, book) = state::load(path).await?;
        return Ok(Backend::Embedded(Box::new(c), book, path.clone()));
    }
    let (cfg_url, cfg_keypair, cfg_commitment) = aidx_keeper::rpc::solana_cli_defaults();
    let url =
        args.url.clone().or(cfg_url).ok_or_else(|| {
            anyhow::anyhow!("give --state FILE (embedded) or --url URL (cluster)")
        })?;
    let keypair_path = args
        .keypair
        .clone()
        .or(cfg_keypair.map(PathBuf::from))
        .ok_or_else(|| anyhow::anyhow!("give --keypair FILE"))?;
    let keypair = aidx_keeper::rpc::read_keypair(&keypair_path)?;
    let index = args
        .index
        .clone()
        .ok_or_else(|| anyhow::anyhow!("give --index PUBKEY"))?;
    let book = state::Book {
        index,
        symbols: args.symbols.clone(),
        fallback_wallet: Some(keypair.to_bytes().to_vec()),
        ..Default::default()
    };
    let commitment = args
        .commitment
        .clone()
        .or(cfg_commitment)
        .unwrap_or_else(|| "confirmed".into());
    let mut rpc = aidx_keeper::rpc::Rpc::new(&url, keypair, &commitment)?;
    rpc.compute_unit_price = args.compute_unit_price;
    Ok(Backend::Rpc(Box::new(rpc), book))
}

/// Runs `$body` with `$c` bound to the open chain and `$book` to its book; saves an embedded
/// chain afterwards when `$save` is true.
macro_rules! with_chain {
    ($backend:expr, $save:expr, |$c:ident, $book:ident| $body:expr) => {
        match $backend {
            Backend::Embedded(mut chain, book, path) => {
                let $c = &mut *chain;
                let $book = &book;
                let r = $body;
                if $save {
                    state::save($c, $book, &path).await?;
                }
                r
            }
            Backend::Rpc(mut rpc, book) => {
                let $c = &mut *rpc;
                let $book = &book;
                $body
            }
        }
    };
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole life of an index on the embedded in-process runtime: create the
    /// universe's mints, initialize and seed the index, mint and redeem in kind, publish
    /// oracle prices, move two prices, mint and redeem single-asset, print NAV and the basket.
    Demo {
        /// Universe CSV (defaults to the bundled sample universe).
        #[arg(long, env = "AIDX_UNIVERSE")]
        universe: Option<PathBuf>,
        /// Save the final chain state here for the holder commands.
        #[arg(long, env = "AIDX_SAVE_STATE")]
        save_state: Option<PathBuf>,
    },
    /// Target weights of a universe by the index methodology: eligibility, circulating market
    /// cap, cap with pro-rata redistribution, unlock haircut, optional pure-play / host split.
    Targets {
        /// Universe CSV (defaults to the bundled sample universe).
        #[arg(long, env = "AIDX_UNIVERSE")]
        universe: Option<PathBuf>,
        /// Per-constituent cap, percent (15-20).
        #[arg(long, default_value_t = 15, env = "AIDX_MAX_WEIGHT_PCT")]
        max_weight_pct: u64,
        /// Unlock haircut, percent (25-50).
        #[arg(long, default_value_t = 25, env = "AIDX_UNLOCK_HAIRCUT_PCT")]
        unlock_haircut_pct: u64,
        /// Pure-play share when splitting pure plays and host chains, percent (50-90); 0: no split.
        #[arg(long, default_value_t = 0, env = "AIDX_PURE_PLAY_PCT")]
        pure_play_pct: u64,
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Backtest the quarterly buffer rebalance against a full rebalance and the uncapped
    /// market-cap index on seeded, correlated simulated prices; writes an SVG chart.
    Backtest(aidx_keeper::backtest::BacktestArgs),
    /// NAV, value per share, prices and weights (refresh + report, simulated: nothing is sent).
    Nav {
        #[command(flatten)]
        chain: ChainArgs,
        /// Use the prices the index stores instead of refreshing them in a simulation.
        #[arg(long, env = "AIDX_STORED_PRICES")]
        stored_prices: bool,
        /// Print JSON instead of a table.
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Publish Pyth price updates on the embedded chain (its stand-in for Pyth): every
    /// constituent's stored price, published now, with `--set SYMBOL=USD` overrides.
    Oracle {
        #[command(flatten)]
        chain: ChainArgs,
        /// SYMBOL=USD, e.g. TAO=512.5 (repeatable).
        #[arg(long = "set", value_parser = parse_pair, env = "AIDX_SET", value_delimiter = ',')]
        set: Vec<(String, String)>,
        /// Confidence interval, basis points of the price.
        #[arg(long, default_value_t = 10, env = "AIDX_CONF_BPS")]
        conf_bps: u64,
    },
    /// Which constituents are out of band, the swaps that bring them back, the reward now
    /// (prices refreshed in a simulation; nothing is sent).
    Plan {
        #[command(flatten)]
        chain: ChainArgs,
        /// Use the prices the index stores instead of refreshing them in a simulation.
        #[arg(long, env = "AIDX_STORED_PRICES")]
        stored_prices: bool,
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Refresh prices, record the imbalance, and execute the plan's swaps from a keeper
    /// wallet holding the underweight tokens (each simulated first).
    Rebalance {
        #[command(flatten)]
        chain: ChainArgs,
        /// Wallet name in the state that pays in and receives.
        #[arg(long, default_value = "keeper", env = "AIDX_KEEPER")]
        keeper: String,
        #[arg(long, default_value_t = 50, env = "AIDX_MAX_SLIPPAGE_BPS")]
        max_slippage_bps: u16,
        /// Re-planning rounds after the first.
        #[arg(long, default_value_t = 2, env = "AIDX_RETRIES")]
        retries: usize,
        /// Simulate and print; send nothing.
        #[arg(long, env = "AIDX_DRY_RUN")]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Operator instructions (admin, guardian, fee recipient), each simulated first.
    Admin {
        #[command(flatten)]
        chain: ChainArgs,
        /// Wallet name in the state that signs.
        #[arg(long, default_value = "admin", env = "AIDX_SIGNER")]
        signer: String,
        /// Simulate and print the events; send nothing.
        #[arg(long, env = "AIDX_DRY_RUN")]
        dry_run: bool,
        /// Print the events as JSON.
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
        #[command(subcommand)]
        action: aidx_keeper::admin::AdminAction,
    },
    /// Recompute NAV, weights, targets, bands and caps from chain state alone and check the
    /// invariants; exits non-zero naming every violation.
    Audit {
        #[command(flatten)]
        chain: ChainArgs,
        /// Also replay the index's history from its events and compare with the state.
        #[arg(long, env = "AIDX_EVENTS")]
        events: bool,
        /// Write a chart of weight, target and band per constituent (SVG).
        #[arg(long, env = "AIDX_CHART")]
        chart: Option<PathBuf>,
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Write a saved embedded chain's accounts as JSON files a local validator loads
    /// (`solana-test-validator --account-dir DIR`); prints the index account and the
    /// constituent symbols (comma-separated).
    ExportAccounts {
        #[arg(long, env = "AIDX_STATE")]
        state: PathBuf,
        #[arg(long, env = "AIDX_DIR")]
        dir: PathBuf,
        /// Also write a fresh keypair here (Solana CLI JSON format), e.g. a fee payer.
        #[arg(long, env = "AIDX_NEW_KEYPAIR")]
        new_keypair: Option<PathBuf>,
    },
    /// The keeper loop: every interval, unless the kill switch file exists, refresh prices,
    /// record the imbalance, and execute the rebalance plan. Configuration: a JSON file
    /// (`interval_secs`, `kill_switch`, and optionally `keeper`, `max_slippage_bps`, `retries`,
    /// `max_rounds`). Logs with `RUST_LOG` (default info).
    Run {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long, env = "AIDX_RUN_CONFIG")]
        config: PathBuf,
    },
    /// Mint shares: in kind (`--shares`) or with one constituent (`--single SYMBOL --amount X`).
    Mint {
        #[command(flatten)]
        chain: ChainArgs,
        /// Wallet name in the state (e.g. alice).
        #[arg(long, env = "AIDX_HOLDER")]
        holder: String,
        /// Whole shares to mint in kind.
        #[arg(long, env = "AIDX_SHARES", conflicts_with_all = ["single", "amount"])]
        shares: Option<String>,
        /// Constituent to deposit.
        #[arg(long, requires = "amount", env = "AIDX_SINGLE")]
        single: Option<String>,
        /// Amount of the constituent to deposit, in whole tokens.
        #[arg(long, env = "AIDX_AMOUNT")]
        amount: Option<String>,
        /// Largest acceptable slippage against the quote, basis points.
        #[arg(long, default_value_t = 50, env = "AIDX_MAX_SLIPPAGE_BPS")]
        max_slippage_bps: u16,
        /// Simulate the transaction and print what it would do; send nothing.
        #[arg(long, env = "AIDX_DRY_RUN")]
        dry_run: bool,
        /// Print the events as JSON.
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
    /// Redeem shares: in kind (optionally skipping constituents) or for one constituent.
    Redeem {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long, env = "AIDX_HOLDER")]
        holder: String,
        /// Whole shares to redeem.
        #[arg(long, env = "AIDX_SHARES")]
        shares: String,
        /// Constituent to receive (single-asset redeem).
        #[arg(long, conflicts_with = "skip", env = "AIDX_SINGLE")]
        single: Option<String>,
        /// Constituents to skip in an in-kind redeem (paused or frozen legs; repeatable).
        #[arg(long, env = "AIDX_SKIP", value_delimiter = ',')]
        skip: Vec<String>,
        #[arg(long, default_value_t = 50, env = "AIDX_MAX_SLIPPAGE_BPS")]
        max_slippage_bps: u16,
        /// Simulate the transaction and print what it would do; send nothing.
        #[arg(long, env = "AIDX_DRY_RUN")]
        dry_run: bool,
        /// Print the events as JSON.
        #[arg(long, env = "AIDX_JSON")]
        json: bool,
    },
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .ok_or_else(|| format!("expected SYMBOL=USD, got {s:?}"))
}

/// Events as JSON (`[{"event": name, "detail": ...}]`), or the human text already rendered.
fn print_events(events: &[aidx_keeper::client::AidxEvent], json: bool, text: &[u8]) -> Result<()> {
    if json {
        let v: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::json!({ "event": e.name(), "detail": format!("{e:?}") }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", String::from_utf8_lossy(text));
    }
    Ok(())
}

fn read_universe(path: Option<PathBuf>) -> Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display())),
        None => Ok(aidx_keeper::universe::SAMPLE_UNIVERSE.to_string()),
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AIDX_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("aidx=info,aidx_keeper=info,error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    // The embedded runtime captures events per thread: run everything on one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli.command))
}

async fn run(command: Command) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Demo {
            universe,
            save_state,
        } => {
            let csv = match universe {
                Some(p) => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => aidx_keeper::universe::SAMPLE_UNIVERSE.to_string(),
            };
            aidx_keeper::demo::run(&csv, &mut stdout, save_state.as_deref()).await?;
        }
        Command::Targets {
            universe,
            max_weight_pct,
            unlock_haircut_pct,
            pure_play_pct,
            json,
        } => {
            let csv = read_universe(universe)?;
            let tokens = aidx_keeper::universe::parse(&csv)?;
            let pct = aidx::math::WEIGHT_SCALE / 100;
            let params = aidx::state::IndexParams {
                max_weight: max_weight_pct * pct,
                unlock_haircut: unlock_haircut_pct * pct,
                pure_play_share: pure_play_pct * pct,
                ..Default::default()
            };
            params.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
            let report = targets::report(&tokens, &targets::methodology_params(&params))?;
            if json {
                serde_json::to_writer_pretty(&mut stdout, &report)?;
                println!();
            } else {
                targets::print(&report, &mut stdout)?;
            }
        }
        Command::Backtest(args) => aidx_keeper::backtest::cli(&args, &mut stdout)?,
        Command::Plan {
            chain,
            json,
            stored_prices,
        } => {
            with_chain!(open(&chain).await?, false, |c, book| {
                let plan = rebalance::plan_at(c, book, stored_prices).await?;
                let index = c.load_index(&book.index_key()?).await?;
                if json {
                    serde_json::to_writer_pretty(&mut stdout, &plan)?;
                    println!();
                } else {
                    rebalance::print_plan(&plan, &index, &mut stdout)?;
                }
            })
        }
        Command::Rebalance {
            chain,
            keeper,
            max_slippage_bps,
            retries,
            dry_run,
            json,
        } => {
            with_chain!(open(&chain).await?, !dry_run, |c, book| {
                let wallet = book.wallet(&keeper)?;
                let report = rebalance::rebalance(
                    c,
                    book,
                    &wallet,
                    max_slippage_bps,
                    retries,
                    dry_run,
                    &mut stdout,
                )
                .await?;
                if json {
                    serde_json::to_writer_pretty(&mut stdout, &report)?;
                    println!();
                } else {
                    for line in &report.events {
                        println!("{line}");
                    }
                    println!(
                        "{} swaps done, {} failed, reward paid {}",
                        report.swaps_done,
                        report.swaps_failed,
                        rebalance::usd(report.reward_paid_usd)
                    );
                }
            })
        }
        Command::Admin {
            chain,
            signer,
            dry_run,
            json,
            action,
        } => {
            with_chain!(open(&chain).await?, !dry_run, |c, book| {
                let mut text = Vec::new();
                let events =
                    aidx_keeper::admin::run(c, book, &signer, action, dry_run, &mut text).await?;
                print_events(&events, json, &text)?;
            })
        }
        Command::Audit {
            chain,
            events,
            chart,
            json,
        } => {
            let report = with_chain!(open(&chain).await?, false, |c, book| {
                aidx_keeper::audit::audit(c, book, events).await?
            });
            if json {
                serde_json::to_writer_pretty(&mut stdout, &report)?;
                println!();
            } else {
                aidx_keeper::audit::print(&report, &mut stdout)?;
            }
            if let Some(path) = chart {
                std::fs::write(&path, aidx_keeper::audit::chart(&report))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if !report.violations.is_empty() {
                bail!("{} invariant violations", report.violations.len());
            }
        }
        Command::Run { chain, config } => {
            let config = aidx_keeper::run::RunConfig::load(&config)?;
            let summary = match open(&chain).await? {
                Backend::Embedded(mut c, book, path) => {
                    let save_to = path.clone();
                    let book2 = book.clone();
                    let s = aidx_keeper::run::run(&mut *c, &book, &config, |_| Ok(())).await?;
                    state::save(&mut c, &book2, &save_to).await?;
                    s
                }
                Backend::Rpc(mut r, book) => {
                    aidx_keeper::run::run(&mut *r, &book, &config, |_| Ok(())).await?
                }
            };
            println!(
                "{} rounds, {} swaps, {} failed, reward paid {}{}",
                summary.rounds,
                summary.swaps,
                summary.failed,
                rebalance::usd(summary.reward_paid_usd),
                if summary.stopped_by_kill_switch {
                    " (kill switch)"
                } else {
                    ""
                }
            );
        }
        Command::ExportAccounts {
            state: path,
            dir,
            new_keypair,
        } => {
            if let Some(out) = new_keypair {
                let k = solana_sdk::signature::Keypair::new();
                std::fs::write(&out, serde_json::to_string(&k.to_bytes().to_vec())?)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            let n = state::export_validator_accounts(&path, &dir)?;
            let (_, book) = state::read(&path)?;
            eprintln!("{n} accounts written to {}", dir.display());
            println!("{} {}", book.index, book.symbols.join(","));
        }
        Command::Nav {
            chain,
            json,
            stored_prices,
        } => {
            let view = with_chain!(open(&chain).await?, false, |c, book| holder::nav(
                c,
                book,
                stored_prices
            )
            .await?);
            if json {
                serde_json::to_writer_pretty(&mut stdout, &view)?;
                println!();
            } else {
                holder::print_nav(&view, &mut stdout)?;
            }
        }
        Command::Oracle {
            chain,
            set,
            conf_bps,
        } => {
            let Some(path) = &chain.state else {
                bail!("aidx oracle publishes prices on the embedded chain only (--state FILE)");
            };
            let (mut c, book) = state::load(path).await?;
            holder::post_prices(&mut c, &book, &set, conf_bps).await?;
            state::save(&mut c, &book, path).await?;
            println!("prices published for {} constituents", book.symbols.len());
        }
        Command::Mint {
            chain,
            holder: who,
            shares,
            single,
            amount,
            max_slippage_bps,
            dry_run,
            json,
        } => {
            let request = match (shares, single, amount) {
                (Some(s), None, None) => Request::MintInKind {
                    shares: holder::parse_shares(&s)?,
                },
                (None, Some(symbol), Some(amount)) => Request::MintSingle { symbol, amount },
                _ => bail!("give --shares N (in kind) or --single SYMBOL --amount X"),
            };
            with_chain!(open(&chain).await?, !dry_run, |c, book| {
                let events =
                    holder::execute_with(c, book, &who, request, max_slippage_bps, dry_run).await?;
                let mut text = Vec::new();
                holder::describe(&events, &mut text)?;
                print_events(&events, json, &text)?;
            })
        }
        Command::Redeem {
            chain,
            holder: who,
            shares,
            single,
            skip,
            max_slippage_bps,
            dry_run,
            json,
        } => {
            let shares = holder::parse_shares(&shares)?;
            let request = match single {
                Some(symbol) => Request::RedeemSingle { symbol, shares },
                None => Request::RedeemInKind { shares, skip },
            };
            with_chain!(open(&chain).await?, !dry_run, |c, book| {
                let events =
                    holder::execute_with(c, book, &who, request, max_slippage_bps, dry_run).await?;
                let mut text = Vec::new();
                holder::describe(&events, &mut text)?;
                print_events(&events, json, &text)?;
            })
        }
    }
    Ok(())
}
