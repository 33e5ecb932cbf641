//! The index account: roles, parameters, share accounting and the constituent table.

use super::{
    Constituent, ConstituentStatus, IndexParams, Quarantine, CHECKED_LEG_ACCOUNTS, CLIP_EDGE,
    INDEX_SEED, MAX_CONSTITUENTS, MAX_LEG_ACCOUNTS, PAUSE_ALL, PLAIN_LEG_ACCOUNTS,
};
use crate::errors::AidxError;
use crate::math::nav::{self, Holding, PriceSide, WeightViolation};
use crate::math::shares::DEAD_SHARES;
use crate::math::{mul_div, Rounding, BPS_SCALE, WEIGHT_SCALE};
use anchor_lang::prelude::*;

/// precision: BPS. How much a trade widens a price's confidence for every second since the
/// price was published (see [`Index::trade_holdings`]): 10 s, the default trade max age, add
/// 0.2% on each side, many times a 10 s move of a liquid token.
pub const AGE_SPREAD_BPS_PER_SEC: u64 = 2;

/// The edge clip stops a row `half band / EDGE_INSET_DIVISOR` inside its band's edge.
pub const EDGE_INSET_DIVISOR: u64 = 100;

/// What [`Index::accrue_fee`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrual {
    /// The supply synced down to the share mint's, `(old, new)`, if it differed.
    pub synced: Option<(u64, u64)>,
    /// Fee shares added to the supply (the program mints them to the fee-share account).
    pub fee: u64,
    /// Seconds since the previous accrual.
    pub elapsed: i64,
    /// The management fee rate charged, bps a year.
    pub rate: u16,
}

/// The index, PDA `["index", share_mint]`. Zero-copy: the constituent table is large.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Index {
    /// Can add constituents and change parameters.
    pub admin: Pubkey,
    /// Proposed next admin (two-step transfer); default when none.
    pub pending_admin: Pubkey,
    /// Posts methodology inputs.
    pub methodology_authority: Pubkey,
    /// Can pause operations.
    pub guardian: Pubkey,
    /// Claims the fee shares (management, mint and redeem fees) collected in `fee_shares`.
    pub fee_recipient: Pubkey,
    /// The share mint; its mint and freeze authority is this account.
    pub share_mint: Pubkey,
    /// Token account of `share_mint` owned by this account, holding the dead shares.
    pub dead_shares: Pubkey,
    /// Token account of `share_mint` owned by this account, collecting fee shares until the
    /// fee recipient claims them: PDA `["fee_shares", index]`.
    pub fee_shares: Pubkey,
    pub params: IndexParams,
    /// Raw shares. Mirror of the share mint supply, reconciled after every supply change.
    pub share_supply: u64,
    /// Unix time of creation.
    pub created_at: i64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the dead-share account PDA.
    pub dead_shares_bump: u8,
    /// Number of rows used in `constituents`.
    pub num_constituents: u8,
    /// 1 when the admin opened a review: targets may be recomputed before the period ends.
    pub review_open: u8,
    /// Bump of the fee-share account PDA.
    pub fee_shares_bump: u8,
    /// Paused operations, bits `PAUSE_*`. Redeem in kind has no bit: it is never paused.
    pub paused: u8,
    /// 1 once the admin opened the index (`open_index`): the first mint may seed it.
    pub opened: u8,
    pub _padding: [u8; 1],
    /// Unix time targets were last recomputed (0: never).
    pub last_review_at: i64,
    /// Unix time the current imbalance (some constituent out of band) was first recorded: the
    /// start of the rebalance auction. 0: none recorded.
    pub imbalance_started_at: i64,
    /// Unix time the management fee was last accrued.
    pub last_fee_accrual_at: i64,
    /// Unix time targets last changed (a review, a wind-down, a quarantine or its end, new
    /// parameters; the index's creation before any): the rebalance window opens then.
    pub window_opened_at: i64,
    /// Unix time a breach (outside the window) was first recorded: the start of its own
    /// auction. 0: none recorded.
    pub breach_started_at: i64,
    pub _reserved: [u64; 10],
    pub constituents: [Constituent; MAX_CONSTITUENTS],
}

/// Account size with the 8-byte discriminator. Stays under the 10 KiB that can be allocated
/// by one instruction.
pub const INDEX_ACCOUNT_SIZE: usize = 8 + core::mem::size_of::<Index>();
const _: () = assert!(INDEX_ACCOUNT_SIZE <= 10_240);

impl Index {
    /// The rows in use.
    pub fn constituents(&self) -> &[Constituent] {
        &self.constituents[..self.num_constituents as usize]
    }

    pub fn constituents_mut(&mut self) -> &mut [Constituent] {
        let n = self.num_constituents as usize;
        &mut self.constituents[..n]
    }

    pub fn is_seeded(&self) -> bool {
        self.share_supply > 0
    }

    /// Seeds that sign for the index PDA.
    pub fn signer_seeds(&self) -> [&[u8]; 3] {
        [
            INDEX_SEED,
            self.share_mint.as_ref(),
            core::slice::from_ref(&self.bump),
        ]
    }

    /// Fails with [`AidxError::Paused`] when operation `bit` is paused.
    pub fn require_not_paused(&self, bit: u8) -> Result<()> {
        require!(self.paused & bit == 0, AidxError::Paused);
        Ok(())
    }

    /// Row of `mint` in the table.
    pub fn position_of(&self, mint: &Pubkey) -> Result<usize> {
        self.constituents()
            .iter()
            .position(|c| c.mint == *mint)
            .ok_or_else(|| error!(AidxError::UnknownConstituent))
    }

    /// Every constituent as a trade values it: the stored price with its confidence widened
    /// by [`AGE_SPREAD_BPS_PER_SEC`] of the price for every second since it was published
    /// (rounded up). Whoever stores a price chooses which verified update within the trade max
    /// age it is; the older the one chosen, the wider the spread it trades at, so choosing an
    /// old price pays only when the market moved by more than that spread since.
    ///
    /// A quarantined row is left out (balance 0): it is valued apart, at its quarantine price
    /// ([`Index::trade_nav`]), and weighed apart ([`Index::band_holdings`]).
    pub fn trade_holdings(&self, clock: &Clock) -> Result<Vec<Holding>> {
        self.constituents()
            .iter()
            .zip(self.band_holdings())
            .map(|(c, mut h)| {
                if c.is_quarantined() {
                    return Ok(h);
                }
                h.conf = Self::widened_conf(c, clock)?;
                Ok(h)
            })
            .collect()
    }

    /// precision: USD_SCALE. `c`'s confidence widened by [`AGE_SPREAD_BPS_PER_SEC`] of its
    /// price for every second since it was published (rounded up).
    pub fn widened_conf(c: &Constituent, clock: &Clock) -> Result<u64> {
        let age = clock.unix_timestamp.saturating_sub(c.publish_time).max(0) as u128;
        let widen = mul_div(
            c.price as u128,
            age.checked_mul(AGE_SPREAD_BPS_PER_SEC as u128)
                .ok_or(AidxError::MathOverflow)?,
            BPS_SCALE as u128,
            Rounding::Up,
        )
        .map_err(AidxError::from)?;
        Ok((c.conf as u128)
            .checked_add(widen)
            .and_then(|x| u64::try_from(x).ok())
            .ok_or(AidxError::MathOverflow)?)
    }

    /// The holdings weights and bands are measured on: every row, a quarantined one at
    /// balance 0. With [`Index::band_targets`] the index is weighed as if the quarantined rows
    /// were not there, so a row set aside neither blocks nor forces a trade of the others.
    pub fn band_holdings(&self) -> Vec<Holding> {
        self.constituents()
            .iter()
            .zip(self.holdings())
            .map(|(c, mut h)| {
                if c.is_quarantined() {
                    h.balance = 0;
                }
                h
            })
            .collect()
    }

    /// precision: WEIGHT_SCALE. Weights at mid of [`Index::band_holdings`].
    pub fn band_weights(&self) -> Result<Vec<u64>> {
        Ok(nav::weights(&self.band_holdings()).map_err(AidxError::from)?)
    }

    /// `(kept, total)`: the stored targets of the rows not quarantined, and of all rows.
    fn target_shares(&self) -> Result<(u128, u128)> {
        let total: u128 = self.targets().iter().map(|t| *t as u128).sum();
        let set_aside: u128 = self
            .constituents()
            .iter()
            .filter(|c| c.is_quarantined())
            .map(|c| c.target_weight as u128)
            .sum();
        Ok((
            total
                .checked_sub(set_aside)
                .ok_or(AidxError::MathOverflow)?,
            total,
        ))
    }

    /// precision: WEIGHT_SCALE. The targets bands are measured against: a quarantined row's is
    /// 0 and the others are scaled up pro rata (rounded down) to keep their sum, so that with
    /// [`Index::band_holdings`] the rest is weighed as an index of its own, and with
    /// [`Index::band_cap`] capped as one. The stored targets are unchanged: a released row
    /// takes its own back.
    pub fn band_targets(&self) -> Result<Vec<u64>> {
        let (kept, total) = self.target_shares()?;
        self.constituents()
            .iter()
            .map(|c| {
                if c.is_quarantined() || kept == 0 {
                    return Ok(0);
                }
                if kept == total {
                    return Ok(c.target_weight);
                }
                let t = mul_div(c.target_weight as u128, total, kept, Rounding::Down)
                    .map_err(AidxError::from)?;
                Ok(u64::try_from(t).map_err(|_| AidxError::MathOverflow)?)
            })
            .collect()
    }

    /// precision: WEIGHT_SCALE. The cap as [`Index::band_holdings`] weigh it: scaled up with
    /// the targets (rounded down), so that setting a row aside moves no other row above or
    /// below its cap: only the quarantined row's own weight leaves the denominator.
    pub fn band_cap(&self) -> Result<u64> {
        let (kept, total) = self.target_shares()?;
        if kept == 0 || kept == total {
            return Ok(self.params.max_weight);
        }
        let c = mul_div(self.params.max_weight as u128, total, kept, Rounding::Down)
            .map_err(AidxError::from)?;
        Ok(u64::try_from(c).map_err(|_| AidxError::MathOverflow)?)
    }

    /// precision: USD_SCALE. The price per whole token a share minted now pays for its slice of
    /// quarantined row `c`. A row quarantined on proof (frozen vault, paused mint) has a live
    /// feed: its stored price must be within the trade age, and the price is the higher of its
    /// quarantine price and that price plus its age-widened confidence (a thaw could pay the
    /// slice out at the market the next moment). A row quarantined by the authority (its feed
    /// may be dead) pays its quarantine price, which must exist.
    pub fn quarantine_price_now(&self, c: &Constituent, clock: &Clock) -> Result<u64> {
        if c.quarantine == Quarantine::Authority as u8 {
            require!(c.quarantine_price > 0, AidxError::QuarantineUnpriced);
            return Ok(c.quarantine_price);
        }
        require!(c.price > 0, AidxError::QuarantineUnpriced);
        require!(
            clock.unix_timestamp.saturating_sub(c.publish_time)
                <= i64::from(self.params.trade_max_age_secs),
            AidxError::PriceTooOldToTrade
        );
        let high = c
            .price
            .checked_add(Self::widened_conf(c, clock)?)
            .ok_or(AidxError::MathOverflow)?;
        Ok(c.quarantine_price.max(high))
    }

    /// Every constituent as NAV sees it, with its stored price.
    pub fn holdings(&self) -> Vec<Holding> {
        self.constituents()
            .iter()
            .map(|c| Holding {
                balance: c.balance,
                decimals: c.decimals,
                price: c.price,
                conf: c.conf,
            })
            .collect()
    }

    pub fn targets(&self) -> Vec<u64> {
        self.constituents()
            .iter()
            .map(|c| c.target_weight)
            .collect()
    }

    /// A stored price is fresh when it was stored in this slot or published within the max age.
    pub fn price_is_fresh(&self, c: &Constituent, clock: &Clock) -> bool {
        c.price > 0
            && (c.price_slot == clock.slot
                || clock.unix_timestamp.saturating_sub(c.publish_time)
                    <= self.params.oracle_max_age_secs as i64)
    }

    /// The rows whose price an operation is valued at: every constituent that holds a balance,
    /// and the rows in `also`; never a quarantined row (valued at its quarantine price, see
    /// [`Index::trade_nav`]).
    fn priced_rows<'a>(&'a self, also: &'a [usize]) -> impl Iterator<Item = &'a Constituent> {
        self.constituents()
            .iter()
            .enumerate()
            .filter(move |(i, c)| (c.balance > 0 || also.contains(i)) && !c.is_quarantined())
            .map(|(_, c)| c)
    }

    /// Some row is quarantined.
    pub fn any_quarantined(&self) -> bool {
        self.constituents().iter().any(|c| c.is_quarantined())
    }

    /// Fails with [`AidxError::ConstituentQuarantined`] when a row in `rows` is quarantined:
    /// it cannot be traded on its own.
    pub fn require_not_quarantined(&self, rows: &[usize]) -> Result<()> {
        for &i in rows {
            if self.constituents()[i].is_quarantined() {
                msg!("constituent {} is quarantined", i);
                return err!(AidxError::ConstituentQuarantined);
            }
        }
        Ok(())
    }

    /// precision: USD_SCALE. Value of `amount` raw units of quarantined row `c` at `price`
    /// ([`Index::quarantine_price_now`]), rounded up: what shares minted during the quarantine
    /// pay for it.
    pub fn quarantine_value_of(c: &Constituent, amount: u64, price: u64) -> Result<u128> {
        let h = Holding {
            balance: amount,
            decimals: c.decimals,
            price,
            conf: 0,
        };
        Ok(h.value(PriceSide::Mid, Rounding::Up)
            .map_err(AidxError::from)?)
    }

    /// precision: USD_SCALE. The NAV a single-asset trade is valued at, from `holdings` (the
    /// [`Index::trade_holdings`]) at `side`. A quarantined row counts only on the high side (what
    /// a mint buys into), at [`Index::quarantine_price_now`]: a share minted during the
    /// quarantine pays for its slice of the row, and a share redeemed for another asset leaves
    /// its slice with those who stay.
    pub fn trade_nav(&self, holdings: &[Holding], side: PriceSide, clock: &Clock) -> Result<u128> {
        let rounding = match side {
            PriceSide::High => Rounding::Up,
            _ => Rounding::Down,
        };
        self.constituents()
            .iter()
            .zip(holdings)
            .try_fold(0u128, |acc, (c, h)| {
                let v = match (c.is_quarantined(), side) {
                    (false, _) => h.value(side, rounding).map_err(AidxError::from)?,
                    (true, PriceSide::High) if c.balance > 0 => {
                        let price = self.quarantine_price_now(c, clock)?;
                        Self::quarantine_value_of(c, c.balance, price)?
                    }
                    (true, _) => 0,
                };
                Ok(acc.checked_add(v).ok_or(AidxError::MathOverflow)?)
            })
    }

    /// Every priced row (see [`Index::priced_rows`]) has a fresh price.
    pub fn require_fresh_prices(&self, clock: &Clock, also: &[usize]) -> Result<()> {
        for c in self.priced_rows(also) {
            require!(self.price_is_fresh(c, clock), AidxError::StalePrice);
        }
        Ok(())
    }

    /// What a trade (single-asset mint or redeem, rebalance swap) is valued at: every priced
    /// row has a fresh price, and one published at most `trade_max_age_secs` ago. (A price
    /// stored in this slot is not enough: its update may be up to the oracle max age old,
    /// chosen by whoever stored it.)
    pub fn require_trade_prices(&self, clock: &Clock, also: &[usize]) -> Result<()> {
        self.require_fresh_prices(clock, also)?;
        for c in self.priced_rows(also) {
            require!(
                clock.unix_timestamp.saturating_sub(c.publish_time)
                    <= i64::from(self.params.trade_max_age_secs),
                AidxError::PriceTooOldToTrade
            );
        }
        Ok(())
    }

    /// The cap and band rule for a balance change from `before` to the current balances (both
    /// as weights at mid prices): nothing ends further above its cap or outside its band.
    /// Weights are of [`Index::band_holdings`] and targets [`Index::band_targets`]: a quarantined
    /// row is left out, whatever its weight, and blocks nothing.
    pub fn check_weight_change(&self, before: &[u64], after: &[u64]) -> Result<()> {
        let targets = self.band_targets()?;
        match nav::check_weight_change(before, after, &targets, self.band_cap()?, self.params.band)
            .map_err(AidxError::from)?
        {
            Ok(()) => Ok(()),
            Err(WeightViolation::AboveCap(i)) => {
                msg!("constituent {} would end above its cap", i);
                err!(AidxError::WeightAboveCap)
            }
            Err(WeightViolation::FurtherOutOfBand(i)) => {
                msg!("constituent {} would end further outside its band", i);
                err!(AidxError::WeightFurtherOutOfBand)
            }
        }
    }

    /// Follows the share mint's supply down when shares were burned outside the program (only
    /// the index can mint, so it can never be above). Returns `(old, new)` when it moved.
    pub fn sync_share_supply(&mut self, mint_supply: u64) -> Result<Option<(u64, u64)>> {
        require!(
            mint_supply <= self.share_supply,
            AidxError::ShareSupplyMismatch
        );
        if mint_supply == self.share_supply {
            return Ok(None);
        }
        let old = self.share_supply;
        self.share_supply = mint_supply;
        Ok(Some((old, mint_supply)))
    }

    /// The management fee accrued up to `now`, on the index alone: the supply first synced down
    /// to the share mint's (shares burned outside the program), then the fee's shares added to
    /// it and the accrual time moved to `now`. The program mints the fee's shares and emits the
    /// events ([`crate::instructions::accrue_management_fee`]); clients quote on a copy brought
    /// to the time they expect the transaction to run, so their quotes divide by the supply the
    /// program will.
    pub fn accrue_fee(&mut self, mint_supply: u64, now: i64) -> Result<Accrual> {
        let synced = self.sync_share_supply(mint_supply)?;
        let elapsed = now.saturating_sub(self.last_fee_accrual_at);
        let rate = self.params.management_fee_bps;
        let fee = if self.last_fee_accrual_at == 0 {
            0
        } else {
            crate::math::fees::management_fee_shares(self.share_supply, rate, elapsed)
                .map_err(AidxError::from)?
        };
        self.last_fee_accrual_at = now;
        self.share_supply = self
            .share_supply
            .checked_add(fee)
            .ok_or(AidxError::MathOverflow)?;
        Ok(Accrual {
            synced,
            fee,
            elapsed,
            rate,
        })
    }

    /// The share mint's supply equals the index's share supply (after every supply change).
    pub fn check_share_supply(&self, share_mint: &AccountInfo) -> Result<()> {
        require!(
            crate::token::mint_supply(share_mint)? == self.share_supply,
            AidxError::ShareSupplyMismatch
        );
        Ok(())
    }

    /// Which constituents are outside their band at `weights` (of [`Index::band_holdings`]),
    /// against [`Index::band_targets`]. A quarantined row never is: it cannot be traded back,
    /// so it must not start or hold the auction clock.
    pub fn out_of_band(&self, weights: &[u64]) -> Result<Vec<bool>> {
        let targets = self.band_targets()?;
        self.constituents()
            .iter()
            .zip(weights.iter().zip(targets))
            .map(|(c, (w, t))| {
                Ok(!c.is_quarantined()
                    && nav::band_excess(*w, t, self.params.band).map_err(AidxError::from)? > 0)
            })
            .collect()
    }

    /// New targets (or bands, or parameters): a new auction, and the rebalance window opens
    /// at `now`.
    pub fn targets_changed(&mut self, now: i64) {
        self.imbalance_started_at = 0;
        self.breach_started_at = 0;
        self.window_opened_at = now;
    }

    /// Whether the rebalance window is open at `now`: trades of any out-of-band row allowed.
    pub fn window_open(&self, now: i64) -> bool {
        let w = self.params.rebalance_window_secs;
        w == 0 || now < self.window_opened_at.saturating_add(i64::from(w))
    }

    /// A row winding down that still holds tokens: sold whenever a keeper will, whatever its
    /// weight rounds to (so that dust never keeps it from being sold out and removed).
    pub fn is_exit(c: &Constituent) -> bool {
        c.status == ConstituentStatus::WindingDown as u8 && c.balance > 0
    }

    /// precision: WEIGHT_SCALE. The breach weight as [`Index::band_holdings`] weigh it: scaled
    /// up with the targets while a row is quarantined, as [`Index::band_cap`] is; 0: none.
    pub fn band_breach(&self) -> Result<u64> {
        let b = u64::from(self.params.breach_weight_bps) * (WEIGHT_SCALE / BPS_SCALE);
        let (kept, total) = self.target_shares()?;
        if b == 0 || kept == 0 || kept == total {
            return Ok(b);
        }
        let scaled = mul_div(b as u128, total, kept, Rounding::Down).map_err(AidxError::from)?;
        Ok(u64::try_from(scaled).map_err(|_| AidxError::MathOverflow)?)
    }

    /// Whether row `c` at weight `w` (of [`Index::band_holdings`]) against band target `t` may
    /// be traded at `now`: an exit always (see [`Index::is_exit`]); otherwise out of band while
    /// the window is open, and outside it only out of band above the breach weight.
    pub fn may_trade(&self, c: &Constituent, w: u64, t: u64, now: i64) -> Result<bool> {
        self.may_trade_at(c, w, t, now, self.band_breach()?)
    }

    fn may_trade_at(&self, c: &Constituent, w: u64, t: u64, now: i64, breach: u64) -> Result<bool> {
        if c.status == ConstituentStatus::WindingDown as u8 {
            return Ok(c.balance > 0);
        }
        if nav::band_excess(w, t, self.params.band).map_err(AidxError::from)? == 0 {
            return Ok(false);
        }
        Ok(self.window_open(now) || (breach != 0 && w > t && w > breach))
    }

    /// Which rows may be traded at `now` at `weights` (of [`Index::band_holdings`]), see
    /// [`Index::may_trade`]; never a quarantined row. These, not every row out of band, start
    /// and hold the auction clock: a reward must not grow while nobody may trade.
    pub fn tradeable(&self, weights: &[u64], now: i64) -> Result<Vec<bool>> {
        let targets = self.band_targets()?;
        let breach = self.band_breach()?;
        self.constituents()
            .iter()
            .zip(weights.iter().zip(targets))
            .map(|(c, (w, t))| Ok(!c.is_quarantined() && self.may_trade_at(c, *w, t, now, breach)?))
            .collect()
    }

    /// Whether a row breaches now: outside the window, tradeable and not an exit. Breaches
    /// have an auction clock of their own (`breach_started_at`), so that an exit left unsold
    /// for weeks, which holds the index's clock, does not hand a breach its maximum reward at
    /// once.
    pub fn breaching(&self, tradeable: &[bool], now: i64) -> bool {
        !self.window_open(now)
            && self
                .constituents()
                .iter()
                .zip(tradeable)
                .any(|(c, t)| *t && !Self::is_exit(c))
    }

    /// Which auction clock prices a swap paying out row `out` at `now`, and the start it
    /// recorded (0: none yet): outside the window a breach is priced on the breach clock, an
    /// exit (and anything inside the window) on the index's. `(breach, start)`.
    pub fn auction_start(&self, out: usize, now: i64) -> (bool, i64) {
        let exit = self.constituents().get(out).is_some_and(Self::is_exit);
        let breach = !self.window_open(now) && !exit;
        let start = if breach {
            self.breach_started_at
        } else {
            self.imbalance_started_at
        };
        (breach, start)
    }

    /// precision: WEIGHT_SCALE. Where a swap stops a row at weight `w` against band target
    /// `t`. Clipping at the target: there. Clipping at the edge: an out-of-band row just
    /// inside its band's inner edge (by [`EDGE_INSET_DIVISOR`]-th of the half band, so that
    /// rounding never leaves it out), never above the cap (the cap holds after every rebalance,
    /// the band only between them); an in-band row at its target, except that one bought at
    /// the cap stops the same inset under it, so that the rewards of the swaps after it do not
    /// lift it over.
    pub fn clip_limit(&self, w: u64, t: u64) -> Result<u64> {
        if self.params.clip != CLIP_EDGE {
            return Ok(t);
        }
        let inset = |x: u64| -> Result<u64> {
            let half = mul_div(
                x as u128,
                self.params.band as u128,
                WEIGHT_SCALE as u128,
                Rounding::Down,
            )
            .map_err(AidxError::from)?;
            Ok(u64::try_from(half).map_err(|_| AidxError::MathOverflow)?)
        };
        let cap = self.band_cap()?;
        let out = nav::band_excess(w, t, self.params.band).map_err(AidxError::from)? > 0;
        let half = inset(t)?;
        let inside = half - half / EDGE_INSET_DIVISOR;
        Ok(match (out, w > t) {
            (true, true) => t
                .checked_add(inside)
                .ok_or(AidxError::MathOverflow)?
                .min(cap.max(t)),
            (true, false) => t - inside,
            // Sold from above its target: down to the target.
            (false, true) => t,
            // Bought up to the cap: the inset under it.
            (false, false) if t >= cap => t - inset(t)? / EDGE_INSET_DIVISOR,
            (false, false) => t,
        })
    }

    /// Accounts the legs of an in-kind instruction take for the whole table.
    pub fn leg_accounts(&self) -> usize {
        self.constituents()
            .iter()
            .map(|c| c.leg_accounts as usize)
            .sum()
    }

    /// Structural invariants, checked at the end of every instruction that mutates the index.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.num_constituents as usize <= MAX_CONSTITUENTS,
            AidxError::InvariantViolated
        );
        self.params.validate()?;
        require!(
            self.share_supply == 0 || self.share_supply >= DEAD_SHARES,
            AidxError::InvariantViolated
        );
        require!(self.paused & !PAUSE_ALL == 0, AidxError::InvariantViolated);
        require!(self.review_open <= 1, AidxError::InvariantViolated);
        require!(self.opened <= 1, AidxError::InvariantViolated);
        // nobody mints before the index is open
        require!(
            self.share_supply == 0 || self.opened == 1,
            AidxError::InvariantViolated
        );
        let rows = self.constituents();
        for (i, c) in rows.iter().enumerate() {
            require!(
                c.status == ConstituentStatus::Active as u8
                    || (c.status == ConstituentStatus::WindingDown as u8 && c.target_weight == 0),
                AidxError::InvariantViolated
            );
            require!(c.mint != Pubkey::default(), AidxError::InvariantViolated);
            require!(
                rows[i + 1..]
                    .iter()
                    .all(|o| o.mint != c.mint && o.feed_id != c.feed_id),
                AidxError::InvariantViolated
            );
            require!(
                c.leg_accounts == PLAIN_LEG_ACCOUNTS || c.leg_accounts == CHECKED_LEG_ACCOUNTS,
                AidxError::InvariantViolated
            );
            // a quarantine has a reason and a start; a row not quarantined has neither, nor a
            // quarantine price
            require!(
                Quarantine::from_u8(c.quarantine).is_some()
                    && c.is_quarantined() == (c.quarantined_at != 0)
                    && (c.is_quarantined() || c.quarantine_price == 0),
                AidxError::InvariantViolated
            );
            // an unseeded index holds nothing
            require!(
                self.is_seeded() || c.balance == 0,
                AidxError::InvariantViolated
            );
        }
        require!(
            self.leg_accounts() <= MAX_LEG_ACCOUNTS,
            AidxError::InvariantViolated
        );
        require!(
            self.constituents[self.num_constituents as usize..]
                .iter()
                .all(|c| c.mint == Pubkey::default()),
            AidxError::InvariantViolated
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CLIP_TARGET;

    /// An index of `targets` (WEIGHT_SCALE) under the default parameters (the edge clip).
    fn index(targets: &[u64]) -> Box<Index> {
        let mut index: Box<Index> = Box::new(bytemuck::Zeroable::zeroed());
        index.params = IndexParams::default();
        index.num_constituents = targets.len() as u8;
        for (c, t) in index.constituents.iter_mut().zip(targets) {
            c.target_weight = *t;
        }
        index
    }

    const PCT: u64 = WEIGHT_SCALE / 100;

    #[test]
    fn the_edge_clip_never_sells_past_the_target_nor_buys_past_the_cap() {
        // Cap 15%, band 20%: a capped row's band is 12%-18%, its half band 3%, the inset 0.03%.
        let i = index(&[15 * PCT, 15 * PCT, 14 * PCT]);
        let (t, inset) = (15 * PCT, 3 * PCT / 100);
        // Out of band above: down to the cap (its edge, 18% less the inset, is above it).
        assert_eq!(i.clip_limit(19 * PCT, t).unwrap(), t);
        // Out of band below: up to just inside the edge.
        assert_eq!(i.clip_limit(11 * PCT, t).unwrap(), 12 * PCT + inset);
        // In band above its target: sold down to the target, never past it.
        assert_eq!(i.clip_limit(t + PCT / 10, t).unwrap(), t);
        // In band below a target at the cap: bought to the inset under the cap.
        assert_eq!(i.clip_limit(t - PCT / 10, t).unwrap(), t - inset);
        // In band below a target under the cap: to the target.
        assert_eq!(i.clip_limit(13 * PCT, 14 * PCT).unwrap(), 14 * PCT);
        // The target clip: always the target.
        let mut j = index(&[15 * PCT]);
        j.params.clip = CLIP_TARGET;
        for w in [11 * PCT, t - 1, t + 1, 19 * PCT] {
            assert_eq!(j.clip_limit(w, t).unwrap(), t);
        }
    }

    #[test]
    fn an_exit_may_trade_at_any_time_by_its_balance_and_a_breach_by_its_weight() {
        let mut i = index(&[50 * PCT, 50 * PCT, 0]);
        i.params.breach_weight_bps = 6_000;
        i.window_opened_at = 0;
        let late = i64::from(i.params.rebalance_window_secs) + 1;
        assert!(!i.window_open(late));
        i.constituents[2].status = ConstituentStatus::WindingDown as u8;
        i.constituents[2].balance = 1;
        // An exit whose weight rounds to 0 still may be traded; without tokens, not.
        let c = i.constituents[2];
        assert!(i.may_trade(&c, 0, 0, late).unwrap());
        i.constituents[2].balance = 0;
        let c = i.constituents[2];
        assert!(!i.may_trade(&c, 0, 0, late).unwrap());
        // Outside the window: out of band above the breach weight trades; below it, not.
        let c0 = i.constituents[0];
        assert!(i.may_trade(&c0, 61 * PCT, 50 * PCT, late).unwrap());
        assert!(!i.may_trade(&c0, 39 * PCT, 50 * PCT, late).unwrap());
        assert!(i.may_trade(&c0, 39 * PCT, 50 * PCT, 0).unwrap());
    }
}
