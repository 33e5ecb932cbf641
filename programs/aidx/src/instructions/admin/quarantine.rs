//! Quarantine: a constituent that cannot move (frozen vault, paused mint) or cannot be priced
//! (dead or deprecated feed) is set aside so that it cannot stop the index.
//!
//! **Who.** Anyone may quarantine a row whose vault is frozen or whose mint is paused: the
//! accounts passed are the proof, read here. The admin or guardian may quarantine any row,
//! for any reason (a dead feed cannot be shown on-chain). A quarantine shown on-chain is
//! released by anyone once the vault is thawed and the mint unpaused; one set by the admin or
//! guardian only by them. Nobody releases a row that still cannot move.
//!
//! **What it does.** The row leaves every operation that would need it to move or be priced:
//! - Redeem in kind skips it when it cannot move (`skip_mask`, checked from the accounts);
//!   every share's claim on it stays in the row, paid in kind once it moves again.
//! - Mint in kind deposits nothing of it, and pays for the new shares' slice of it in the
//!   other rows instead (below).
//! - Single-asset mints and redeems and rebalance swaps refuse it as their asset; they value
//!   the rest of the index at the trade prices and the row at its quarantine price on the high
//!   side (what a mint buys into) and at 0 on the low side (what a redeem is paid from).
//! - The cap and band checks and the auction clock leave it out: it can block nothing.
//! - A review gives it target 0, as it does a winding-down row: it needs neither its inputs
//!   nor its price.
//!
//! **The math of a mint during the quarantine.** Shares are fungible, so every share, old or
//! new, has the same claim `B_q / S` on the quarantined row's balance `B_q` (supply `S`). A new
//! share dilutes that claim; it must pay for the slice it takes. Minting `s` shares in kind
//! deposits, for every other row `i`,
//!
//! ```text
//! ceil(s * B_i / S) + ceil(B_i * X / V)      X = sum over quarantined q of
//!                                                 value_up(ceil(s * B_q / S), P_q)
//!                                            V = sum over the other rows of value_down(B_i, p_i - c_i)
//! ```
//!
//! where `P_q` is the row's quarantine price (its price plus confidence when quarantined,
//! raised by any later stored price plus confidence) and `p_i - c_i` the low side of each
//! other row's trade price. The extra deposit is pro rata to the other rows' balances, so
//! their composition is unchanged, and it is worth at least `X` at the low side: for the
//! `ceil(s * B_q / S)` units of the row the new shares take a claim on, the earlier holders
//! receive, in the other rows, at least their value at `P_q`. Measured at those prices, the
//! earlier holders' claim does not fall (every rounding is up, toward the vault, so it can
//! only rise by the rounding). What the price cannot know is where the row will trade when it
//! moves again: above `P_q`, the new shares hold a slice bought below its worth; below it,
//! the earlier holders gained. `P_q` starts at the high side of the last verified price and
//! only rises, so the premium is the row's own confidence, at least.
//!
//! A single-asset mint pays the same way, through the NAV it buys into. A redeem in kind pays
//! the row in kind when it moves, and a holder who redeems while it cannot move leaves their
//! slice to those who stay (it is theirs: nothing is written down).
//!
//! **Write-off.** A row quarantined for [`WRITE_OFF_AFTER_SECS`] may be written off by the
//! admin: its target goes to the other rows, the row leaves the table, and the claim
//! (balance against share supply, with the vault that keeps the tokens) is recorded in
//! `ConstituentWrittenOff`.

use crate::errors::AidxError;
use crate::events::{
    emit_event, ConstituentQuarantined, ConstituentReleased, ConstituentWrittenOff,
};
use crate::state::*;
use crate::token::legs::{is_frozen, is_paused};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount};

use super::lifecycle::{drop_row, hand_on_target};
use super::roles::AdminOnly;

#[derive(Accounts)]
pub struct SetQuarantine<'info> {
    /// Anyone, with the vault frozen or the mint paused; the admin or guardian for any reason.
    pub authority: Signer<'info>,
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
    /// The constituent's mint (read for the pause); checked against the table.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The constituent's vault (read for the freeze); checked against the table.
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl SetQuarantine<'_> {
    /// The row of `mint` with its vault checked, and whether it cannot move now.
    fn row(&self, index: &Index) -> Result<(usize, Quarantine)> {
        let row = index.position_of(&self.mint.key())?;
        let c = &index.constituents()[row];
        require_keys_eq!(self.vault.key(), c.vault, AidxError::VaultMismatch);
        let proof = if is_frozen(&self.vault.to_account_info())? {
            Quarantine::FrozenVault
        } else if is_paused(&self.mint.to_account_info())? {
            Quarantine::PausedMint
        } else {
            Quarantine::None
        };
        Ok((row, proof))
    }

    fn is_authority(&self, index: &Index) -> bool {
        let by = self.authority.key();
        by == index.admin || by == index.guardian
    }
}

pub fn quarantine_constituent(ctx: Context<SetQuarantine>) -> Result<()> {
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let mut index = a.index.load_mut()?;
    require!(index.is_seeded(), AidxError::NotSeeded);
    let (row, proof) = a.row(&index)?;
    let reason = match proof {
        Quarantine::None if a.is_authority(&index) => Quarantine::Authority,
        Quarantine::None => return err!(AidxError::QuarantineNeedsProof),
        shown => shown,
    };
    let c = &mut index.constituents_mut()[row];
    require!(!c.is_quarantined(), AidxError::AlreadyQuarantined);
    c.quarantine = reason as u8;
    c.quarantined_at = now;
    c.quarantine_price = c.price.checked_add(c.conf).ok_or(AidxError::MathOverflow)?;
    let event = ConstituentQuarantined {
        index: a.index.key(),
        mint: c.mint,
        row: row as u8,
        by: a.authority.key(),
        reason: reason as u8,
        at: now,
        balance: c.balance,
        quarantine_price: c.quarantine_price,
    };
    // The row leaves the band checks: the auction starts again from the next refresh or poke.
    index.imbalance_started_at = 0;
    index.invariant()?;
    emit_event(&event);
    Ok(())
}

pub fn release_constituent(ctx: Context<SetQuarantine>) -> Result<()> {
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let mut index = a.index.load_mut()?;
    let (row, proof) = a.row(&index)?;
    let authority = a.is_authority(&index);
    let c = &mut index.constituents_mut()[row];
    require!(c.is_quarantined(), AidxError::NotQuarantined);
    require!(
        authority || c.quarantine != Quarantine::Authority as u8,
        AidxError::QuarantineReleaseUnauthorized
    );
    require!(proof == Quarantine::None, AidxError::ConstituentCannotMove);
    let event = ConstituentReleased {
        index: a.index.key(),
        mint: c.mint,
        row: row as u8,
        by: a.authority.key(),
        reason: c.quarantine,
        quarantined_at: c.quarantined_at,
        at: now,
        balance: c.balance,
    };
    c.quarantine = Quarantine::None as u8;
    c.quarantined_at = 0;
    c.quarantine_price = 0;
    // The row is back in the band checks: the auction starts again from the next refresh.
    index.imbalance_started_at = 0;
    index.invariant()?;
    emit_event(&event);
    Ok(())
}

pub fn write_off_constituent(ctx: Context<AdminOnly>, mint: Pubkey) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut index = ctx.accounts.index.load_mut()?;
    let row = index.position_of(&mint)?;
    let c = index.constituents()[row];
    require!(c.is_quarantined(), AidxError::NotQuarantined);
    require!(
        now >= c.quarantined_at.saturating_add(WRITE_OFF_AFTER_SECS),
        AidxError::WriteOffTooEarly
    );
    let share_supply = index.share_supply;
    let old_target = hand_on_target(&mut index, row)?;
    drop_row(&mut index, row);
    index.imbalance_started_at = 0;
    index.invariant()?;
    emit_event(&ConstituentWrittenOff {
        index: ctx.accounts.index.key(),
        mint,
        vault: c.vault,
        row: row as u8,
        balance: c.balance,
        share_supply,
        quarantine_price: c.quarantine_price,
        quarantined_at: c.quarantined_at,
        at: now,
        old_target,
        targets_after: index.targets(),
    });
    Ok(())
}
