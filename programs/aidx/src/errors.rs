//! The program's one error enum. Codes start at 6000 in declaration order; never reorder.

use crate::math::methodology::MethodologyError;
use crate::math::MathError;
use anchor_lang::prelude::*;

#[error_code]
pub enum AidxError {
    // ---- parameters (6000..)
    #[msg("Per-constituent cap must be between 15% and 20%")]
    InvalidMaxWeight,
    #[msg("Rebalance band must be between 5% and 50% of target")]
    InvalidBand,
    #[msg("Unlock haircut must be between 25% and 50%")]
    InvalidUnlockHaircut,
    #[msg("Pure-play share must be 0 (split off) or between 50% and 90%")]
    InvalidPurePlayShare,
    #[msg("Mint fee above its upper bound")]
    InvalidMintFee,
    #[msg("Redeem fee above its upper bound")]
    InvalidRedeemFee,
    #[msg("Management fee above its upper bound")]
    InvalidManagementFee,
    #[msg("Oracle max age out of bounds")]
    InvalidOracleMaxAge,
    #[msg("Oracle confidence bound out of bounds")]
    InvalidOracleConfidence,
    #[msg("Auction duration out of bounds")]
    InvalidAuctionDuration,
    #[msg("Auction reward above its upper bound")]
    InvalidAuctionReward,
    #[msg("Review period out of bounds")]
    InvalidReviewPeriod,
    #[msg("Padding bytes must be zero")]
    InvalidPadding,
    #[msg("A role must not be the default public key")]
    InvalidRole,

    // ---- roles
    #[msg("Signer is not the index admin")]
    UnauthorizedAdmin,

    // ---- constituents
    #[msg("The constituent table is full")]
    TooManyConstituents,
    #[msg("This mint is already a constituent")]
    DuplicateConstituent,
    #[msg("This Pyth feed id is already used by another constituent")]
    DuplicateFeedId,
    #[msg("A constituent needs a Pyth feed id")]
    MissingFeedId,
    #[msg("Unknown sub-sector")]
    InvalidSubSector,
    #[msg("Unknown bucket")]
    InvalidBucket,
    #[msg("The seed composition can only be stated before the first mint")]
    SeedCompositionLocked,
    #[msg("The share mint cannot be a constituent")]
    ShareMintAsConstituent,
    #[msg("Token-2022 mint with a close authority: it could be closed and re-created with other extensions")]
    MintClosable,
    #[msg("Token-2022 mint with a transfer fee: amounts received would differ from amounts sent")]
    MintHasTransferFee,
    #[msg("Token-2022 mint with a transfer hook program or hook authority: arbitrary code on every transfer")]
    MintHasTransferHook,
    #[msg("Token-2022 mint is non-transferable")]
    MintNonTransferable,
    #[msg("Token-2022 mint freezes new accounts by default: the vault would be frozen")]
    MintDefaultFrozen,
    #[msg("Token-2022 mint has a permanent delegate that could move vault funds")]
    MintHasPermanentDelegate,
    #[msg("Token-2022 mint with confidential transfers or confidential supply: balances would leave public accounting")]
    MintConfidential,
    #[msg("Token-2022 mint with interest-bearing or scaled UI amounts: oracle prices quote UI amounts, which drift from raw units")]
    MintUiAmountScaled,
    #[msg("Token-2022 mint has an extension outside the allowed policy")]
    MintExtensionNotAllowed,
    #[msg("Mint has more decimals than the index supports (18)")]
    InvalidDecimals,
    #[msg("Mint account data is malformed")]
    InvalidMintData,

    // ---- accounts of user instructions
    #[msg("Share mint does not belong to this index")]
    ShareMintMismatch,
    #[msg("Share token account has the wrong mint")]
    ShareAccountMintMismatch,
    #[msg("Share token account is not owned by the holder")]
    ShareAccountOwnerMismatch,
    #[msg("Dead-share account does not belong to this index")]
    DeadSharesMismatch,
    #[msg("Remaining accounts must be one leg per constituent in table order: (vault, holder token account), with the mint first for rows whose token program needs it")]
    LegAccountsMismatch,
    #[msg("One amount per constituent is required")]
    LegAmountsMismatch,
    #[msg("Leg mint is not the constituent's mint")]
    ConstituentMintMismatch,
    #[msg("Leg vault is not the constituent's vault")]
    VaultMismatch,
    #[msg("Account is not owned by the constituent's token program")]
    TokenProgramMismatch,
    #[msg("Account is not a token account")]
    InvalidTokenAccount,
    #[msg("Token account has the wrong mint")]
    TokenAccountMintMismatch,
    #[msg("Token account is not owned by the holder")]
    TokenAccountOwnerMismatch,
    #[msg("Account must be writable")]
    AccountNotWritable,

    // ---- amounts
    #[msg("Share amount must be positive")]
    ZeroShares,
    #[msg("The first mint must be at least one whole share")]
    FirstMintTooSmall,
    #[msg("The basket is empty: state a seed composition first")]
    EmptyBasket,
    #[msg("A leg needs more than its maximum amount in")]
    MaxAmountInExceeded,
    #[msg("Shares out below the minimum")]
    MinSharesOutNotMet,
    #[msg("A leg pays less than its minimum amount out")]
    MinAmountOutNotMet,
    #[msg("Skip mask names a constituent that does not exist")]
    InvalidSkipMask,
    #[msg("Redeeming this few shares pays nothing")]
    RedeemTooSmall,
    #[msg("Holder has fewer shares than requested")]
    InsufficientShares,

    // ---- oracle gate
    #[msg("Price account is not owned by the Pyth receiver program")]
    OracleWrongOwner,
    #[msg("Price account is not a PriceUpdateV2")]
    OracleWrongAccountType,
    #[msg("Price account is for another feed")]
    OracleWrongFeed,
    #[msg("Price update is not fully verified")]
    OracleNotFullyVerified,
    #[msg("Price is older than the index's max age")]
    OracleStale,
    #[msg("Price is older than the last price used for this constituent")]
    OracleOlderThanLast,
    #[msg("Price is zero or negative")]
    OracleNonPositivePrice,
    #[msg("Price confidence interval is wider than the index allows")]
    OracleConfidenceTooWide,
    #[msg("Price exponent outside the accepted range")]
    OracleBadExponent,
    #[msg("Price does not fit the index's price precision")]
    OraclePriceOutOfRange,

    // ---- pricing and weights
    #[msg("Between one price account and one per constituent is required")]
    PriceAccountsMismatch,
    #[msg("A constituent's stored price is not fresh: refresh prices first")]
    StalePrice,
    #[msg("The index has no shares yet: the first mint is in kind")]
    NotSeeded,
    #[msg("Mint is not a constituent of this index")]
    UnknownConstituent,
    #[msg("Amount must be positive")]
    ZeroAmount,
    #[msg("The deposit is worth less than one share unit")]
    DepositTooSmall,
    #[msg("The vault holds less of this constituent than the redemption needs")]
    InsufficientLiquidity,
    #[msg("A constituent's weight would end further above its cap")]
    WeightAboveCap,
    #[msg("A constituent's weight would end further outside its band")]
    WeightFurtherOutOfBand,
    #[msg("Target weight above 100%")]
    InvalidTargetWeight,
    #[msg("Target weights would sum to more than 100%")]
    TargetsExceedOne,

    // ---- methodology
    #[msg("Signer is not the methodology authority")]
    UnauthorizedMethodologyAuthority,
    #[msg("Between one methodology input row and one per constituent is required")]
    InputsLengthMismatch,
    #[msg("Methodology inputs observed in the future")]
    InputsFromFuture,
    #[msg("Methodology inputs older than the ones stored")]
    InputsOlderThanLast,
    #[msg("Targets can be recomputed once per review period, or when the admin opens a review")]
    ReviewNotDue,

    // ---- rebalancing
    #[msg("Both legs are inside their bands: no trade")]
    InsideBand,
    #[msg("The caller must pay in an underweight constituent and receive an overweight one")]
    LegNotTowardTarget,
    #[msg("The two legs of a swap must be different constituents")]
    SameConstituent,
    #[msg("Clipped at the target, the swap moves nothing")]
    NothingToTrade,

    // ---- fees, roles, pause, lifecycle
    #[msg("This operation is paused")]
    Paused,
    #[msg("Signer is not the guardian or the admin")]
    UnauthorizedGuardian,
    #[msg("The guardian can only pause; unpausing needs the admin")]
    GuardianCannotUnpause,
    #[msg("Unknown pause bits")]
    InvalidPauseFlags,
    #[msg("Signer is not the pending admin")]
    NotPendingAdmin,
    #[msg("Signer is not the fee recipient")]
    UnauthorizedFeeRecipient,
    #[msg("Fee-share account does not belong to this index")]
    FeeSharesMismatch,
    #[msg("The constituent is already winding down")]
    AlreadyWindingDown,
    #[msg("Only a winding-down constituent can be removed")]
    NotWindingDown,
    #[msg("The constituent still holds a balance")]
    ConstituentNotEmpty,

    // ---- accounting
    #[msg("Share supply does not match the share mint")]
    ShareSupplyMismatch,
    #[msg("Vault balance does not reconcile with internal accounting")]
    VaultReconciliationFailed,
    #[msg("Index invariant violated")]
    InvariantViolated,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Division by zero")]
    DivisionByZero,
    #[msg("Cap infeasible: fewer eligible constituents than 1 / cap")]
    CapInfeasible,
    #[msg("No eligible constituent")]
    NoEligibleConstituent,
    // ---- appended (codes above are fixed)
    #[msg("Trade price age must be at least 1 s and at most the oracle max age")]
    InvalidTradeMaxAge,
    #[msg("A price this trade is valued at was published longer ago than the trade max age")]
    PriceTooOldToTrade,
    #[msg("One more constituent would take in-kind mint and redeem past the account locks of one mainnet transaction")]
    BasketExceedsOneTransaction,
    #[msg("Oracle price too small for the index's precision: rounding would move it by more than 1 bp")]
    OraclePricePrecisionLost,
    #[msg("A methodology input row names a mint that is not a constituent")]
    InputsRowUnknownMint,
    #[msg("Two methodology input rows name the same constituent")]
    InputsRowDuplicate,
    #[msg(
        "Targets need every active constituent's methodology inputs observed after the last review"
    )]
    MethodologyInputsStale,
    #[msg("Targets need every price published within the trade max age")]
    PriceTooOldForTargets,
    #[msg(
        "The index is not open yet: the admin opens it (open_index) once its constituents are set"
    )]
    IndexNotOpen,
    #[msg("The index is already open")]
    IndexAlreadyOpen,
    #[msg("Only a leg that cannot move (frozen vault, paused mint) may be skipped")]
    SkippedLegCanMove,
    #[msg("Two price accounts of the same constituent")]
    PriceAccountDuplicate,
    #[msg("Targets need every active constituent's methodology inputs from one observation: some rows were not posted with the latest")]
    MethodologyInputsIncomplete,
    #[msg("The constituent is quarantined: it cannot be traded on its own")]
    ConstituentQuarantined,
    #[msg("The constituent is not quarantined")]
    NotQuarantined,
    #[msg("The constituent is already quarantined")]
    AlreadyQuarantined,
    #[msg("Only the admin or guardian may quarantine a constituent whose vault is not frozen and whose mint is not paused")]
    QuarantineNeedsProof,
    #[msg("Only the admin or guardian may release a quarantine they set")]
    QuarantineReleaseUnauthorized,
    #[msg("The constituent still cannot move: its vault is frozen or its mint paused")]
    ConstituentCannotMove,
    #[msg("A constituent can be written off only after 30 days in quarantine")]
    WriteOffTooEarly,
    #[msg("A quarantined constituent was never priced: shares cannot be minted until it is priced or released")]
    QuarantineUnpriced,
    #[msg("Nothing outside the quarantine is priced to pay for the quarantined slice with")]
    QuarantineCannotBePaid,
    #[msg("Only a constituent that still cannot move (frozen vault, paused mint) can be written off: release it, and holders redeem it in kind")]
    WriteOffCanMove,
    #[msg("A quarantine lasts at least an hour before it can be released")]
    ReleaseTooEarly,
    #[msg("Rebalance window must be 0 (any time) or between the auction's length and the review period")]
    InvalidRebalanceWindow,
    #[msg("Breach weight must be 0 (none) or between the cap and 100%")]
    InvalidBreachWeight,
    #[msg("Clip must be 0 (target) or 1 (band edge)")]
    InvalidClip,
    #[msg("Outside the rebalance window only a constituent out of band above the breach weight can be sold")]
    OutsideRebalanceWindow,
    #[msg(
        "Max members must be at most the table's size, and enough for the cap (at least 1 / cap)"
    )]
    InvalidMaxMembers,
    #[msg("Rank buffer must be at most half the max members (when there is a count)")]
    InvalidRankBuffer,
    #[msg("Exit volume must be at most the entry floor ($5M)")]
    InvalidExitVolume,
    #[msg("Reviews under the entry floor must be at most 8")]
    InvalidReviewsUnderEntry,
    #[msg("A liquid constituent has no posted rank")]
    RankMissing,
    #[msg("Two liquid constituents have the same posted rank")]
    RankDuplicate,
}

impl From<MathError> for AidxError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::Overflow => AidxError::MathOverflow,
            MathError::DivisionByZero => AidxError::DivisionByZero,
        }
    }
}

impl From<MethodologyError> for AidxError {
    fn from(e: MethodologyError) -> Self {
        match e {
            MethodologyError::Empty => AidxError::NoEligibleConstituent,
            MethodologyError::InfeasibleCap { .. } => AidxError::CapInfeasible,
            MethodologyError::InvalidCap(_) => AidxError::InvalidMaxWeight,
            MethodologyError::InvalidShare(_) => AidxError::InvalidPurePlayShare,
            MethodologyError::InvalidHaircut(_) => AidxError::InvalidUnlockHaircut,
            MethodologyError::Math(m) => m.into(),
        }
    }
}
