//! The operator's instructions (admin, guardian, fee recipient): one [`Action`] each, simulated
//! first; a dry run returns what would be emitted and sends nothing.

use crate::book::Book;
use crate::chain::Chain;
use crate::events::AidxEvent;
use crate::{address, instructions as ix};
use aidx::instructions::SetRolesArgs;
use aidx::state::IndexParams;
use anyhow::Result;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signer::Signer};

/// One operator instruction, with everything resolved to keys, rows and values.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `set_params` with these parameters (validated on-chain).
    SetParams(IndexParams),
    /// `set_roles`; a role not given keeps its holder.
    SetRoles {
        /// New methodology authority.
        methodology_authority: Option<Pubkey>,
        /// New guardian.
        guardian: Option<Pubkey>,
        /// New fee recipient.
        fee_recipient: Option<Pubkey>,
    },
    /// `propose_admin`.
    ProposeAdmin(Pubkey),
    /// `accept_admin` (the signer is the proposed admin).
    AcceptAdmin,
    /// `set_pause` with these flags.
    Pause(u8),
    /// `open_index`: the first mint may then seed the index.
    Open,
    /// `open_review`.
    OpenReview,
    /// `wind_down_constituent` of this row.
    WindDown(usize),
    /// `remove_constituent` of this row (creates the admin's token account for the sweep).
    Remove(usize),
    /// `quarantine_constituent` of this row: anyone when its vault is frozen or its mint
    /// paused, the admin or guardian for any reason (a dead or deprecated feed).
    Quarantine(usize),
    /// `release_constituent` of this row: anyone once a frozen vault is thawed or a paused
    /// mint unpaused, the admin or guardian for any quarantine.
    Release(usize),
    /// `write_off_constituent` of this row, quarantined for 30 days (admin).
    WriteOff(usize),
    /// `accrue_fees`.
    AccrueFees,
    /// `claim_fees` (creates the recipient's share account).
    ClaimFees,
}

/// What an operator instruction did, or (dry run) would do.
#[derive(Debug)]
pub struct AdminOutcome {
    /// Whether it was only simulated.
    pub dry_run: bool,
    /// Its events.
    pub events: Vec<AidxEvent>,
}

/// Builds the action's instruction, simulates it, and (unless `dry_run`) sends it, signed by
/// the book's wallet `signer_name`.
pub async fn execute<C: Chain>(
    chain: &mut C,
    book: &Book,
    signer_name: &str,
    action: Action,
    dry_run: bool,
) -> Result<AdminOutcome> {
    let signer = book.wallet(signer_name)?;
    let me = signer.pubkey();
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let row = |r: usize| {
        index
            .constituents()
            .get(r)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the index has no row {r}"))
    };
    let ix: Instruction = match action {
        Action::SetParams(params) => {
            params.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
            ix::set_params(&index_key, &index, &me, params)
        }
        Action::SetRoles {
            methodology_authority,
            guardian,
            fee_recipient,
        } => {
            let args = SetRolesArgs {
                methodology_authority: methodology_authority.unwrap_or(index.methodology_authority),
                guardian: guardian.unwrap_or(index.guardian),
                fee_recipient: fee_recipient.unwrap_or(index.fee_recipient),
            };
            ix::set_roles(&index_key, &me, args)
        }
        Action::ProposeAdmin(new_admin) => ix::propose_admin(&index_key, &me, new_admin),
        Action::AcceptAdmin => ix::accept_admin(&index_key, &me),
        Action::Pause(flags) => ix::set_pause(&index_key, &me, flags),
        Action::Open => ix::open_index(&index_key, &me),
        Action::OpenReview => ix::open_review(&index_key, &me),
        Action::WindDown(r) => ix::wind_down_constituent(&index_key, &me, row(r)?.mint),
        Action::Remove(r) => {
            let c = row(r)?;
            chain.ensure_ata(&me, &c.mint, &c.token_program).await?;
            ix::remove_constituent(&index_key, &index, &me, r)
        }
        Action::Quarantine(r) => {
            row(r)?;
            ix::quarantine_constituent(&index_key, &index, &me, r)
        }
        Action::Release(r) => {
            row(r)?;
            ix::release_constituent(&index_key, &index, &me, r)
        }
        Action::WriteOff(r) => {
            row(r)?;
            ix::write_off_constituent(&index_key, &index, &me, r)
        }
        Action::AccrueFees => ix::accrue_fees(&index_key, &index),
        Action::ClaimFees => {
            chain
                .ensure_ata(&me, &index.share_mint, &address::TOKEN_PROGRAM_ID)
                .await?;
            ix::claim_fees(&index_key, &index)
        }
    };
    let sim = chain
        .simulate_ixs(std::slice::from_ref(&ix), &[&signer])
        .await?
        .map_err(|f| anyhow::anyhow!("simulation failed: {f}"))?;
    if dry_run {
        return Ok(AdminOutcome {
            dry_run,
            events: sim.events,
        });
    }
    let o = chain.send_ixs(&[ix], &[&signer]).await??;
    Ok(AdminOutcome {
        dry_run,
        events: o.events,
    })
}
