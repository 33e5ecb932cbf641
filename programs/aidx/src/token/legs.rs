//! The basket legs of in-kind instructions, passed as remaining accounts in table order and
//! validated here, each mismatch with its own error.
//!
//! A leg is `(vault, holder token account)`, or `(mint, vault, holder token account)` for a row
//! whose token program needs the mint to transfer (`Constituent::leg_accounts`, decided by the
//! extension policy at `add_constituent`). Two-account legs move by the plain `Transfer`; the
//! vault is reconciled after every leg either way, so the amount moved is exact.
//!
//! On paper: a mainnet transaction locks at most 64 accounts; an in-kind mint takes 11 besides
//! its legs (eight named accounts, the aidx program, the compute-budget program, a separate fee
//! payer), so `(64 - 11) / 2 = 26` plain legs fit, or 17 if every row took its mint.
//! `add_constituent` keeps every index inside that budget (`MAX_LEG_ACCOUNTS`).

use super::{reconcile_vault, token_amount};
use crate::errors::AidxError;
use crate::state::Constituent;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, TokenAccount, TransferChecked};

/// One validated leg.
pub struct Leg<'a, 'info> {
    /// Present when the token program needs it to transfer.
    pub mint: Option<&'a AccountInfo<'info>>,
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
    let expected: usize = constituents.iter().map(|c| c.leg_accounts as usize).sum();
    require!(remaining.len() == expected, AidxError::LegAccountsMismatch);
    let mut rest = remaining;
    constituents
        .iter()
        .map(|c| {
            let (accts, tail) = rest
                .split_at_checked(c.leg_accounts as usize)
                .ok_or_else(|| error!(AidxError::LegAccountsMismatch))?;
            rest = tail;
            let (mint, vault, holder_account) = match accts {
                [mint, vault, holder_account] => {
                    require_keys_eq!(mint.key(), c.mint, AidxError::ConstituentMintMismatch);
                    (Some(mint), vault, holder_account)
                }
                [vault, holder_account] => (None, vault, holder_account),
                _ => return err!(AidxError::LegAccountsMismatch),
            };
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

/// Offset of `state` in an SPL Token or Token-2022 token account (same base layout).
const TOKEN_ACCOUNT_STATE_OFFSET: usize = 108;
/// `AccountState::Frozen`.
const FROZEN: u8 = 2;

/// Whether a token account (already checked to belong to a token program) is frozen.
pub(crate) fn is_frozen(info: &AccountInfo) -> Result<bool> {
    let data = info.try_borrow_data()?;
    let state = data
        .get(TOKEN_ACCOUNT_STATE_OFFSET)
        .ok_or_else(|| error!(AidxError::InvalidTokenAccount))?;
    Ok(*state == FROZEN)
}

/// Whether a Token-2022 mint with the pausable extension is paused.
pub(crate) fn is_paused(mint: &AccountInfo) -> Result<bool> {
    use anchor_spl::token_2022::spl_token_2022::{
        extension::{pausable::PausableConfig, BaseStateWithExtensions, StateWithExtensions},
        state::Mint,
    };
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<Mint>::unpack(&data)
        .map_err(|_| error!(AidxError::InvalidMintData))?;
    Ok(state
        .get_extension::<PausableConfig>()
        .map(|p| bool::from(p.paused))
        .unwrap_or(false))
}

impl<'info> Leg<'_, 'info> {
    /// The leg cannot move: its vault is frozen or its mint is paused. Only such a leg may be
    /// skipped by a redeem in kind. (A frozen account of the holder's is no reason: the holder
    /// chooses which account to pass, and can always pass one that is not frozen.)
    pub fn cannot_move(&self) -> Result<bool> {
        if is_frozen(self.vault)? {
            return Ok(true);
        }
        match self.mint {
            Some(mint) => is_paused(mint),
            None => Ok(false),
        }
    }

    /// Moves `amount` from `from` to `to` under `authority`: `TransferChecked` when the leg
    /// carries its mint, the plain `Transfer` otherwise.
    fn transfer(
        &self,
        from: &AccountInfo<'info>,
        to: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        signer: &[&[&[u8]]],
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        match self.mint {
            Some(mint) => token_interface::transfer_checked(
                CpiContext::new_with_signer(
                    self.token_program,
                    TransferChecked {
                        from: from.clone(),
                        mint: mint.clone(),
                        to: to.clone(),
                        authority: authority.clone(),
                    },
                    signer,
                ),
                amount,
                self.decimals,
            ),
            // The plain transfer saves the mint's account lock. Token-2022 marks it deprecated
            // because it cannot compute transfer fees or run hooks; the extension policy admits
            // neither on a row moved this way, and the vault is reconciled after the transfer.
            #[allow(deprecated)]
            None => anchor_spl::token_2022::transfer(
                CpiContext::new_with_signer(
                    self.token_program,
                    anchor_spl::token_2022::Transfer {
                        from: from.clone(),
                        to: to.clone(),
                        authority: authority.clone(),
                    },
                    signer,
                ),
                amount,
            ),
        }
    }

    /// Moves `amount` from the holder's account into the vault, signed by the holder.
    pub fn pull(&self, holder: &AccountInfo<'info>, amount: u64) -> Result<()> {
        self.transfer(self.holder_account, self.vault, holder, &[], amount)
    }

    /// Moves `amount` from the vault to the holder's account, signed by the index PDA.
    pub fn push(&self, index: &AccountInfo<'info>, seeds: &[&[u8]], amount: u64) -> Result<()> {
        self.transfer(self.vault, self.holder_account, index, &[seeds], amount)
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
