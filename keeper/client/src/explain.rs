//! Failed transactions as a person reads them: the aidx error by name and message (from the
//! committed IDL), Anchor's, the Pyth receiver's and SPL Token's errors by name, and which
//! instruction of the transaction failed.

use anchor_lang::error::ErrorCode as AnchorError;
use pyth_solana_receiver_sdk::error::GetPriceError;
use serde::Deserialize;
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};
use std::sync::OnceLock;

/// The committed IDL of the program: the source of the aidx errors' names and messages.
const IDL: &str = include_str!("../../../programs/aidx/idl/aidx.json");

/// A named program error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedError {
    /// Who defines it: `aidx`, `anchor`, `pyth` or `spl-token`.
    pub source: &'static str,
    /// The variant's name, e.g. `InsufficientShares`.
    pub name: String,
    /// Its message.
    pub message: String,
}

impl std::fmt::Display for NamedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.source, self.name, self.message)
    }
}

#[derive(Deserialize)]
struct IdlErrors {
    errors: Vec<IdlError>,
}

#[derive(Deserialize)]
struct IdlError {
    code: u32,
    name: String,
    msg: String,
}

fn aidx_errors() -> &'static [IdlError] {
    static ERRORS: OnceLock<Vec<IdlError>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        serde_json::from_str::<IdlErrors>(IDL)
            .map(|i| i.errors)
            .unwrap_or_default()
    })
}

/// Every Anchor framework error (names checked by the compiler; codes and messages are
/// Anchor's own).
const ANCHOR_ERRORS: &[AnchorError] = {
    use AnchorError::*;
    &[
        InstructionMissing,
        InstructionFallbackNotFound,
        InstructionDidNotDeserialize,
        InstructionDidNotSerialize,
        IdlInstructionStub,
        IdlInstructionInvalidProgram,
        IdlAccountNotEmpty,
        EventInstructionStub,
        ConstraintMut,
        ConstraintHasOne,
        ConstraintSigner,
        ConstraintRaw,
        ConstraintOwner,
        ConstraintRentExempt,
        ConstraintSeeds,
        ConstraintExecutable,
        ConstraintState,
        ConstraintAssociated,
        ConstraintAssociatedInit,
        ConstraintClose,
        ConstraintAddress,
        ConstraintZero,
        ConstraintTokenMint,
        ConstraintTokenOwner,
        ConstraintMintMintAuthority,
        ConstraintMintFreezeAuthority,
        ConstraintMintDecimals,
        ConstraintSpace,
        ConstraintAccountIsNone,
        ConstraintTokenTokenProgram,
        ConstraintMintTokenProgram,
        ConstraintAssociatedTokenTokenProgram,
        ConstraintMintGroupPointerExtension,
        ConstraintMintGroupPointerExtensionAuthority,
        ConstraintMintGroupPointerExtensionGroupAddress,
        ConstraintMintGroupMemberPointerExtension,
        ConstraintMintGroupMemberPointerExtensionAuthority,
        ConstraintMintGroupMemberPointerExtensionMemberAddress,
        ConstraintMintMetadataPointerExtension,
        ConstraintMintMetadataPointerExtensionAuthority,
        ConstraintMintMetadataPointerExtensionMetadataAddress,
        ConstraintMintCloseAuthorityExtension,
        ConstraintMintCloseAuthorityExtensionAuthority,
        ConstraintMintPermanentDelegateExtension,
        ConstraintMintPermanentDelegateExtensionDelegate,
        ConstraintMintTransferHookExtension,
        ConstraintMintTransferHookExtensionAuthority,
        ConstraintMintTransferHookExtensionProgramId,
        ConstraintDuplicateMutableAccount,
        AccountAlreadyMigrated,
        AccountNotMigrated,
        ConstraintMintPausableExtension,
        ConstraintMintPausableAuthority,
        RequireViolated,
        RequireEqViolated,
        RequireKeysEqViolated,
        RequireNeqViolated,
        RequireKeysNeqViolated,
        RequireGtViolated,
        RequireGteViolated,
        AccountDiscriminatorAlreadySet,
        AccountDiscriminatorNotFound,
        AccountDiscriminatorMismatch,
        AccountDidNotDeserialize,
        AccountDidNotSerialize,
        AccountNotEnoughKeys,
        AccountNotMutable,
        AccountOwnedByWrongProgram,
        InvalidProgramId,
        InvalidProgramExecutable,
        AccountNotSigner,
        AccountNotSystemOwned,
        AccountNotInitialized,
        AccountNotProgramData,
        AccountNotAssociatedTokenAccount,
        AccountSysvarMismatch,
        AccountReallocExceedsLimit,
        AccountDuplicateReallocs,
        DeclaredProgramIdMismatch,
        TryingToInitPayerAsProgramAccount,
        InvalidNumericConversion,
        Deprecated,
    ]
};

const PYTH_ERRORS: &[GetPriceError] = {
    use GetPriceError::*;
    &[
        PriceTooOld,
        InvalidWindowSize,
        MismatchedFeedId,
        InsufficientVerificationLevel,
        FeedIdMustBe32Bytes,
        FeedIdNonHexCharacter,
    ]
};

/// The error a custom code stands for. Codes below 100 come from the token programs (the index
/// calls them; SPL Token's codes are the first of Token-2022's), 100-5999 from Anchor,
/// 6000 and up from aidx, 16000 and up from the Pyth receiver SDK's price checks.
pub fn custom_error(code: u32) -> Option<NamedError> {
    if code < 100 {
        use num_traits::FromPrimitive;
        let e = anchor_spl::token_2022::spl_token_2022::error::TokenError::from_u32(code)?;
        return Some(NamedError {
            source: "spl-token",
            name: format!("{e:?}"),
            message: e.to_string(),
        });
    }
    if let Some(e) = aidx_errors().iter().find(|e| e.code == code) {
        return Some(NamedError {
            source: "aidx",
            name: e.name.clone(),
            message: e.msg.clone(),
        });
    }
    if let Some(e) = ANCHOR_ERRORS.iter().find(|e| u32::from(**e) == code) {
        return Some(NamedError {
            source: "anchor",
            name: e.name(),
            message: e.to_string(),
        });
    }
    PYTH_ERRORS
        .iter()
        .find(|e| u32::from(**e) == code)
        .map(|e| NamedError {
            source: "pyth",
            name: e.name(),
            message: e.to_string(),
        })
}

/// An instruction error in words.
pub fn instruction_error(e: &InstructionError) -> String {
    match e {
        InstructionError::Custom(code) => match custom_error(*code) {
            Some(named) => format!("{named} (code {code})"),
            None => format!("custom program error {code}"),
        },
        other => format!("{other}"),
    }
}

/// A transaction error in words: which instruction failed and why.
pub fn transaction_error(e: &TransactionError) -> String {
    match e {
        TransactionError::InstructionError(ix, ie) => {
            format!(
                "transaction failed at instruction {ix}: {}",
                instruction_error(ie)
            )
        }
        other => format!("transaction failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidx::errors::AidxError;

    #[test]
    fn every_aidx_error_is_named_from_the_idl() {
        assert!(aidx_errors().len() > 100);
        let e = AidxError::InsufficientShares;
        let named = custom_error(u32::from(e)).unwrap();
        assert_eq!(named.source, "aidx");
        assert_eq!(named.name, e.name());
        assert_eq!(named.message, e.to_string());
    }

    #[test]
    fn framework_token_and_oracle_errors_are_named() {
        let named = custom_error(u32::from(AnchorError::ConstraintSeeds)).unwrap();
        assert_eq!(
            (named.source, named.name.as_str()),
            ("anchor", "ConstraintSeeds")
        );
        let named = custom_error(1).unwrap();
        assert_eq!(
            (named.source, named.name.as_str()),
            ("spl-token", "InsufficientFunds")
        );
        let named = custom_error(16000).unwrap();
        assert_eq!((named.source, named.name.as_str()), ("pyth", "PriceTooOld"));
        assert_eq!(custom_error(99), None);
        let codes: std::collections::BTreeSet<u32> =
            ANCHOR_ERRORS.iter().map(|e| u32::from(*e)).collect();
        assert_eq!(codes.len(), ANCHOR_ERRORS.len(), "no duplicate codes");
        assert_eq!(
            transaction_error(&TransactionError::InstructionError(
                1,
                InstructionError::Custom(1)
            )),
            "transaction failed at instruction 1: spl-token InsufficientFunds: Insufficient funds (code 1)"
        );
    }
}
