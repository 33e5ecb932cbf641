//! Which Token-2022 mints can be constituents.
//!
//! The vault's accounting assumes that a transfer of `x` raw units moves exactly `x` units,
//! that nothing but the index can move vault funds, that the vault can always send and
//! receive, and that the oracle's price of one token is the price of `10^decimals` raw units.
//! Extensions are checked against an allow-list, so an extension added to Token-2022 later is
//! refused until it is reviewed:
//!
//! | extension | decision | why |
//! |---|---|---|
//! | MetadataPointer, TokenMetadata, GroupPointer, TokenGroup, GroupMemberPointer, TokenGroupMember | allowed | descriptive, no effect on balances or transfers |
//! | Pausable | allowed (leg takes the mint) | transfers can stop; redeem in kind lets a holder skip a paused leg, so nobody is trapped |
//! | TransferHook with no program and no authority | allowed (leg takes the mint) | inert: nothing runs and nobody can make it run |
//! | DefaultAccountState = Initialized | allowed | the vault is created usable |
//! | MintCloseAuthority | refused | a mint with no supply could be closed and re-created at the same address with refused extensions (the policy is checked once, here) |
//! | TransferFeeConfig | refused | amounts received differ from amounts sent |
//! | TransferHook with a program or an authority | refused | arbitrary code on every transfer, able to block or re-enter |
//! | NonTransferable | refused | the vault could never pay out |
//! | DefaultAccountState = Frozen | refused | the vault would be created frozen |
//! | PermanentDelegate | refused | a third party could move vault funds |
//! | ConfidentialTransferMint, ConfidentialTransferFeeConfig, ConfidentialMintBurn | refused | balances and supply would leave public accounting |
//! | InterestBearingConfig, ScaledUiAmount | refused | the oracle prices UI amounts, which drift from raw units |
//! | anything else | refused | not reviewed |
//!
//! A freeze authority (either token program) and a pause authority are recorded, not refused
//! (`Constituent::controls`, and in `ConstituentAdded`): many liquid tokens keep one, and
//! refusing them would shrink the eligible universe for a risk the index can carry. Both can
//! stop the row's vault from moving; a holder can then still leave by redeeming in kind with
//! that leg skipped (only such a leg may be skipped), and the keeper and auditors can see
//! from the table which rows carry the risk.
//!
//! In-kind legs move tokens with the plain `Transfer` both token programs accept, which takes
//! no mint account, so a leg costs two account locks (vault, holder account) instead of three.
//! Token-2022 refuses a plain transfer out of an account that carries `PausableAccount` or
//! `TransferHookAccount` (`MintRequiredForTransfer`: it must read the mint to see whether it
//! is paused or which hook to run), and every account of a pausable or hooked mint carries
//! one, so those rows take the mint and move by `TransferChecked`. The test
//! `full_basket::plain_transfer_by_extension` measures this against the real program for every
//! extension admitted here.

/// What admitting a mint decides besides yes or no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Its token accounts need the mint to transfer (pausable or transfer-hook).
    pub transfer_needs_mint: bool,
    /// A pause authority can stop every transfer of it.
    pub pausable: bool,
}

use crate::errors::AidxError;
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{
        default_account_state::DefaultAccountState, transfer_hook::TransferHook,
        BaseStateWithExtensions, ExtensionType, StateWithExtensions,
    },
    state::{AccountState, Mint},
};

/// Checks a Token-2022 mint's extensions against the policy above.
pub fn check_token_2022_mint(mint: &AccountInfo) -> Result<Admitted> {
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<Mint>::unpack(&data)
        .map_err(|_| error!(AidxError::InvalidMintData))?;
    let types = state
        .get_extension_types()
        .map_err(|_| error!(AidxError::InvalidMintData))?;
    let mut admitted = Admitted {
        transfer_needs_mint: false,
        pausable: false,
    };
    for ext in types {
        match ext {
            ExtensionType::MetadataPointer
            | ExtensionType::TokenMetadata
            | ExtensionType::GroupPointer
            | ExtensionType::TokenGroup
            | ExtensionType::GroupMemberPointer
            | ExtensionType::TokenGroupMember => {}
            ExtensionType::Pausable => {
                admitted.transfer_needs_mint = true;
                admitted.pausable = true;
            }
            ExtensionType::TransferHook => {
                admitted.transfer_needs_mint = true;
                let hook = state
                    .get_extension::<TransferHook>()
                    .map_err(|_| error!(AidxError::InvalidMintData))?;
                let program: Option<Pubkey> = hook.program_id.into();
                let authority: Option<Pubkey> = hook.authority.into();
                require!(
                    program.is_none() && authority.is_none(),
                    AidxError::MintHasTransferHook
                );
            }
            ExtensionType::DefaultAccountState => {
                let d = state
                    .get_extension::<DefaultAccountState>()
                    .map_err(|_| error!(AidxError::InvalidMintData))?;
                require!(
                    d.state != AccountState::Frozen as u8,
                    AidxError::MintDefaultFrozen
                );
            }
            ExtensionType::MintCloseAuthority => return err!(AidxError::MintClosable),
            ExtensionType::TransferFeeConfig => return err!(AidxError::MintHasTransferFee),
            ExtensionType::NonTransferable => return err!(AidxError::MintNonTransferable),
            ExtensionType::PermanentDelegate => return err!(AidxError::MintHasPermanentDelegate),
            ExtensionType::ConfidentialTransferMint
            | ExtensionType::ConfidentialTransferFeeConfig
            | ExtensionType::ConfidentialMintBurn => return err!(AidxError::MintConfidential),
            ExtensionType::InterestBearingConfig | ExtensionType::ScaledUiAmount => {
                return err!(AidxError::MintUiAmountScaled)
            }
            _ => return err!(AidxError::MintExtensionNotAllowed),
        }
    }
    Ok(admitted)
}
