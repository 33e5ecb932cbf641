//! Share math: seed, mint and redeem amounts are exact pro-rata values rounded toward the vault,
//! errors (never panics) out of range, round trips and split operations never gain.
#![no_main]

use aidx_fuzz::checks::*;
use aidx_fuzz::must;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    shares: u64,
    other: u64,
    balance: u64,
    supply: u64,
    units_per_share: u64,
}

fuzz_target!(|i: Input| {
    let Input {
        shares,
        other,
        balance,
        supply,
        units_per_share,
    } = i;
    must(check_seed_deposit(shares, units_per_share));
    must(check_seed_then_redeem(shares, units_per_share));
    must(check_mint_deposit(shares, balance, supply));
    must(check_redeem_payout(shares, balance, supply));
    must(check_mint_then_redeem(shares, balance, supply));
    must(check_redeem_then_mint(shares, balance, supply));
    must(check_split(shares, other, balance, supply));
    // The same with the shares inside the supply (the common case for redeems).
    let s = supply.max(1);
    let a = shares % s;
    must(check_redeem_payout(a, balance, supply));
    must(check_redeem_then_mint(a, balance, supply));
    must(check_split(a, other % (s - a).max(1), balance, supply));
});
