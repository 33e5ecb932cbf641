//! Index parameters, each with its allowed bounds and a named error when outside them.

use crate::errors::AidxError;
use crate::math::{BPS_SCALE, WEIGHT_SCALE};
use anchor_lang::prelude::*;

/// precision: WEIGHT_SCALE. Per-constituent cap bounds (15%-20%).
pub const MIN_MAX_WEIGHT: u64 = WEIGHT_SCALE / 100 * 15;
pub const MAX_MAX_WEIGHT: u64 = WEIGHT_SCALE / 100 * 20;
/// precision: WEIGHT_SCALE. Relative rebalance band bounds (5%-50% of target; default 20%).
pub const MIN_BAND: u64 = WEIGHT_SCALE / 100 * 5;
pub const MAX_BAND: u64 = WEIGHT_SCALE / 100 * 50;
/// precision: WEIGHT_SCALE. Unlock-cliff haircut bounds (25%-50% of the cap-weighted target).
pub const MIN_UNLOCK_HAIRCUT: u64 = WEIGHT_SCALE / 100 * 25;
pub const MAX_UNLOCK_HAIRCUT: u64 = WEIGHT_SCALE / 100 * 50;
/// precision: WEIGHT_SCALE. Pure-play share when the bucket split is on (50%-90%); 0 is off.
pub const MIN_PURE_PLAY_SHARE: u64 = WEIGHT_SCALE / 100 * 50;
pub const MAX_PURE_PLAY_SHARE: u64 = WEIGHT_SCALE / 100 * 90;
/// precision: BPS. Upper bounds of the fees: mint and redeem 1%, management 5% a year.
pub const MAX_MINT_FEE_BPS: u16 = 100;
pub const MAX_REDEEM_FEE_BPS: u16 = 100;
pub const MAX_MANAGEMENT_FEE_BPS: u16 = 500;
/// Oracle price age bounds, seconds.
pub const MIN_ORACLE_MAX_AGE_SECS: u32 = 5;
pub const MAX_ORACLE_MAX_AGE_SECS: u32 = 600;
/// Bounds of the age of the prices a trade (single-asset mint or redeem, rebalance swap) is
/// priced at, seconds; at most the oracle max age.
pub const MIN_TRADE_MAX_AGE_SECS: u16 = 1;
pub const DEFAULT_TRADE_MAX_AGE_SECS: u16 = 10;
/// precision: BPS. Bounds of the widest confidence / price accepted.
pub const MIN_ORACLE_MAX_CONF_BPS: u16 = 1;
pub const MAX_ORACLE_MAX_CONF_BPS: u16 = 500;
/// Dutch-auction length bounds, seconds (10 minutes to 7 days).
pub const MIN_AUCTION_DURATION_SECS: u32 = 600;
pub const MAX_AUCTION_DURATION_SECS: u32 = 7 * 86_400;
/// precision: BPS. Bound of the largest reward a rebalancing caller can earn.
pub const MAX_AUCTION_REWARD_BPS: u16 = 200;
/// Rebalance policy: the length of the window after new targets in which out-of-band
/// constituents may be traded, seconds (0: any time). At least the auction's length, at most
/// the review period. Default a day: `aidx backtest --policies` (BENCHMARKS.md, "Rebalance
/// policies") measured trading only after each review at under half a full rebalance's
/// turnover; trading whenever a constituent leaves its band, at about four times it.
pub const DEFAULT_REBALANCE_WINDOW_SECS: u32 = 86_400;
/// Where a swap clips an out-of-band leg: at its target.
pub const CLIP_TARGET: u8 = 0;
/// Where a swap clips an out-of-band leg: just inside its band's inner edge (the no-trade
/// region's boundary; the in-band leg it trades against still stops at its target).
pub const CLIP_EDGE: u8 = 1;
/// Membership defaults: 20 members, a buffer of 2 ranks (so the table's 24 rows hold the
/// members and the entrants while exits wind down), leave at once under $4M of volume or after
/// two reviews in a row under the $5M entry floor (see `math::membership`).
pub const DEFAULT_MAX_MEMBERS: u8 = 20;
pub const DEFAULT_RANK_BUFFER: u8 = 2;
pub use crate::math::membership::{DEFAULT_EXIT_VOLUME_USD, DEFAULT_REVIEWS_UNDER_ENTRY};
/// Bound of `reviews_under_entry`.
pub const MAX_REVIEWS_UNDER_ENTRY: u8 = 8;
use crate::math::methodology::DEFAULT_MIN_VOLUME_USD;
/// Review period bounds, seconds (7 days to one year; default a quarter).
pub const MIN_REVIEW_PERIOD_SECS: u32 = 7 * 86_400;
pub const MAX_REVIEW_PERIOD_SECS: u32 = 366 * 86_400;

/// Every tunable of an index. Stored inside [`crate::state::Index`].
// Plain `repr(C)` + Pod rather than `#[zero_copy]`: it is both an instruction argument (Borsh)
// and part of the zero-copy index, and `#[zero_copy]` with the Borsh derives implements the
// IDL trait twice.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    AnchorSerialize,
    AnchorDeserialize,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(C)]
pub struct IndexParams {
    /// precision: WEIGHT_SCALE. Largest weight of one constituent.
    pub max_weight: u64,
    /// precision: WEIGHT_SCALE. Relative band around target before a trade is forced.
    pub band: u64,
    /// precision: WEIGHT_SCALE. Underweighting of tokens facing an unlock cliff.
    pub unlock_haircut: u64,
    /// precision: WEIGHT_SCALE. Share of the pure-play bucket; 0 turns the split off.
    pub pure_play_share: u64,
    /// Largest accepted age of an oracle price, seconds.
    pub oracle_max_age_secs: u32,
    /// Length of the rebalance Dutch auction, seconds.
    pub auction_duration_secs: u32,
    /// Period between methodology reviews, seconds.
    pub review_period_secs: u32,
    /// precision: BPS. Fee on minting, taken in shares.
    pub mint_fee_bps: u16,
    /// precision: BPS. Fee on redeeming, taken in shares.
    pub redeem_fee_bps: u16,
    /// precision: BPS. Annual management fee, streamed by minting shares.
    pub management_fee_bps: u16,
    /// precision: BPS. Widest confidence / price accepted from the oracle.
    pub oracle_max_conf_bps: u16,
    /// precision: BPS. Largest reward paid to a rebalancing caller.
    pub auction_max_reward_bps: u16,
    /// Largest age (clock time minus publish time) of every price a trade is priced at,
    /// seconds; tighter than `oracle_max_age_secs`, so that whoever stores a price cannot choose
    /// an old one to trade against the index.
    pub trade_max_age_secs: u16,
    /// Rebalance window: seconds after new targets (a review, a wind-down, a quarantine, new
    /// parameters) during which out-of-band constituents may be traded; 0: any time.
    pub rebalance_window_secs: u32,
    /// precision: BPS of weight. Outside the window, a constituent out of band above this
    /// weight may still be sold (a cap breach); 0: no exception.
    pub breach_weight_bps: u16,
    /// Where a swap clips an out-of-band leg: [`CLIP_TARGET`] or [`CLIP_EDGE`].
    pub clip: u8,
    /// Membership: at most this many members (0: every liquid row). At most the table, less
    /// room for entrants while exits wind down.
    pub max_members: u8,
    /// Membership: whole USD of average daily volume under which a member leaves at once (the
    /// entry floor is the methodology's $5M).
    pub exit_volume_usd: u32,
    /// Membership: ranks of buffer on each side of `max_members`.
    pub rank_buffer: u8,
    /// Membership: a member under the entry floor at this many reviews in a row leaves (0:
    /// never for this).
    pub reviews_under_entry: u8,
    pub _padding: [u8; 2],
}

impl Default for IndexParams {
    /// The methodology's defaults: cap 15%, band 20%, haircut 25%, no bucket split,
    /// no fees, prices at most 60 s old (10 s for trades) with confidence within 2%, a 6-hour
    /// auction with a reward of at most 0.5%, quarterly reviews; rebalancing in the day after
    /// new targets, out-of-band legs clipped at their band's edge, no cap-breach exception.
    fn default() -> Self {
        IndexParams {
            max_weight: MIN_MAX_WEIGHT,
            band: WEIGHT_SCALE / 100 * 20,
            unlock_haircut: MIN_UNLOCK_HAIRCUT,
            pure_play_share: 0,
            oracle_max_age_secs: Self::default_max_age() as u32,
            auction_duration_secs: 6 * 3_600,
            review_period_secs: 91 * 86_400,
            mint_fee_bps: 0,
            redeem_fee_bps: 0,
            management_fee_bps: 0,
            oracle_max_conf_bps: 200,
            auction_max_reward_bps: 50,
            trade_max_age_secs: DEFAULT_TRADE_MAX_AGE_SECS,
            rebalance_window_secs: DEFAULT_REBALANCE_WINDOW_SECS,
            breach_weight_bps: 0,
            clip: CLIP_EDGE,
            max_members: DEFAULT_MAX_MEMBERS,
            exit_volume_usd: DEFAULT_EXIT_VOLUME_USD as u32,
            rank_buffer: DEFAULT_RANK_BUFFER,
            reviews_under_entry: DEFAULT_REVIEWS_UNDER_ENTRY,
            _padding: [0; 2],
        }
    }
}

impl IndexParams {
    /// The methodology's parameters for this index (liquidity floors at their defaults): what
    /// `recompute_targets` runs and what the keeper runs off-chain.
    pub fn methodology(&self) -> crate::math::methodology::MethodologyParams {
        use crate::math::methodology::{DEFAULT_MIN_DEPTH_USD, DEFAULT_MIN_VOLUME_USD};
        crate::math::methodology::MethodologyParams {
            max_weight: self.max_weight,
            unlock_haircut: self.unlock_haircut,
            pure_play_share: self.pure_play_share,
            min_volume_usd: DEFAULT_MIN_VOLUME_USD as u128,
            min_depth_usd: DEFAULT_MIN_DEPTH_USD as u128,
        }
    }

    /// The membership rules' parameters for this index.
    pub fn membership(&self) -> crate::math::membership::MembershipParams {
        crate::math::membership::MembershipParams {
            max_constituents: usize::from(self.max_members),
            rank_buffer: usize::from(self.rank_buffer),
            exit_volume_usd: u128::from(self.exit_volume_usd),
            reviews_under_entry: self.reviews_under_entry,
        }
    }

    /// The default oracle max age, seconds.
    pub const fn default_max_age() -> i64 {
        60
    }

    /// Every parameter within its bound, each failure with its own error.
    pub fn validate(&self) -> Result<()> {
        require!(
            (MIN_MAX_WEIGHT..=MAX_MAX_WEIGHT).contains(&self.max_weight),
            AidxError::InvalidMaxWeight
        );
        require!(
            (MIN_BAND..=MAX_BAND).contains(&self.band),
            AidxError::InvalidBand
        );
        require!(
            (MIN_UNLOCK_HAIRCUT..=MAX_UNLOCK_HAIRCUT).contains(&self.unlock_haircut),
            AidxError::InvalidUnlockHaircut
        );
        require!(
            self.pure_play_share == 0
                || (MIN_PURE_PLAY_SHARE..=MAX_PURE_PLAY_SHARE).contains(&self.pure_play_share),
            AidxError::InvalidPurePlayShare
        );
        require!(
            self.mint_fee_bps <= MAX_MINT_FEE_BPS,
            AidxError::InvalidMintFee
        );
        require!(
            self.redeem_fee_bps <= MAX_REDEEM_FEE_BPS,
            AidxError::InvalidRedeemFee
        );
        require!(
            self.management_fee_bps <= MAX_MANAGEMENT_FEE_BPS,
            AidxError::InvalidManagementFee
        );
        require!(
            (MIN_ORACLE_MAX_AGE_SECS..=MAX_ORACLE_MAX_AGE_SECS).contains(&self.oracle_max_age_secs),
            AidxError::InvalidOracleMaxAge
        );
        require!(
            (MIN_ORACLE_MAX_CONF_BPS..=MAX_ORACLE_MAX_CONF_BPS).contains(&self.oracle_max_conf_bps),
            AidxError::InvalidOracleConfidence
        );
        require!(
            (MIN_AUCTION_DURATION_SECS..=MAX_AUCTION_DURATION_SECS)
                .contains(&self.auction_duration_secs),
            AidxError::InvalidAuctionDuration
        );
        require!(
            self.auction_max_reward_bps <= MAX_AUCTION_REWARD_BPS,
            AidxError::InvalidAuctionReward
        );
        require!(
            (MIN_REVIEW_PERIOD_SECS..=MAX_REVIEW_PERIOD_SECS).contains(&self.review_period_secs),
            AidxError::InvalidReviewPeriod
        );
        require!(
            self.trade_max_age_secs >= MIN_TRADE_MAX_AGE_SECS
                && u32::from(self.trade_max_age_secs) <= self.oracle_max_age_secs,
            AidxError::InvalidTradeMaxAge
        );
        require!(
            self.rebalance_window_secs == 0
                || (self.auction_duration_secs..=self.review_period_secs)
                    .contains(&self.rebalance_window_secs),
            AidxError::InvalidRebalanceWindow
        );
        require!(
            self.breach_weight_bps == 0
                || (u64::from(self.breach_weight_bps) * (WEIGHT_SCALE / BPS_SCALE)
                    >= self.max_weight
                    && self.breach_weight_bps <= BPS_SCALE as u16),
            AidxError::InvalidBreachWeight
        );
        require!(
            self.clip == CLIP_TARGET || self.clip == CLIP_EDGE,
            AidxError::InvalidClip
        );
        // At most the table; enough members for the cap to be feasible.
        require!(
            usize::from(self.max_members) <= crate::state::MAX_CONSTITUENTS
                && (self.max_members == 0
                    || u64::from(self.max_members) * self.max_weight >= WEIGHT_SCALE),
            AidxError::InvalidMaxMembers
        );
        require!(
            self.max_members == 0 || self.rank_buffer <= self.max_members / 2,
            AidxError::InvalidRankBuffer
        );
        require!(
            u64::from(self.exit_volume_usd) <= DEFAULT_MIN_VOLUME_USD,
            AidxError::InvalidExitVolume
        );
        require!(
            self.reviews_under_entry <= MAX_REVIEWS_UNDER_ENTRY,
            AidxError::InvalidReviewsUnderEntry
        );
        require!(self._padding == [0; 2], AidxError::InvalidPadding);
        Ok(())
    }
}
