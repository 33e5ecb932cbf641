//! Fees: `fee_on` is the exact ceiling (at least 1 when due); the management fee equals its exact
//! year-by-year evaluation, takes at least the pro-rata rate, compounds yearly, stops after
//! `MAX_ACCRUAL_YEARS`, and is monotone in elapsed time, rate and supply. No panics.
#![no_main]

use aidx_fuzz::checks::*;
use aidx_fuzz::must;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    supply: [u64; 2],
    rate_bps: [u16; 2],
    elapsed: [i64; 2],
    shares: u64,
    fee_bps: u16,
}

fuzz_target!(|i: Input| {
    must(check_fee_on(i.shares, i.fee_bps));
    must(check_management_fee(
        i.supply[0],
        i.rate_bps[0],
        i.elapsed[0],
    ));
    must(check_management_fee_monotone(
        i.supply, i.rate_bps, i.elapsed,
    ));
});
