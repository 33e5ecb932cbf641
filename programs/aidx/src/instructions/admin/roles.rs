//! Roles: the admin sets the methodology authority, guardian and fee recipient; the admin role
//! itself moves in two steps (the admin proposes, the proposed key accepts). Every change emits
//! the old and new holders.

use crate::errors::AidxError;
use crate::events::{emit_event, AdminAccepted, AdminProposed, RolesUpdated};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetRolesArgs {
    pub methodology_authority: Pubkey,
    pub guardian: Pubkey,
    pub fee_recipient: Pubkey,
}

#[derive(Accounts)]
pub struct AdminOnly<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ AidxError::UnauthorizedAdmin)]
    pub index: AccountLoader<'info, Index>,
}

pub fn set_roles(ctx: Context<AdminOnly>, args: SetRolesArgs) -> Result<()> {
    for role in [
        args.methodology_authority,
        args.guardian,
        args.fee_recipient,
    ] {
        require_keys_neq!(role, Pubkey::default(), AidxError::InvalidRole);
    }
    let mut index = ctx.accounts.index.load_mut()?;
    let event = RolesUpdated {
        index: ctx.accounts.index.key(),
        old_methodology_authority: index.methodology_authority,
        new_methodology_authority: args.methodology_authority,
        old_guardian: index.guardian,
        new_guardian: args.guardian,
        old_fee_recipient: index.fee_recipient,
        new_fee_recipient: args.fee_recipient,
    };
    index.methodology_authority = args.methodology_authority;
    index.guardian = args.guardian;
    index.fee_recipient = args.fee_recipient;
    index.invariant()?;
    emit_event(&event);
    Ok(())
}

/// Proposes `new_admin` (the default key cancels a proposal).
pub fn propose_admin(ctx: Context<AdminOnly>, new_admin: Pubkey) -> Result<()> {
    let mut index = ctx.accounts.index.load_mut()?;
    let old_pending = index.pending_admin;
    index.pending_admin = new_admin;
    index.invariant()?;
    emit_event(&AdminProposed {
        index: ctx.accounts.index.key(),
        admin: index.admin,
        old_pending,
        new_pending: new_admin,
    });
    Ok(())
}

#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    /// The proposed admin.
    pub pending_admin: Signer<'info>,
    #[account(mut, has_one = pending_admin @ AidxError::NotPendingAdmin)]
    pub index: AccountLoader<'info, Index>,
}

pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let mut index = ctx.accounts.index.load_mut()?;
    require_keys_neq!(
        index.pending_admin,
        Pubkey::default(),
        AidxError::NotPendingAdmin
    );
    let old_admin = index.admin;
    index.admin = index.pending_admin;
    index.pending_admin = Pubkey::default();
    index.invariant()?;
    emit_event(&AdminAccepted {
        index: ctx.accounts.index.key(),
        old_admin,
        new_admin: index.admin,
    });
    Ok(())
}
