//! Rebalance auction pricing: the oracle cross rate on the conservative sides plus a reward
//! that rises linearly from 0 when the imbalance is first recorded to `max_reward` after the
//! auction length, then stays there; and the clip that keeps either leg from crossing its target.

use super::nav::{Holding, PriceSide};
use super::{mul_div, MathError, Rounding, BPS_SCALE, WEIGHT_SCALE};

/// precision: WEIGHT_SCALE. The reward a caller earns `elapsed` seconds into an auction of
/// `duration` seconds whose reward tops out at `max_reward_bps`. 0 at the start (and before),
/// non-decreasing in time, never above the maximum. Rounds down.
pub fn reward(elapsed: i64, duration: u32, max_reward_bps: u16) -> Result<u64, MathError> {
    let max = mul_div(
        max_reward_bps as u128,
        WEIGHT_SCALE as u128,
        BPS_SCALE as u128,
        Rounding::Down,
    )?;
    if elapsed <= 0 || max == 0 {
        return Ok(0);
    }
    if duration == 0 || elapsed as u128 >= duration as u128 {
        return u64::try_from(max).map_err(|_| MathError::Overflow);
    }
    let r = mul_div(max, elapsed as u128, duration as u128, Rounding::Down)?;
    u64::try_from(r).map_err(|_| MathError::Overflow)
}

/// The two legs of a swap and what the clip needs to know.
#[derive(Clone, Copy, Debug)]
pub struct SwapLegs {
    /// The constituent the caller pays in (underweight).
    pub inp: Holding,
    /// The constituent the caller receives (overweight).
    pub out: Holding,
    /// precision: WEIGHT_SCALE. The incoming leg's weight ceiling: its target, or just inside
    /// its band's edge (see `Index::clip_limit`).
    pub limit_in: u64,
    /// precision: WEIGHT_SCALE. The outgoing leg's weight floor, likewise.
    pub limit_out: u64,
    /// precision: USD_SCALE. NAV at mid before the swap.
    pub nav_mid: u128,
    /// precision: WEIGHT_SCALE. Reward now.
    pub reward: u64,
}

/// A priced swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapQuote {
    pub amount_in: u64,
    pub amount_out: u64,
    /// precision: USD_SCALE. The incoming amount at price - conf.
    pub value_in: u128,
    /// precision: USD_SCALE. `value_in` plus the reward: what is paid out, at price + conf.
    pub value_out: u128,
}

impl SwapLegs {
    /// Prices `amount_in`: the incoming leg at `price - conf`, the reward on top, the outgoing
    /// leg at `price + conf`; both round down.
    pub fn price(&self, amount_in: u64) -> Result<SwapQuote, MathError> {
        let value_in = self
            .inp
            .value_of(amount_in, PriceSide::Low, Rounding::Down)?;
        let value_out = mul_div(
            value_in,
            WEIGHT_SCALE as u128 + self.reward as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?;
        let amount_out = self
            .out
            .amount_for(value_out, PriceSide::High, Rounding::Down)?;
        Ok(SwapQuote {
            amount_in,
            amount_out,
            value_in,
            value_out,
        })
    }

    /// Whether a priced swap keeps both legs on their side of target and the vault can pay:
    /// with every holding valued as NAV values it (mid, rounded down, balance by balance),
    /// `in' / nav' <= limit_in` and `out' / nav' >= limit_out`, exactly.
    pub fn fits(&self, q: &SwapQuote) -> Result<bool, MathError> {
        if q.amount_out > self.out.balance {
            return Ok(false);
        }
        let value = |h: &Holding| h.value(PriceSide::Mid, Rounding::Down);
        let inp_after = Holding {
            balance: self
                .inp
                .balance
                .checked_add(q.amount_in)
                .ok_or(MathError::Overflow)?,
            ..self.inp
        };
        let out_after = Holding {
            balance: self.out.balance - q.amount_out,
            ..self.out
        };
        let (v_in, v_out) = (value(&inp_after)?, value(&out_after)?);
        let nav = self
            .nav_mid
            .checked_sub(value(&self.inp)?)
            .and_then(|n| n.checked_sub(value(&self.out).ok()?))
            .and_then(|n| n.checked_add(v_in))
            .and_then(|n| n.checked_add(v_out))
            .ok_or(MathError::Overflow)?;
        let w = WEIGHT_SCALE as u128;
        let in_ok = v_in.checked_mul(w).ok_or(MathError::Overflow)?
            <= nav
                .checked_mul(self.limit_in as u128)
                .ok_or(MathError::Overflow)?;
        let out_ok = v_out.checked_mul(w).ok_or(MathError::Overflow)?
            >= nav
                .checked_mul(self.limit_out as u128)
                .ok_or(MathError::Overflow)?;
        Ok(in_ok && out_ok)
    }

    /// `amount_in` priced, if it fits (an amount too large to price does not fit).
    fn fitting(&self, amount_in: u64) -> Result<Option<SwapQuote>, MathError> {
        let q = match self.price(amount_in) {
            Ok(q) => q,
            Err(MathError::Overflow) => return Ok(None),
            Err(e) => return Err(e),
        };
        match self.fits(&q) {
            Ok(true) => Ok(Some(q)),
            Ok(false) | Err(MathError::Overflow) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The largest swap of at most `requested` units in that [`SwapLegs::fits`]: neither leg
    /// crosses its target (never overshoots). Binary search: fitting is monotone in the amount.
    pub fn clip(&self, requested: u64) -> Result<SwapQuote, MathError> {
        if let Some(q) = self.fitting(requested)? {
            return Ok(q);
        }
        let (mut lo, mut hi) = (0u64, requested);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.fitting(mid)?.is_some() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.price(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::USD_SCALE;

    #[test]
    fn reward_is_zero_at_start_monotone_and_capped() {
        let max = 50u16; // 0.5%
        assert_eq!(reward(0, 3600, max).unwrap(), 0);
        assert_eq!(reward(-5, 3600, max).unwrap(), 0);
        assert_eq!(reward(1800, 3600, max).unwrap(), 2_500_000);
        assert_eq!(reward(3600, 3600, max).unwrap(), 5_000_000);
        assert_eq!(reward(i64::MAX, 3600, max).unwrap(), 5_000_000);
        let mut last = 0;
        for t in (0..5000).step_by(7) {
            let r = reward(t, 3600, max).unwrap();
            assert!(r >= last && r <= 5_000_000);
            last = r;
        }
    }

    fn legs(reward: u64) -> SwapLegs {
        let usd = USD_SCALE as u64;
        // in: 100 tokens at $1 (target 20%), out: 300 tokens at $1 (target 20%), NAV $1000
        SwapLegs {
            inp: Holding {
                balance: 100_000_000,
                decimals: 6,
                price: usd,
                conf: 0,
            },
            out: Holding {
                balance: 300_000_000,
                decimals: 6,
                price: usd,
                conf: 0,
            },
            limit_in: 200_000_000,
            limit_out: 200_000_000,
            nav_mid: 1000 * USD_SCALE,
            reward,
        }
    }

    #[test]
    fn clip_stops_at_the_nearer_target() {
        // in-leg needs $100 to reach 20%; out-leg could give $100 too: the clip lands on both.
        let q = legs(0).clip(1_000_000_000).unwrap();
        assert_eq!(q.amount_in, 100_000_000);
        assert_eq!(q.amount_out, 100_000_000);
        let l = legs(0);
        assert!(l.fits(&q).unwrap());
        assert!(!l.fits(&l.price(q.amount_in + 1).unwrap()).unwrap());
    }

    #[test]
    fn reward_is_paid_in_the_outgoing_leg() {
        let l = legs(10_000_000); // 1%
        let q = l.price(10_000_000).unwrap(); // $10 in
        assert_eq!(q.value_out, 10 * USD_SCALE * 101 / 100);
        assert_eq!(q.amount_out, 10_100_000);
    }
}
