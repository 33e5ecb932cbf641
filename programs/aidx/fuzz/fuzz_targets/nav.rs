//! NAV: values and amounts rounded as asked (conversions back and forth never gain), NAV the
//! exact sum, weights the exact floors, band excess exact, the weight rule never rejects a move
//! toward target. No panics.
#![no_main]

use aidx_fuzz::checks::*;
use aidx_fuzz::{must, ArbHolding, ArbSide};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Row {
    before: u64,
    after: u64,
    target: u64,
    /// Odd: `after` is replaced by a point between `before` and the target (a move toward it).
    toward: u16,
}

#[derive(Arbitrary, Debug)]
struct Input {
    holding: ArbHolding,
    amount: u64,
    value: u128,
    side: ArbSide,
    basket: Vec<ArbHolding>,
    weight: u64,
    target: u64,
    band: u64,
    cap: u64,
    rows: Vec<Row>,
}

fuzz_target!(|i: Input| {
    must(check_holding(
        &i.holding.get(),
        i.amount,
        i.value,
        i.side.get(),
    ));
    let basket: Vec<_> = i.basket.iter().map(|h| h.get()).collect();
    must(check_nav_and_weights(&basket, i.side.get()));
    must(check_band_excess(i.weight, i.target, i.band));
    let before: Vec<u64> = i.rows.iter().map(|r| r.before).collect();
    let targets: Vec<u64> = i.rows.iter().map(|r| r.target.min(i.cap)).collect();
    let after: Vec<u64> = i
        .rows
        .iter()
        .zip(&targets)
        .map(|(r, t)| {
            if r.toward.is_multiple_of(2) {
                return r.after;
            }
            let (lo, hi) = (r.before.min(*t), r.before.max(*t));
            lo + ((hi - lo) as u128 * (r.toward / 2) as u128 / (u16::MAX / 2) as u128) as u64
        })
        .collect();
    must(check_weight_rule(&before, &after, &targets, i.cap, i.band));
});
