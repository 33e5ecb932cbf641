//! `aidx admin ...`: the operator's instructions, each simulated first; `--dry-run` prints what
//! would happen and sends nothing.

use crate::chain::Chain;
use crate::client::{self, AidxEvent};
use crate::state::Book;
use aidx::instructions::SetRolesArgs;
use aidx::math::WEIGHT_SCALE;
use aidx::state::*;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signer::Signer};
use std::io::Write;
use std::str::FromStr;

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
        p.validate().map_err(|e| anyhow!("{e}"))?;
        Ok(p)
    }
}

#[derive(Subcommand, Debug, Clone)]
pub enum AdminAction {
    /// Change parameters (each bounded; the event shows old and new).
    SetParams(ParamChanges),
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

fn key_of(book: &Book, name_or_key: &str) -> Result<Pubkey> {
    if let Ok(k) = Pubkey::from_str(name_or_key) {
        return Ok(k);
    }
    Ok(book.wallet(name_or_key)?.pubkey())
}

/// Builds the action's instruction, simulates it, and (unless `dry_run`) sends it.
pub async fn run<C: Chain>(
    chain: &mut C,
    book: &Book,
    signer_name: &str,
    action: AdminAction,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<Vec<AidxEvent>> {
    let signer = book.wallet(signer_name)?;
    let me = signer.pubkey();
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let ix: Instruction = match action {
        AdminAction::SetParams(changes) => {
            client::set_params(&index_key, &index, &me, changes.apply(index.params)?)
        }
        AdminAction::SetRoles {
            methodology_authority,
            guardian,
            fee_recipient,
        } => {
            let pick = |v: Option<String>, cur: Pubkey| -> Result<Pubkey> {
                v.map(|s| key_of(book, &s))
                    .transpose()
                    .map(|k| k.unwrap_or(cur))
            };
            let args = SetRolesArgs {
                methodology_authority: pick(methodology_authority, index.methodology_authority)?,
                guardian: pick(guardian, index.guardian)?,
                fee_recipient: pick(fee_recipient, index.fee_recipient)?,
            };
            client::set_roles(&index_key, &me, args)
        }
        AdminAction::ProposeAdmin { new_admin } => {
            client::propose_admin(&index_key, &me, key_of(book, &new_admin)?)
        }
        AdminAction::AcceptAdmin => client::accept_admin(&index_key, &me),
        AdminAction::Pause { flags } => client::set_pause(&index_key, &me, parse_flags(&flags)?),
        AdminAction::OpenReview => client::open_review(&index_key, &me),
        AdminAction::WindDown { symbol } => {
            let row = book.row_of(&symbol)?;
            client::wind_down_constituent(&index_key, &me, index.constituents()[row].mint)
        }
        AdminAction::Remove { symbol } => {
            let row = book.row_of(&symbol)?;
            let c = index.constituents()[row];
            chain.ensure_ata(&me, &c.mint, &c.token_program).await?;
            client::remove_constituent(&index_key, &index, &me, row)
        }
        AdminAction::AccrueFees => client::accrue_fees(&index_key, &index),
        AdminAction::ClaimFees => {
            chain
                .ensure_ata(&me, &index.share_mint, &client::TOKEN_PROGRAM_ID)
                .await?;
            client::claim_fees(&index_key, &index)
        }
    };
    let sim = chain
        .simulate_ixs(std::slice::from_ref(&ix), &[&signer])
        .await?
        .map_err(|f| anyhow!("simulation failed: {f}\n{}", f.logs.join("\n")))?;
    if dry_run {
        writeln!(out, "dry run: would emit")?;
        for e in &sim.events {
            writeln!(out, "  {e:?}")?;
        }
        return Ok(sim.events);
    }
    let o = chain
        .send_ixs(&[ix], &[&signer])
        .await?
        .map_err(|f| anyhow!("{f}\n{}", f.logs.join("\n")))?;
    for e in &o.events {
        writeln!(out, "{e:?}")?;
    }
    Ok(o.events)
}
