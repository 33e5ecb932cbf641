//! Token plumbing: the Token-2022 extension policy and the basket legs of user instructions.

pub mod legs;
pub mod policy;

use crate::errors::AidxError;
use anchor_lang::prelude::*;

/// Offset of `amount` in an SPL Token or Token-2022 token account (same base layout).
const TOKEN_ACCOUNT_AMOUNT_OFFSET: usize = 64;

/// The `amount` of a token account already checked to belong to a token program.
pub fn token_amount(info: &AccountInfo) -> Result<u64> {
    let data = info.try_borrow_data()?;
    let bytes = data
        .get(TOKEN_ACCOUNT_AMOUNT_OFFSET..TOKEN_ACCOUNT_AMOUNT_OFFSET + 8)
        .ok_or_else(|| error!(AidxError::InvalidTokenAccount))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(bytes);
    Ok(u64::from_le_bytes(a))
}

/// The supply of a mint account already checked to be the index's share mint.
pub fn mint_supply(info: &AccountInfo) -> Result<u64> {
    let data = info.try_borrow_data()?;
    let mint = anchor_spl::token::Mint::try_deserialize(&mut &data[..])?;
    Ok(mint.supply)
}

/// After the transfers of a handler: the vault moved by exactly `delta_in - delta_out` from
/// `before` and still holds at least the internal balance.
pub fn reconcile_vault(
    vault: &AccountInfo,
    before: u64,
    delta_in: u64,
    delta_out: u64,
    internal_balance: u64,
) -> Result<()> {
    let after = token_amount(vault)?;
    let expected = before
        .checked_add(delta_in)
        .and_then(|v| v.checked_sub(delta_out))
        .ok_or_else(|| error!(AidxError::VaultReconciliationFailed))?;
    require!(
        after == expected && after >= internal_balance,
        AidxError::VaultReconciliationFailed
    );
    Ok(())
}
