//! Rebalance auction: the reward never fails, is 0 before the start, the exact floor during,
//! the maximum after, and monotone; a price is the exact chain of floors; `fits` is its exact
//! definition; the clip never exceeds the request, fits when nonzero, is tight, and every
//! smaller amount fits. No panics.
#![no_main]

use aidx::math::auction::{reward, SwapLegs};
use aidx::math::nav::{Holding, PriceSide};
use aidx::math::{Rounding, WEIGHT_SCALE};
use aidx_fuzz::checks::*;
use aidx_fuzz::{must, ArbHolding};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    elapsed: [i64; 2],
    duration: [u32; 2],
    max_reward_bps: [u16; 2],
    inp: ArbHolding,
    out: ArbHolding,
    limit_in: u64,
    limit_out: u64,
    /// The rest of the basket (NAV beyond the two legs), or the whole NAV when `raw`.
    nav_rest: u128,
    /// Reward: the auction's own (from `elapsed[0]` etc.) or, when `raw`, `raw_reward`.
    raw_reward: u64,
    /// Unconstrained targets (else taken modulo 100%), reward and NAV.
    raw: bool,
    amount_in: u64,
    requested: u64,
    probe: u64,
}

fuzz_target!(|i: Input| {
    must(check_reward(
        i.elapsed[0],
        i.duration[0],
        i.max_reward_bps[0],
    ));
    must(check_reward_monotone(
        i.elapsed,
        i.duration,
        i.max_reward_bps,
    ));

    let (inp, out) = (i.inp.get(), i.out.get());
    let w = WEIGHT_SCALE;
    let mid = |h: &Holding| h.value(PriceSide::Mid, Rounding::Down).unwrap_or(0);
    let legs = SwapLegs {
        inp,
        out,
        limit_in: if i.raw {
            i.limit_in
        } else {
            i.limit_in % (w + 1)
        },
        limit_out: if i.raw {
            i.limit_out
        } else {
            i.limit_out % (w + 1)
        },
        nav_mid: if i.raw {
            i.nav_rest
        } else {
            mid(&inp)
                .saturating_add(mid(&out))
                .saturating_add(i.nav_rest)
        },
        reward: if i.raw {
            i.raw_reward
        } else {
            reward(i.elapsed[0], i.duration[0], i.max_reward_bps[0]).unwrap_or(0)
        },
    };
    must(check_price(&legs, i.amount_in));
    if let Ok(q) = legs.price(i.amount_in) {
        must(check_fits(&legs, &q));
    }
    must(check_clip(&legs, i.requested, i.probe));
});
