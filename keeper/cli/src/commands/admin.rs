//! `aidx admin ...`: the operator's instructions, each simulated first; `--dry-run` prints what
//! would happen and sends nothing.

use super::chain::ChainArgs;
use crate::output;
use aidx::math::WEIGHT_SCALE;
use aidx::state::*;
use aidx_client::admin::{self, Action, AdminOutcome};
use aidx_client::{AidxEvent, Book, Chain};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use std::io::Write;

/// `aidx admin` options.
#[derive(Args)]
pub struct AdminArgs {
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
    action: AdminCommand,
}

/// Parameter changes; anything not given keeps its current value.
#[derive(Args, Debug, Default, Clone)]
pub struct ParamChanges {
    /// Per-constituent cap, percent (15-20).
    #[arg(long, env = "AIDX_MAX_WEIGHT_PCT")]
    pub max_weight_pct: Option<u64>,
    /// Relative rebalance band, percent (5-50).
    #[arg(long, env = "AIDX_BAND_PCT")]
    pub band_pct: Option<u64>,
    /// Unlock haircut, percent (25-50).
    #[arg(long, env = "AIDX_UNLOCK_HAIRCUT_PCT")]
    pub unlock_haircut_pct: Option<u64>,
    /// Pure-play share, percent (0 or 50-90).
    #[arg(long, env = "AIDX_PURE_PLAY_PCT")]
    pub pure_play_pct: Option<u64>,
    #[arg(long, env = "AIDX_MINT_FEE_BPS")]
    pub mint_fee_bps: Option<u16>,
    #[arg(long, env = "AIDX_REDEEM_FEE_BPS")]
    pub redeem_fee_bps: Option<u16>,
    #[arg(long, env = "AIDX_MANAGEMENT_FEE_BPS")]
    pub management_fee_bps: Option<u16>,
    #[arg(long, env = "AIDX_ORACLE_MAX_AGE_SECS")]
    pub oracle_max_age_secs: Option<u32>,
    #[arg(long, env = "AIDX_ORACLE_MAX_CONF_BPS")]
    pub oracle_max_conf_bps: Option<u16>,
    #[arg(long, env = "AIDX_AUCTION_DURATION_SECS")]
    pub auction_duration_secs: Option<u32>,
    #[arg(long, env = "AIDX_AUCTION_MAX_REWARD_BPS")]
    pub auction_max_reward_bps: Option<u16>,
    #[arg(long, env = "AIDX_REVIEW_PERIOD_SECS")]
    pub review_period_secs: Option<u32>,
    /// Largest age of the prices a single-asset mint / redeem or a swap is priced at.
    #[arg(long, env = "AIDX_TRADE_MAX_AGE_SECS")]
    pub trade_max_age_secs: Option<u16>,
    /// Rebalance window after new targets, seconds (0: any time; else from the auction's length
    /// to the review period).
    #[arg(long, env = "AIDX_REBALANCE_WINDOW_SECS")]
    pub rebalance_window_secs: Option<u32>,
    /// Outside the window, a row out of band above this weight may still be sold, bps (0: none).
    #[arg(long, env = "AIDX_BREACH_WEIGHT_BPS")]
    pub breach_weight_bps: Option<u16>,
    /// Where a swap stops an out-of-band leg.
    #[arg(long, value_enum, env = "AIDX_CLIP")]
    pub clip: Option<ClipAt>,
    /// At most this many members (0: every liquid row).
    #[arg(long, env = "AIDX_MAX_MEMBERS")]
    pub max_members: Option<u8>,
    /// Ranks of buffer around the member count.
    #[arg(long, env = "AIDX_RANK_BUFFER")]
    pub rank_buffer: Option<u8>,
    /// A member leaves at once under this average daily volume, whole USD.
    #[arg(long, env = "AIDX_EXIT_VOLUME_USD")]
    pub exit_volume_usd: Option<u32>,
    /// A member under the $5M entry floor at this many reviews in a row leaves (0: never).
    #[arg(long, env = "AIDX_REVIEWS_UNDER_ENTRY")]
    pub reviews_under_entry: Option<u8>,
}

/// Where a rebalance swap stops an out-of-band leg.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClipAt {
    /// At its target.
    Target,
    /// Just inside its band's edge, never above the cap.
    Edge,
}

impl ParamChanges {
    /// `current` with the changes applied (validated on-chain, and here first).
    pub fn apply(&self, current: IndexParams) -> Result<IndexParams> {
        let pct = |p: u64| -> Result<u64> {
            p.checked_mul(WEIGHT_SCALE / 100)
                .ok_or_else(|| anyhow!("{p}% is out of range"))
        };
        let mut p = current;
        if let Some(v) = self.max_weight_pct {
            p.max_weight = pct(v)?;
        }
        if let Some(v) = self.band_pct {
            p.band = pct(v)?;
        }
        if let Some(v) = self.unlock_haircut_pct {
            p.unlock_haircut = pct(v)?;
        }
        if let Some(v) = self.pure_play_pct {
            p.pure_play_share = pct(v)?;
        }
        p.mint_fee_bps = self.mint_fee_bps.unwrap_or(p.mint_fee_bps);
        p.redeem_fee_bps = self.redeem_fee_bps.unwrap_or(p.redeem_fee_bps);
        p.management_fee_bps = self.management_fee_bps.unwrap_or(p.management_fee_bps);
        p.oracle_max_age_secs = self.oracle_max_age_secs.unwrap_or(p.oracle_max_age_secs);
        p.oracle_max_conf_bps = self.oracle_max_conf_bps.unwrap_or(p.oracle_max_conf_bps);
        p.auction_duration_secs = self
            .auction_duration_secs
            .unwrap_or(p.auction_duration_secs);
        p.auction_max_reward_bps = self
            .auction_max_reward_bps
            .unwrap_or(p.auction_max_reward_bps);
        p.review_period_secs = self.review_period_secs.unwrap_or(p.review_period_secs);
        p.trade_max_age_secs = self.trade_max_age_secs.unwrap_or(p.trade_max_age_secs);
        p.rebalance_window_secs = self
            .rebalance_window_secs
            .unwrap_or(p.rebalance_window_secs);
        p.breach_weight_bps = self.breach_weight_bps.unwrap_or(p.breach_weight_bps);
        if let Some(c) = self.clip {
            p.clip = match c {
                ClipAt::Target => aidx::state::CLIP_TARGET,
                ClipAt::Edge => aidx::state::CLIP_EDGE,
            };
        }
        p.max_members = self.max_members.unwrap_or(p.max_members);
        p.rank_buffer = self.rank_buffer.unwrap_or(p.rank_buffer);
        p.exit_volume_usd = self.exit_volume_usd.unwrap_or(p.exit_volume_usd);
        p.reviews_under_entry = self.reviews_under_entry.unwrap_or(p.reviews_under_entry);
        p.validate().map_err(|e| anyhow!("{e}"))?;
        Ok(p)
    }
}

#[derive(Subcommand, Debug, Clone)]
pub enum AdminCommand {
    /// Change parameters (each bounded; the event shows old and new).
    SetParams(ParamChanges),
    /// A methodology review (run with --signer the methodology authority): post every row's
    /// facts from the universe with its rank as the membership rules rank it with the index's
    /// members, then recompute the targets (due, or opened with open-review). A dry run shows
    /// what would be posted and decided.
    Review {
        /// Universe CSV (defaults to the bundled sample universe).
        #[arg(long, env = "AIDX_UNIVERSE")]
        universe: Option<std::path::PathBuf>,
    },
    /// Set the methodology authority, guardian and fee recipient (wallet names or keys).
    SetRoles {
        #[arg(long, env = "AIDX_METHODOLOGY_AUTHORITY")]
        methodology_authority: Option<String>,
        #[arg(long, env = "AIDX_GUARDIAN")]
        guardian: Option<String>,
        #[arg(long, env = "AIDX_FEE_RECIPIENT")]
        fee_recipient: Option<String>,
    },
    /// Propose a new admin (wallet name or key); it must accept.
    ProposeAdmin {
        #[arg(long, env = "AIDX_NEW_ADMIN")]
        new_admin: String,
    },
    /// Accept the admin role (run with --signer set to the proposed wallet).
    AcceptAdmin,
    /// Set the pause flags: a comma list of mint-in-kind, mint-single, redeem-single,
    /// rebalance, targets; "all"; or "none". The guardian can only add flags.
    Pause {
        #[arg(long, env = "AIDX_FLAGS")]
        flags: String,
    },
    /// Open the index to its first mint, once its constituents are set (the seed composition
    /// is then final).
    Open,
    /// Open a methodology review (targets may be recomputed before the period ends).
    OpenReview,
    /// Wind a constituent down: target 0, sold through rebalancing.
    WindDown {
        #[arg(long, env = "AIDX_SYMBOL")]
        symbol: String,
    },
    /// Remove a wound-down constituent whose balance is 0.
    Remove {
        #[arg(long, env = "AIDX_SYMBOL")]
        symbol: String,
    },
    /// Quarantine a constituent that cannot move or cannot be priced: it leaves deposits,
    /// NAV-priced operations, the cap and band checks and the auction clock. Anyone may when
    /// its vault is frozen or its mint paused; the admin or guardian for any reason.
    Quarantine {
        #[arg(long, env = "AIDX_SYMBOL")]
        symbol: String,
    },
    /// Release a quarantined constituent: anyone once it moves again (the admin or guardian
    /// for one they quarantined).
    Release {
        #[arg(long, env = "AIDX_SYMBOL")]
        symbol: String,
    },
    /// Write off a constituent quarantined for 30 days: it leaves the table, its claim is
    /// recorded in the event and its tokens stay in the vault.
    WriteOff {
        #[arg(long, env = "AIDX_SYMBOL")]
        symbol: String,
    },
    /// Accrue the management fee now (anyone).
    AccrueFees,
    /// Move the collected fee shares to the fee recipient (run with --signer fee recipient).
    ClaimFees,
}

/// Parses pause flags.
pub fn parse_flags(s: &str) -> Result<u8> {
    let mut flags = 0u8;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        flags |= match part {
            "all" => PAUSE_ALL,
            "none" => 0,
            "mint-in-kind" => PAUSE_MINT_IN_KIND,
            "mint-single" => PAUSE_MINT_SINGLE,
            "redeem-single" => PAUSE_REDEEM_SINGLE,
            "rebalance" => PAUSE_REBALANCE,
            "targets" => PAUSE_TARGETS,
            other => bail!("unknown pause flag {other:?} (redeem in kind cannot be paused)"),
        };
    }
    Ok(flags)
}

impl AdminCommand {
    /// The client action this command asks for, names resolved through `book` and parameter
    /// changes applied to `current`.
    pub fn resolve(self, book: &Book, current: IndexParams) -> Result<Action> {
        let key = |v: Option<String>| v.map(|s| book.key_of(&s)).transpose();
        Ok(match self {
            AdminCommand::Review { .. } => bail!("a review is several transactions: see `run`"),
            AdminCommand::SetParams(changes) => Action::SetParams(changes.apply(current)?),
            AdminCommand::SetRoles {
                methodology_authority,
                guardian,
                fee_recipient,
            } => Action::SetRoles {
                methodology_authority: key(methodology_authority)?,
                guardian: key(guardian)?,
                fee_recipient: key(fee_recipient)?,
            },
            AdminCommand::ProposeAdmin { new_admin } => {
                Action::ProposeAdmin(book.key_of(&new_admin)?)
            }
            AdminCommand::AcceptAdmin => Action::AcceptAdmin,
            AdminCommand::Pause { flags } => Action::Pause(parse_flags(&flags)?),
            AdminCommand::Open => Action::Open,
            AdminCommand::OpenReview => Action::OpenReview,
            AdminCommand::WindDown { symbol } => Action::WindDown(book.row_of(&symbol)?),
            AdminCommand::Remove { symbol } => Action::Remove(book.row_of(&symbol)?),
            AdminCommand::Quarantine { symbol } => Action::Quarantine(book.row_of(&symbol)?),
            AdminCommand::Release { symbol } => Action::Release(book.row_of(&symbol)?),
            AdminCommand::WriteOff { symbol } => Action::WriteOff(book.row_of(&symbol)?),
            AdminCommand::AccrueFees => Action::AccrueFees,
            AdminCommand::ClaimFees => Action::ClaimFees,
        })
    }
}

/// Resolves `command` against the index's current state, simulates it and (unless `dry_run`)
/// sends it, signed by the book's wallet `signer`.
pub async fn run<C: Chain>(
    chain: &mut C,
    book: &Book,
    signer: &str,
    command: AdminCommand,
    dry_run: bool,
) -> Result<AdminOutcome> {
    if let AdminCommand::Review { universe } = &command {
        let (_, events) = review(chain, book, signer, universe.as_deref(), dry_run).await?;
        return Ok(AdminOutcome { dry_run, events });
    }
    let index = chain.load_index(&book.index_key()?).await?;
    let action = command.resolve(book, index.params)?;
    admin::execute(chain, book, signer, action, dry_run).await
}

/// `admin review`: the plan, and the events when not a dry run.
pub async fn review<C: Chain>(
    chain: &mut C,
    book: &Book,
    signer: &str,
    universe: Option<&std::path::Path>,
    dry_run: bool,
) -> Result<(aidx_client::review::ReviewPlan, Vec<AidxEvent>)> {
    let tokens = aidx_client::universe::parse(&super::read_universe(universe)?)?;
    aidx_client::review::run(chain, book, &tokens, signer, dry_run).await
}

impl AdminArgs {
    /// Resolves, simulates and (unless a dry run) sends the action.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        if let AdminCommand::Review { universe } = &self.action {
            let spinner = o.spinner("posting the review's inputs and recomputing", self.json);
            let r = review(
                &mut o.chain,
                &o.book,
                &self.signer,
                universe.as_deref(),
                self.dry_run,
            )
            .await;
            spinner.finish_and_clear();
            let (plan, events) = r?;
            if self.json {
                let events: Vec<serde_json::Value> = events
                    .iter()
                    .map(|e| serde_json::json!({ "event": e.name(), "detail": format!("{e:?}") }))
                    .collect();
                return output::json(out, &serde_json::json!({ "plan": plan, "events": events }));
            }
            output::review_plan(out, &plan, self.dry_run)?;
            return output::event_lines(out, &events, "");
        }
        let spinner = o.spinner("simulating, sending and confirming", self.json);
        let outcome = run(
            &mut o.chain,
            &o.book,
            &self.signer,
            self.action,
            self.dry_run,
        )
        .await;
        spinner.finish_and_clear();
        let outcome = outcome?;
        if !self.dry_run {
            // A row that left the table leaves the book's symbols too: later rows move up.
            for e in &outcome.events {
                let row = match e {
                    AidxEvent::ConstituentRemoved(x) => x.row,
                    AidxEvent::ConstituentWrittenOff(x) => x.row,
                    _ => continue,
                };
                if (row as usize) < o.book.symbols.len() {
                    o.book.symbols.remove(row as usize);
                }
            }
            o.save().await?;
        }
        if self.json {
            return output::events_json(out, &outcome.events);
        }
        if outcome.dry_run {
            writeln!(out, "dry run: would emit")?;
            output::event_lines(out, &outcome.events, "  ")
        } else {
            output::event_lines(out, &outcome.events, "")
        }
    }
}
