//! The basket legs of in-kind instructions: one `(mint, vault, holder token account)` triple
//! per constituent in table order, passed as remaining accounts and validated here, each
//! mismatch with its own error.

use super::{reconcile_vault, token_amount};
use crate::errors::AidxError;
use crate::state::Constituent;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, TokenAccount, TransferChecked};

/// Accounts per leg in the remaining accounts.
pub const ACCOUNTS_PER_LEG: usize = 3;

/// One validated leg.
pub struct Leg<'a, 'info> {
    pub mint: &'a AccountInfo<'info>,
    pub vault: &'a AccountInfo<'info>,
    pub holder_account: &'a AccountInfo<'info>,
    pub token_program: Pubkey,
    pub decimals: u8,
    /// Vault amount when the leg was loaded, for reconciliation.
    pub vault_before: u64,
}

/// Validates the remaining accounts against the constituent table.
pub fn load_legs<'a, 'info>(
    constituents: &[Constituent],
    remaining: &'a [AccountInfo<'info>],
    holder: &Pubkey,
) -> Result<Vec<Leg<'a, 'info>>> {
    require!(
        remaining.len() == constituents.len() * ACCOUNTS_PER_LEG,
        AidxError::LegAccountsMismatch
    );
    constituents
        .iter()
        .zip(remaining.chunks_exact(ACCOUNTS_PER_LEG))
        .map(|(c, accts)| {
            let (mint, vault, holder_account) = (&accts[0], &accts[1], &accts[2]);
            require_keys_eq!(mint.key(), c.mint, AidxError::ConstituentMintMismatch);
            require_keys_eq!(vault.key(), c.vault, AidxError::VaultMismatch);
            require!(vault.is_writable, AidxError::AccountNotWritable);
            require_keys_eq!(
                *holder_account.owner,
                c.token_program,
                AidxError::TokenProgramMismatch
            );
            require!(holder_account.is_writable, AidxError::AccountNotWritable);
            let account = {
                let data = holder_account.try_borrow_data()?;
                TokenAccount::try_deserialize(&mut &data[..])
                    .map_err(|_| error!(AidxError::InvalidTokenAccount))?
            };
            require_keys_eq!(account.mint, c.mint, AidxError::TokenAccountMintMismatch);
            require_keys_eq!(account.owner, *holder, AidxError::TokenAccountOwnerMismatch);
            Ok(Leg {
                mint,
                vault,
                holder_account,
                token_program: c.token_program,
                decimals: c.decimals,
                vault_before: token_amount(vault)?,
            })
        })
        .collect()
}

impl<'info> Leg<'_, 'info> {
    /// Moves `amount` from the holder's account into the vault, signed by the holder.
    pub fn pull(&self, holder: &AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new(
                self.token_program,
                TransferChecked {
                    from: self.holder_account.clone(),
                    mint: self.mint.clone(),
                    to: self.vault.clone(),
                    authority: holder.clone(),
                },
            ),
            amount,
            self.decimals,
        )
    }

    /// Moves `amount` from the vault to the holder's account, signed by the index PDA.
    pub fn push(&self, index: &AccountInfo<'info>, seeds: &[&[u8]], amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program,
                TransferChecked {
                    from: self.vault.clone(),
                    mint: self.mint.clone(),
                    to: self.holder_account.clone(),
                    authority: index.clone(),
                },
                &[seeds],
            ),
            amount,
            self.decimals,
        )
    }

    /// After the transfers: see [`reconcile_vault`].
    pub fn reconcile(&self, delta_in: u64, delta_out: u64, internal_balance: u64) -> Result<()> {
        reconcile_vault(
            self.vault,
            self.vault_before,
            delta_in,
            delta_out,
            internal_balance,
        )
    }
}
