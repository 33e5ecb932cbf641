//! Quarantine: a constituent that cannot move (frozen vault, paused mint) or cannot be priced
//! (dead or deprecated feed) is set aside so that it cannot stop the index.
//!
//! **Who.** Anyone may quarantine a row whose vault is frozen or whose mint is paused: the
//! accounts passed are the proof, read here. The admin or guardian may quarantine any row,
//! for any reason (a dead feed cannot be shown on-chain), and take over a quarantine shown
//! on-chain. A quarantine shown on-chain is released by anyone once the vault is thawed and the
//! mint unpaused; one set by the admin or guardian only by them for [`AUTHORITY_HOLD_SECS`],
//! then by anyone too (no authority can keep holders from leaving with a row that moves).
//! Nobody releases a row that still cannot move, nor one quarantined less than
//! [`MIN_QUARANTINE_SECS`] ago: whoever paid for its slice carries its market that long, so its
//! freeze authority cannot freeze, quarantine, mint, thaw, release and redeem in one
//! transaction.
//!
//! **What it does.** The row leaves every operation that would need it to move or be priced:
//! - Redeem in kind pays nothing of it: every share's claim on it stays in the row, paid in kind
//!   once it is released (a holder who leaves before leaves the slice to those who stay).
//!   Otherwise a mint that paid for the slice at a price, then a redeem, would buy the row at
//!   that price.
//! - Mint in kind deposits it in kind while it can move (a dead feed); while it cannot (read
//!   from the legs), deposits nothing of it and pays for the new shares' slice of it in the
//!   rows not quarantined instead (below).
//! - Single-asset mints and redeems and rebalance swaps refuse it as their asset; they value
//!   the rest of the index at the trade prices and the row at its quarantine price on the high
//!   side (what a mint buys into) and at 0 on the low side (what a redeem is paid from).
//! - The cap and band checks and the auction clock leave it out: weights are measured with its
//!   balance at 0 against targets scaled up to keep their sum without it (`band_targets`), so
//!   the rest is weighed as an index of its own and the row can block or force nothing.
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
//! where `P_q` is the price the slice is paid at (`Index::quarantine_price_now`): for a row
//! quarantined on proof (its feed is live) the higher of its quarantine price and its stored
//! price, which must be within the trade age, plus its age-widened confidence; for a row the
//! authority quarantined (the feed may be dead) its quarantine price: the stored price plus the
//! age-widened confidence when quarantined, raised by every later stored price plus
//! confidence. `p_i - c_i` is the low side of each other row's trade price. The extra deposit is pro rata to the other rows' balances, so
//! their composition is unchanged, and it is worth at least `X` at the low side: for the
//! `ceil(s * B_q / S)` units of the row the new shares take a claim on, the earlier holders
//! receive, in the other rows, at least their value at `P_q`. Measured at those prices, the
//! earlier holders' claim does not fall (every rounding is up, toward the vault, so it can
//! only rise by the rounding). What the price cannot know is where the row will trade when it
//! moves again: above `P_q`, the new shares hold a slice bought below its worth; below it,
//! the earlier holders gained; and since nothing of the row is paid out until it is released,
//! only a holder who stays through the quarantine can meet that price. For a row quarantined on
//! proof `P_q` follows the live market; for one the authority quarantined it starts at the
//! high side of the last verified price and only rises.
//!
//! A single-asset mint pays the same way, through the NAV it buys into.
//!
//! **Write-off.** A row quarantined for [`WRITE_OFF_AFTER_SECS`] that still cannot move may be
//! written off by the admin: its target goes to the other rows, the row leaves the table, and
//! the claim
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

/// The row of `mint` with its vault checked against the table, and what stops it now (frozen
/// vault, paused mint, or [`Quarantine::None`]: it can move).
fn row_and_proof(
    index: &Index,
    mint: &InterfaceAccount<Mint>,
    vault: &InterfaceAccount<TokenAccount>,
) -> Result<(usize, Quarantine)> {
    let row = index.position_of(&mint.key())?;
    let c = &index.constituents()[row];
    require_keys_eq!(vault.key(), c.vault, AidxError::VaultMismatch);
    let proof = if is_frozen(&vault.to_account_info())? {
        Quarantine::FrozenVault
    } else if is_paused(&mint.to_account_info())? {
        Quarantine::PausedMint
    } else {
        Quarantine::None
    };
    Ok((row, proof))
}

impl SetQuarantine<'_> {
    fn row(&self, index: &Index) -> Result<(usize, Quarantine)> {
        row_and_proof(index, &self.mint, &self.vault)
    }

    fn is_authority(&self, index: &Index) -> bool {
        let by = self.authority.key();
        by == index.admin || by == index.guardian
    }
}

pub fn quarantine_constituent(ctx: Context<SetQuarantine>) -> Result<()> {
    let a = &ctx.accounts;
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let mut index = a.index.load_mut()?;
    require!(index.is_seeded(), AidxError::NotSeeded);
    let (row, proof) = a.row(&index)?;
    // The admin's or guardian's quarantine is theirs to release, whatever it shows (a frozen
    // row whose feed is dead too must not come back priced when it thaws); anyone else's
    // stands on its proof.
    let authority = a.is_authority(&index);
    let reason = match proof {
        _ if authority => Quarantine::Authority,
        Quarantine::None => return err!(AidxError::QuarantineNeedsProof),
        shown => shown,
    };
    let c = &mut index.constituents_mut()[row];
    if c.is_quarantined() {
        // The authority may take over a quarantine shown on-chain; nothing else changes.
        require!(
            authority && c.quarantine != Quarantine::Authority as u8,
            AidxError::AlreadyQuarantined
        );
        c.quarantine = Quarantine::Authority as u8;
    } else {
        c.quarantine = reason as u8;
        c.quarantined_at = now;
        // The high side of the stored price.
        c.quarantine_price = c.price.checked_add(c.conf).ok_or(AidxError::MathOverflow)?;
    }
    let event = ConstituentQuarantined {
        index: a.index.key(),
        mint: c.mint,
        row: row as u8,
        by: a.authority.key(),
        reason: c.quarantine,
        at: now,
        balance: c.balance,
        quarantine_price: c.quarantine_price,
    };
    // The row leaves the band checks: the auction starts again from the next refresh or poke.
    // The rebalance window does not reopen: anyone who can freeze a vault could otherwise
    // open windows at will.
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
    let held_for = now.saturating_sub(c.quarantined_at);
    require!(
        authority || c.quarantine != Quarantine::Authority as u8 || held_for >= AUTHORITY_HOLD_SECS,
        AidxError::QuarantineReleaseUnauthorized
    );
    require!(proof == Quarantine::None, AidxError::ConstituentCannotMove);
    require!(held_for >= MIN_QUARANTINE_SECS, AidxError::ReleaseTooEarly);
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
    // The row is back in the band checks: the auction starts again from the next refresh (the
    // window does not reopen, as for the quarantine).
    index.imbalance_started_at = 0;
    index.invariant()?;
    emit_event(&event);
    Ok(())
}

#[derive(Accounts)]
pub struct WriteOff<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ AidxError::UnauthorizedAdmin)]
    pub index: AccountLoader<'info, Index>,
    /// The constituent's mint (read for the pause); checked against the table.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The constituent's vault (read for the freeze); checked against the table.
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// Writes off a row quarantined for [`WRITE_OFF_AFTER_SECS`] that still cannot move (its vault
/// frozen or its mint paused, read from the accounts): a row that can move is never written
/// off, holders redeem it in kind once it is released.
pub fn write_off_constituent(ctx: Context<WriteOff>) -> Result<()> {
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let mut index = a.index.load_mut()?;
    let (row, proof) = row_and_proof(&index, &a.mint, &a.vault)?;
    let mint = a.mint.key();
    let c = index.constituents()[row];
    require!(c.is_quarantined(), AidxError::NotQuarantined);
    require!(proof != Quarantine::None, AidxError::WriteOffCanMove);
    require!(
        now >= c.quarantined_at.saturating_add(WRITE_OFF_AFTER_SECS),
        AidxError::WriteOffTooEarly
    );
    let share_supply = index.share_supply;
    let old_target = hand_on_target(&mut index, row)?;
    drop_row(&mut index, row);
    index.targets_changed(now);
    index.invariant()?;
    emit_event(&ConstituentWrittenOff {
        index: a.index.key(),
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
