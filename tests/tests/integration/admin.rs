//! Fees, roles, parameters, pause and the constituent lifecycle.
//!
//! * The management fee over warped clocks: exactly the documented formula, never rounded in
//!   the holders' favour, and compounding per accrual; mint / redeem fees rounded up into the
//!   fee-share account, with the share supply reconciled after every step; `claim_fees`.
//! * Every admin-side instruction refuses the wrong signer with its named error; the two-step
//!   admin transfer; `set_roles`; the guardian's add-only pause.
//! * Every bounded field of `IndexParams` through `set_params`, refused just outside each bound
//!   and accepted exactly at it.
//! * `PAUSE_ALL`: redeem in kind still pays exactly, every other operation is `Paused`.
//! * Lifecycle: add after seeding, wind down, sell out through `rebalance_swap` until the
//!   balance is exactly 0, remove (vault closed, donations swept, rows moved up) and keep
//!   minting and redeeming in kind with the shorter table.
//! * A frozen vault: redeem in kind fails inside the token program, and succeeds with the frozen
//!   leg skipped, its share staying with the remaining holders.
//!
//! Expected amounts are restated here from the documented formulas (plain u128 integer math on
//! values read back from the index account), never taken from the program's own functions.

use aidx::errors::AidxError;
use aidx::events::{AdminAccepted, AdminProposed, TargetsRecomputed};
use aidx::events::{
    ConstituentAdded, ConstituentRemoved, ConstituentWindingDown, FeesAccrued, FeesClaimed,
    ImbalanceCleared, ImbalanceStarted, MethodologyInputRow, MethodologyInputsSet, MintedInKind,
    MintedSingle, ParamsUpdated, PauseSet, RebalanceSwapped, RedeemedInKind, RedeemedSingle,
    ReviewOpened, RolesUpdated,
};
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, RebalanceSwapArgs, RedeemInKindArgs,
    SetMethodologyInputsArgs, SetRolesArgs,
};
use aidx::math::fees::SECONDS_PER_YEAR;
use aidx::math::methodology::{DEFAULT_MIN_DEPTH_USD, DEFAULT_MIN_VOLUME_USD};
use aidx::math::shares::{DEAD_SHARES, MIN_FIRST_MINT};
use aidx::math::{ONE_SHARE, USD_SCALE, WEIGHT_SCALE};
use aidx::state::*;
use aidx_client::{
    self as client, fee_shares_address, vault_address, AidxEvent, TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
};
use aidx_tests::*;
use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
};

const YEAR: i64 = SECONDS_PER_YEAR as i64;
const DAY: i64 = 86_400;
const BPS: u128 = 10_000;
const ONE_USD: u128 = USD_SCALE;
/// The documented management fee: over `dt` seconds at `bps` a year,
/// `ceil(S * r * dt / (1e4 * YEAR - r * dt))` shares.
/// The management fee for `dt` seconds: year by year, each year on the supply after the
/// previous year's fee (see math/fees.rs).
fn management_fee(supply: u64, bps: u16, dt: i64) -> u64 {
    let (mut s, mut left, mut total) = (supply as u128, dt as u128, 0u128);
    while left > 0 {
        let step = left.min(YEAR as u128);
        let re = bps as u128 * step;
        let f = (s * re).div_ceil(BPS * YEAR as u128 - re);
        s += f;
        total += f;
        left -= step;
    }
    total as u64
}

/// A fee of `bps` on `shares`, rounded up.
fn fee_up(shares: u64, bps: u16) -> u64 {
    (shares as u128 * bps as u128).div_ceil(BPS) as u64
}

fn ceil_div(a: u128, b: u128) -> u64 {
    a.div_ceil(b) as u64
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// Distinct keys for the three roles the admin does not hold.
struct Roles {
    methodology: Keypair,
    guardian: Keypair,
    fee_recipient: Keypair,
}

impl Roles {
    fn new() -> Self {
        Roles {
            methodology: Keypair::new(),
            guardian: Keypair::new(),
            fee_recipient: Keypair::new(),
        }
    }

    fn args(&self, params: IndexParams) -> InitializeIndexArgs {
        InitializeIndexArgs {
            params,
            methodology_authority: self.methodology.pubkey(),
            guardian: self.guardian.pubkey(),
            fee_recipient: self.fee_recipient.pubkey(),
        }
    }
}

struct Seeded {
    t: TestContext,
    fx: IndexFixture,
    seeder: Holder,
    roles: Roles,
    seed_events: Vec<AidxEvent>,
}

/// An `n`-constituent index (targets 1/n, params edited by `edit`, this file's roles) seeded in
/// kind by the harness with exactly 1_000 whole tokens of each constituent and a supply of
/// exactly 100 whole shares.
async fn seeded(n: usize, edit: impl FnOnce(&mut IndexParams)) -> Seeded {
    let roles = Roles::new();
    let aidx_tests::Seeded {
        mut t,
        fx,
        seeder,
        seed_events,
    } = TestContext::seeded(n, |a| {
        edit(&mut a.params);
        *a = roles.args(a.params);
    })
    .await;
    assert_supply(&mut t, &fx, SUPPLY0).await;
    Seeded {
        t,
        fx,
        seeder,
        roles,
        seed_events,
    }
}

/// The share mint's supply and the index's mirror of it are both `want`.
async fn assert_supply(t: &mut TestContext, fx: &IndexFixture, want: u64) {
    assert_eq!(t.share_supply(fx).await, want, "share mint supply");
    assert_eq!(t.index(fx).await.share_supply, want, "index share_supply");
}

async fn fee_balance(t: &mut TestContext, fx: &IndexFixture) -> u64 {
    t.balance(&fee_shares_address(&fx.key)).await
}

async fn accrue(t: &mut TestContext, fx: &IndexFixture) -> TxResult {
    let index = t.index(fx).await;
    t.send(client::accrue_fees(&fx.key, &index), &[]).await
}

async fn set_params(
    t: &mut TestContext,
    fx: &IndexFixture,
    signer: &Keypair,
    params: IndexParams,
) -> TxResult {
    let index = t.index(fx).await;
    let ix = client::set_params(&fx.key, &index, &signer.pubkey(), params);
    t.send(ix, &[signer]).await
}

async fn propose(t: &mut TestContext, fx: &IndexFixture, by: &Keypair, to: Pubkey) -> TxResult {
    t.send(client::propose_admin(&fx.key, &by.pubkey(), to), &[by])
        .await
}

async fn set_pause(t: &mut TestContext, fx: &IndexFixture, by: &Keypair, flags: u8) -> TxResult {
    t.send(client::set_pause(&fx.key, &by.pubkey(), flags), &[by])
        .await
}

/// `claim_fees` signed by `signer`, into `signer`'s own share account (the builder in the
/// client always names the stored fee recipient).
fn claim_as(fx: &IndexFixture, signer: &Pubkey) -> Instruction {
    Instruction {
        program_id: client::PROGRAM_ID,
        accounts: aidx::accounts::ClaimFees {
            fee_recipient: *signer,
            index: fx.key,
            fee_shares: fee_shares_address(&fx.key),
            recipient_shares: client::ata(signer, &fx.share_mint, &TOKEN_PROGRAM_ID),
            token_program: TOKEN_PROGRAM_ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::ClaimFees {}.data(),
    }
}

/// `remove_constituent` of `mint` signed by `signer`, sweeping into `signer`'s own account.
fn remove_as(fx: &IndexFixture, index: &Index, signer: &Pubkey, row: usize) -> Instruction {
    let c = &index.constituents()[row];
    Instruction {
        program_id: client::PROGRAM_ID,
        accounts: aidx::accounts::RemoveConstituent {
            admin: *signer,
            index: fx.key,
            mint: c.mint,
            vault: c.vault,
            sweep_to: client::ata(signer, &c.mint, &c.token_program),
            token_program: c.token_program,
        }
        .to_account_metas(None),
        data: aidx::instruction::RemoveConstituent {}.data(),
    }
}

// ---------------------------------------------------------------------------------------------
// The basket as the documented formulas see it.

#[derive(Clone, Debug)]
struct Basket {
    bal: Vec<u64>,
    dec: Vec<u32>,
    price: Vec<u64>,
    conf: Vec<u64>,
}

impl Basket {
    fn of(index: &Index) -> Self {
        let cs = index.constituents();
        Basket {
            bal: cs.iter().map(|c| c.balance).collect(),
            dec: cs.iter().map(|c| c.decimals as u32).collect(),
            price: cs.iter().map(|c| c.price).collect(),
            conf: cs.iter().map(|c| c.conf).collect(),
        }
    }

    fn scale(&self, i: usize) -> u128 {
        10u128.pow(self.dec[i])
    }

    fn low(&self, i: usize) -> u128 {
        (self.price[i] - self.conf[i]) as u128
    }

    fn high(&self, i: usize) -> u128 {
        (self.price[i] + self.conf[i]) as u128
    }

    fn mid_values(&self) -> Vec<u128> {
        (0..self.bal.len())
            .map(|i| self.bal[i] as u128 * self.price[i] as u128 / self.scale(i))
            .collect()
    }

    /// Each holding at `price`, rounded down, summed.
    fn nav_mid(&self) -> u128 {
        self.mid_values().iter().sum()
    }

    /// Each holding at `price - conf`, rounded down, summed.
    fn nav_low(&self) -> u128 {
        (0..self.bal.len())
            .map(|i| self.bal[i] as u128 * self.low(i) / self.scale(i))
            .sum()
    }

    /// Each holding at `price + conf`, rounded up, summed.
    fn nav_high(&self) -> u128 {
        (0..self.bal.len())
            .map(|i| (self.bal[i] as u128 * self.high(i)).div_ceil(self.scale(i)))
            .sum()
    }

    /// Mid-price weights, rounded down.
    fn weights(&self) -> Vec<u64> {
        let v = self.mid_values();
        let total: u128 = v.iter().sum();
        v.iter()
            .map(|x| (x * WEIGHT_SCALE as u128 / total) as u64)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Fees.

/// 2% a year on 100 shares, one accrual after exactly 365 days: the fee is
/// `ceil(S * 0.02 / 0.98)`, which is 2% of the new supply to within one share unit (and never
/// below it). The fee recipient, and only it, claims the fee shares.
#[tokio::test]
async fn management_fee_over_a_year_takes_the_stated_rate() {
    let Seeded {
        mut t,
        fx,
        seeder,
        roles,
        ..
    } = seeded(3, |p| p.management_fee_bps = 200).await;
    let t0 = t.index(&fx).await.last_fee_accrual_at;
    assert_eq!(t0, t.now().await, "the seed mint starts the fee clock");

    // Nothing is due in the same second: nothing minted, no event.
    assert_eq!(events(accrue(&mut t, &fx).await), vec![]);
    assert_supply(&mut t, &fx, SUPPLY0).await;
    assert_eq!(fee_balance(&mut t, &fx).await, 0);

    t.warp_to_time(t0 + YEAR).await;
    let fee = management_fee(SUPPLY0, 200, YEAR);
    // S * 2 / 98 = 2_040_816_326.53..., rounded up
    assert_eq!(fee, 2_040_816_327);
    let after = SUPPLY0 + fee;
    assert_eq!(
        events(accrue(&mut t, &fx).await),
        vec![AidxEvent::FeesAccrued(FeesAccrued {
            index: fx.key,
            elapsed: YEAR,
            management_fee_bps: 200,
            fee_shares: fee,
            share_supply_after: after,
        })]
    );
    // fee / (S + fee) against 2%: 1e4 * fee - 200 * (S + fee) = 4_600, i.e. the fee is 0.46 of a
    // share unit above 2% of the new supply: within one unit, and on the recipient's side.
    let excess = fee as i128 * BPS as i128 - 200 * after as i128;
    assert_eq!(excess, 4_600);
    assert!((0..BPS as i128).contains(&excess));
    assert_eq!(fee_balance(&mut t, &fx).await, fee);
    assert_supply(&mut t, &fx, after).await;
    assert_eq!(t.index(&fx).await.last_fee_accrual_at, t0 + YEAR);
    assert_eq!(t.balance(&seeder.shares).await, SEED_SHARES);

    // Nobody but the fee recipient claims: a stranger, the admin, a holder, the other roles.
    for k in [&Keypair::new(), &fx.admin, &seeder.keypair, &roles.guardian] {
        t.chain
            .create_ata(&k.pubkey(), &fx.share_mint, &TOKEN_PROGRAM_ID)
            .await
            .unwrap();
        let r = t.send(claim_as(&fx, &k.pubkey()), &[k]).await;
        assert_aidx_error(&r, AidxError::UnauthorizedFeeRecipient);
    }
    assert_eq!(fee_balance(&mut t, &fx).await, fee);

    let recipient = roles.fee_recipient.pubkey();
    let recipient_shares = t
        .chain
        .create_ata(&recipient, &fx.share_mint, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();
    let index = t.index(&fx).await;
    let ev = events(
        t.send(client::claim_fees(&fx.key, &index), &[&roles.fee_recipient])
            .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::FeesClaimed(FeesClaimed {
            index: fx.key,
            fee_recipient: recipient,
            shares: fee,
        })]
    );
    assert_eq!(t.balance(&recipient_shares).await, fee);
    assert_eq!(fee_balance(&mut t, &fx).await, 0);
    assert_supply(&mut t, &fx, after).await;
    // Nothing left to claim.
    let r = t
        .send(claim_as(&fx, &recipient), &[&roles.fee_recipient])
        .await;
    assert_aidx_error(&r, AidxError::ZeroShares);
}

/// The smallest supply (one whole share and the dead shares) at the smallest nonzero rate
/// (1 bps) for one second owes 0.003 of a share unit: the fee is 1 unit, never 0. A rate change
/// through `set_params` accrues at the old rate first; at rate 0 nothing is ever due.
#[tokio::test]
async fn management_fee_rounds_up_to_a_unit_when_anything_is_due() {
    let mut t = TestContext::new().await;
    let roles = Roles::new();
    let params = IndexParams {
        management_fee_bps: 1,
        ..IndexParams::default()
    };
    let fx = t.create_index_with(roles.args(params), 3, units).await;
    let seeder = t.holder(&fx, rich).await;
    events(t.mint_in_kind(&fx, &seeder, MIN_FIRST_MINT).await);
    let s0 = MIN_FIRST_MINT + DEAD_SHARES;
    assert_supply(&mut t, &fx, s0).await;
    let t0 = t.index(&fx).await.last_fee_accrual_at;

    // 1_000_001_000 * 1 / 315_359_999_999 = 0.0032 -> 1
    let mut supply = s0;
    let mut total = 0;
    for (k, at) in [(1, t0 + 1), (2, t0 + 2)] {
        t.warp_to_time(at).await;
        assert_eq!(management_fee(supply, 1, 1), 1, "second {k}");
        assert!(
            (supply as u128) < BPS * YEAR as u128 - 1,
            "the unrounded fee is below one unit"
        );
        assert_eq!(
            events(accrue(&mut t, &fx).await),
            vec![AidxEvent::FeesAccrued(FeesAccrued {
                index: fx.key,
                elapsed: 1,
                management_fee_bps: 1,
                fee_shares: 1,
                share_supply_after: supply + 1,
            })]
        );
        supply += 1;
        total += 1;
        assert_eq!(fee_balance(&mut t, &fx).await, total);
        assert_supply(&mut t, &fx, supply).await;
    }

    // One day at once: 1_000_001_002 * 86_400 / 315_359_913_600 = 273.97 -> 274 (against the
    // 86_400 units that one accrual per second for a day would have charged).
    t.warp_to_time(t0 + 2 + DAY).await;
    let day_fee = management_fee(supply, 1, DAY);
    assert_eq!(day_fee, 274);
    assert_eq!(
        events(accrue(&mut t, &fx).await),
        vec![AidxEvent::FeesAccrued(FeesAccrued {
            index: fx.key,
            elapsed: DAY,
            management_fee_bps: 1,
            fee_shares: 274,
            share_supply_after: supply + 274,
        })]
    );
    supply += 274;
    total += 274;

    // A rate change accrues the elapsed time at the old rate first (1 bps over 30 days), then
    // the new rate (0) applies: a year later nothing is due.
    t.warp_to_time(t0 + 2 + 31 * DAY).await;
    let old = t.index(&fx).await.params;
    let new = IndexParams {
        management_fee_bps: 0,
        ..old
    };
    let month_fee = management_fee(supply, 1, 30 * DAY);
    assert_eq!(month_fee, 8_220);
    assert_eq!(
        events(set_params(&mut t, &fx, &fx.admin, new).await),
        vec![
            AidxEvent::FeesAccrued(FeesAccrued {
                index: fx.key,
                elapsed: 30 * DAY,
                management_fee_bps: 1,
                fee_shares: month_fee,
                share_supply_after: supply + month_fee,
            }),
            AidxEvent::ParamsUpdated(ParamsUpdated {
                index: fx.key,
                old,
                new,
            }),
        ]
    );
    supply += month_fee;
    total += month_fee;
    t.warp_to_time(t0 + 2 + 31 * DAY + YEAR).await;
    assert_eq!(events(accrue(&mut t, &fx).await), vec![]);
    assert_eq!(fee_balance(&mut t, &fx).await, total);
    assert_supply(&mut t, &fx, supply).await;
    assert_eq!(
        t.index(&fx).await.last_fee_accrual_at,
        t0 + 2 + 31 * DAY + YEAR
    );
}

/// Accruals compound: each one mints `S x / (1 - x)` on the supply as it then is, so the
/// holders keep `1 - x` per accrual (see `math/fees.rs`). Twelve monthly accruals at 2% leave
/// the holders `(1 - 0.02/12)^12 = 98.018%` of the index, a year at once exactly 98%: the
/// monthly fees add up to slightly LESS than the one yearly fee. Measured on 100 shares:
/// 2_021_836_250 against 2_040_816_327 units (0.93% less).
#[tokio::test]
async fn twelve_monthly_accruals_take_slightly_less_than_one_yearly() {
    const MONTH: i64 = YEAR / 12;
    assert_eq!(MONTH * 12, YEAR);
    let mut t = TestContext::new().await;
    let roles = Roles::new();
    let params = IndexParams {
        management_fee_bps: 200,
        ..IndexParams::default()
    };
    let monthly = t.create_index_with(roles.args(params), 3, units).await;
    let yearly = t.create_index_with(roles.args(params), 3, units).await;
    // Seed the monthly index first so that its year ends no later than the yearly one's.
    for fx in [&monthly, &yearly] {
        let h = t.holder(fx, rich).await;
        events(t.mint_in_kind(fx, &h, SEED_SHARES).await);
        assert_supply(&mut t, fx, SUPPLY0).await;
    }
    let tm = t.index(&monthly).await.last_fee_accrual_at;
    let ty = t.index(&yearly).await.last_fee_accrual_at;
    assert!(ty >= tm);

    let mut supply = SUPPLY0;
    let mut fees = vec![];
    for k in 1..=12 {
        t.warp_to_time(tm + k * MONTH).await;
        let f = management_fee(supply, 200, MONTH);
        assert_eq!(
            events(accrue(&mut t, &monthly).await),
            vec![AidxEvent::FeesAccrued(FeesAccrued {
                index: monthly.key,
                elapsed: MONTH,
                management_fee_bps: 200,
                fee_shares: f,
                share_supply_after: supply + f,
            })],
            "month {k}"
        );
        supply += f;
        fees.push(f);
    }
    // Each month x = 1/600: F = ceil(S / 599), on a growing supply.
    assert_eq!(fees[0], 166_944_909);
    assert_eq!(fees[11], 170_036_394);
    let monthly_total = supply - SUPPLY0;
    assert_eq!(fee_balance(&mut t, &monthly).await, monthly_total);
    assert_supply(&mut t, &monthly, supply).await;

    t.warp_to_time(ty + YEAR).await;
    let yearly_fee = management_fee(SUPPLY0, 200, YEAR);
    assert_eq!(
        events(accrue(&mut t, &yearly).await),
        vec![AidxEvent::FeesAccrued(FeesAccrued {
            index: yearly.key,
            elapsed: YEAR,
            management_fee_bps: 200,
            fee_shares: yearly_fee,
            share_supply_after: SUPPLY0 + yearly_fee,
        })]
    );
    assert_eq!(fee_balance(&mut t, &yearly).await, yearly_fee);

    assert_eq!(yearly_fee, 2_040_816_327);
    assert_eq!(monthly_total, 2_021_836_250);
    assert!(monthly_total < yearly_fee);
    assert_eq!(yearly_fee - monthly_total, 18_980_077);
    // The holders' part, 1e11 / (1e11 + fees), in ppm rounded down: monthly 98.0182% (above
    // 98%), yearly just under 98% (the fee rounded up by 0.46 of a unit).
    let kept_ppm = |fees: u64| SUPPLY0 as u128 * 1_000_000 / (SUPPLY0 + fees) as u128;
    assert_eq!(kept_ppm(monthly_total), 980_182);
    assert_eq!(kept_ppm(yearly_fee), 979_999);
}

/// Mint and redeem fees, in kind and single-asset: each is `ceil(shares * bps / 1e4)` (on the
/// shares requested in kind, on the gross shares of a single-asset mint), lands in the
/// fee-share account, and the share mint's supply equals `index.share_supply` after every step.
/// A one-unit mint pays its whole unit as the fee; a one-unit redeem is refused.
#[tokio::test]
async fn mint_and_redeem_fees_round_up_into_the_fee_account() {
    const MINT_BPS: u16 = 30;
    const REDEEM_BPS: u16 = 50;
    const N: usize = 8;
    let Seeded {
        mut t,
        fx,
        seeder,
        roles,
        seed_events,
    } = seeded(N, |p| {
        p.mint_fee_bps = MINT_BPS;
        p.redeem_fee_bps = REDEEM_BPS;
    })
    .await;

    // The seed paid the mint fee on the shares it asked for (99_999_999_000 * 30 / 1e4, exact).
    let seed_fee = fee_up(SEED_SHARES, MINT_BPS);
    assert_eq!(seed_fee, 299_999_997);
    let seeded_amounts: Vec<u64> = (0..N).map(|i| whole(i, 1_000)).collect();
    assert_eq!(
        seed_events,
        vec![AidxEvent::MintedInKind(MintedInKind {
            index: fx.key,
            holder: seeder.key(),
            shares: SEED_SHARES - seed_fee,
            fee_shares: seed_fee,
            dead_shares: DEAD_SHARES,
            amounts_in: seeded_amounts.clone(),
            balances_after: seeded_amounts,
            share_supply_after: SUPPLY0,
        })]
    );
    let mut fees = seed_fee;
    let mut supply = SUPPLY0;
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_eq!(t.balance(&seeder.shares).await, SEED_SHARES - seed_fee);

    // In kind: 3 shares and 7 units.
    let h = t.holder(&fx, rich).await;
    let s = 3 * ONE_SHARE + 7;
    let fee = fee_up(s, MINT_BPS);
    assert_eq!(fee, 9_000_001); // 9_000_000.021 rounded up
    let b = Basket::of(&t.index(&fx).await);
    let amounts: Vec<u64> = b
        .bal
        .iter()
        .map(|bal| ceil_div(s as u128 * *bal as u128, supply as u128))
        .collect();
    let bal_after: Vec<u64> = b.bal.iter().zip(&amounts).map(|(x, y)| x + y).collect();
    let ev = events(t.mint_in_kind(&fx, &h, s).await);
    assert_eq!(
        ev,
        vec![AidxEvent::MintedInKind(MintedInKind {
            index: fx.key,
            holder: h.key(),
            shares: s - fee,
            fee_shares: fee,
            dead_shares: 0,
            amounts_in: amounts,
            balances_after: bal_after,
            share_supply_after: supply + s,
        })]
    );
    fees += fee;
    supply += s;
    let mut h_shares = s - fee;
    assert_eq!(t.balance(&h.shares).await, h_shares);
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_supply(&mut t, &fx, supply).await;

    // One share unit: the fee rounds up to the whole unit, the holder gets nothing and still
    // deposits (rounded up) one unit or more of every leg.
    let b = Basket::of(&t.index(&fx).await);
    let amounts: Vec<u64> = b
        .bal
        .iter()
        .map(|bal| ceil_div(*bal as u128, supply as u128))
        .collect();
    assert!(amounts.iter().all(|a| *a >= 1));
    let bal_after: Vec<u64> = b.bal.iter().zip(&amounts).map(|(x, y)| x + y).collect();
    let ev = events(t.mint_in_kind(&fx, &h, 1).await);
    assert_eq!(
        ev,
        vec![AidxEvent::MintedInKind(MintedInKind {
            index: fx.key,
            holder: h.key(),
            shares: 0,
            fee_shares: 1,
            dead_shares: 0,
            amounts_in: amounts,
            balances_after: bal_after,
            share_supply_after: supply + 1,
        })]
    );
    fees += 1;
    supply += 1;
    assert_eq!(t.balance(&h.shares).await, h_shares);
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_supply(&mut t, &fx, supply).await;

    // Redeem in kind: the fee moves to the fee-share account, the rest is burned and paid out.
    let r = ONE_SHARE + 1;
    let fee = fee_up(r, REDEEM_BPS);
    assert_eq!(fee, 5_000_001); // 5_000_000.005 rounded up
    let net = r - fee;
    let b = Basket::of(&t.index(&fx).await);
    let out: Vec<u64> = b
        .bal
        .iter()
        .map(|bal| (net as u128 * *bal as u128 / supply as u128) as u64)
        .collect();
    let bal_after: Vec<u64> = b.bal.iter().zip(&out).map(|(x, y)| x - y).collect();
    let before = t.holder_balances(&h).await;
    let ev = events(t.redeem_in_kind(&fx, &h, r).await);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedInKind(RedeemedInKind {
            index: fx.key,
            holder: h.key(),
            shares: r,
            fee_shares: fee,
            amounts_out: out.clone(),
            skip_mask: 0,
            balances_after: bal_after,
            share_supply_after: supply - net,
        })]
    );
    let after = t.holder_balances(&h).await;
    for i in 0..N {
        assert_eq!(after[i] - before[i], out[i], "leg {i}");
    }
    fees += fee;
    supply -= net;
    h_shares -= r;
    assert_eq!(t.balance(&h.shares).await, h_shares);
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_supply(&mut t, &fx, supply).await;

    // One share unit: the fee takes it all and nothing would be paid.
    assert_aidx_error(
        &t.redeem_in_kind(&fx, &h, 1).await,
        AidxError::RedeemTooSmall,
    );

    // Single-asset, at $1 with a confidence of 0.1%.
    events(t.set_prices(&fx, &[ONE_USD; N], 10).await);
    let row = 2;
    let amount = whole(row, 7) + 12_345;
    let b = Basket::of(&t.index(&fx).await);
    assert!(b.conf.iter().all(|c| *c == USD_SCALE as u64 / 1_000));
    let deposit_value = amount as u128 * b.low(row) / b.scale(row);
    let nav_high = b.nav_high();
    let gross = (deposit_value * supply as u128 / nav_high) as u64;
    let fee = fee_up(gross, MINT_BPS);
    let mut b_after = b.clone();
    b_after.bal[row] += amount;
    let mint = fx.constituents[row].mint;
    let ev = events(t.mint_single(&fx, &h, row, amount, 0).await);
    assert_eq!(
        ev,
        vec![AidxEvent::MintedSingle(MintedSingle {
            index: fx.key,
            holder: h.key(),
            mint,
            amount_in: amount,
            deposit_value,
            nav: nav_high,
            shares: gross - fee,
            fee_shares: fee,
            prices: b.price.clone(),
            confs: b.conf.clone(),
            weights_before: b.weights(),
            weights_after: b_after.weights(),
            balance_after: b_after.bal[row],
            share_supply_after: supply + gross,
        })]
    );
    assert_eq!(gross, 87_263_622);
    assert_eq!(fee, 261_791); // 261_790.866 rounded up
    fees += fee;
    supply += gross;
    h_shares += gross - fee;
    assert_eq!(t.balance(&h.shares).await, h_shares);
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_supply(&mut t, &fx, supply).await;

    let row = 5;
    let shares = 2 * ONE_SHARE + 3;
    let fee = fee_up(shares, REDEEM_BPS);
    assert_eq!(fee, 10_000_001); // 10_000_000.015 rounded up
    let net = shares - fee;
    let b = Basket::of(&t.index(&fx).await);
    let nav_low = b.nav_low();
    let value_out = net as u128 * nav_low / supply as u128;
    let amount_out = (value_out * b.scale(row) / b.high(row)) as u64;
    let mut b_after = b.clone();
    b_after.bal[row] -= amount_out;
    let mint = fx.constituents[row].mint;
    let before = t.balance(&h.token_accounts[row]).await;
    let ev = events(t.redeem_single(&fx, &h, row, shares, 0).await);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedSingle(RedeemedSingle {
            index: fx.key,
            holder: h.key(),
            mint,
            shares,
            fee_shares: fee,
            nav: nav_low,
            value_out,
            amount_out,
            prices: b.price.clone(),
            confs: b.conf.clone(),
            weights_before: b.weights(),
            weights_after: b_after.weights(),
            balance_after: b_after.bal[row],
            share_supply_after: supply - net,
        })]
    );
    assert_eq!(t.balance(&h.token_accounts[row]).await - before, amount_out);
    fees += fee;
    supply -= net;
    h_shares -= shares;
    assert_eq!(t.balance(&h.shares).await, h_shares);
    assert_eq!(fee_balance(&mut t, &fx).await, fees);
    assert_supply(&mut t, &fx, supply).await;

    // Every share is accounted for: holders, dead shares, fee shares.
    let seeder_shares = t.balance(&seeder.shares).await;
    assert_eq!(seeder_shares + h_shares + DEAD_SHARES + fees, supply);
    assert_eq!(
        fees,
        299_999_997 + 9_000_001 + 1 + 5_000_001 + 261_791 + 10_000_001
    );

    // The fee recipient takes them all.
    let recipient_shares = t
        .chain
        .create_ata(
            &roles.fee_recipient.pubkey(),
            &fx.share_mint,
            &TOKEN_PROGRAM_ID,
        )
        .await
        .unwrap();
    let index = t.index(&fx).await;
    assert_eq!(
        events(
            t.send(client::claim_fees(&fx.key, &index), &[&roles.fee_recipient])
                .await
        ),
        vec![AidxEvent::FeesClaimed(FeesClaimed {
            index: fx.key,
            fee_recipient: roles.fee_recipient.pubkey(),
            shares: fees,
        })]
    );
    assert_eq!(t.balance(&recipient_shares).await, fees);
    assert_eq!(fee_balance(&mut t, &fx).await, 0);
    assert_supply(&mut t, &fx, supply).await;
}

// ---------------------------------------------------------------------------------------------
// 2. Roles.

/// Methodology input rows for every constituent: equal circulating supply, liquid.
fn input_rows(index: &Index) -> Vec<MethodologyInputRow> {
    index
        .constituents()
        .iter()
        .enumerate()
        .map(|(k, c)| MethodologyInputRow {
            mint: c.mint,
            circulating_supply: 1_000_000,
            avg_daily_volume_usd: 10_000_000,
            depth_usd: None,
            unlock: false,
            sub_sector: c.sub_sector,
            bucket: c.bucket,
            rank: k as u16 + 1,
        })
        .collect()
}

/// Every admin-side instruction refuses every key but its own with a named error, and leaves
/// the index byte for byte as it was; the right signer then succeeds with the same arguments.
#[tokio::test]
async fn admin_instructions_refuse_the_wrong_signer() {
    let mut t = TestContext::new().await;
    let roles = Roles::new();
    let fx = t
        .create_index_with(roles.args(IndexParams::default()), 2, units)
        .await;
    let stranger = Keypair::new();
    let index = t.index(&fx).await;
    let new_mint = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let add_args = || AddConstituentArgs {
        sub_sector: 3,
        bucket: 0,
        feed_id: [0xab; 32],
        initial_units_per_share: 0,
        target_weight: 0,
    };
    let now = t.now().await;
    let inputs = SetMethodologyInputsArgs {
        observed_at: now,
        rows: input_rows(&index),
    };
    let before = t.chain.account_data(&fx.key).await.unwrap();

    // Neither a stranger nor the holders of the other roles act as admin.
    let not_admin = [
        &stranger,
        &roles.guardian,
        &roles.methodology,
        &roles.fee_recipient,
    ];
    for k in not_admin {
        for c in &fx.constituents {
            t.chain
                .create_ata(&k.pubkey(), &c.mint, &c.token_program)
                .await
                .unwrap();
        }
        let key = k.pubkey();
        let ixs = [
            (
                "set_params",
                client::set_params(&fx.key, &index, &key, IndexParams::default()),
            ),
            (
                "set_roles",
                client::set_roles(
                    &fx.key,
                    &key,
                    SetRolesArgs {
                        methodology_authority: key,
                        guardian: key,
                        fee_recipient: key,
                    },
                ),
            ),
            ("propose_admin", client::propose_admin(&fx.key, &key, key)),
            (
                "wind_down_constituent",
                client::wind_down_constituent(&fx.key, &key, fx.constituents[1].mint),
            ),
            ("remove_constituent", remove_as(&fx, &index, &key, 1)),
            ("open_review", client::open_review(&fx.key, &key)),
            ("open_index", client::open_index(&fx.key, &key)),
            (
                "add_constituent",
                client::add_constituent(
                    &t.payer(),
                    &key,
                    &fx.key,
                    &new_mint,
                    &TOKEN_PROGRAM_ID,
                    add_args(),
                ),
            ),
        ];
        for (name, ix) in ixs {
            let r = t.send(ix, &[k]).await;
            assert_eq!(
                custom_code(&r),
                Some(u32::from(AidxError::UnauthorizedAdmin)),
                "{name} signed by {key}: {:?}",
                r.as_ref().map(|o| &o.events).map_err(|f| &f.error)
            );
        }
    }

    // accept_admin with nobody proposed: nobody, not even the admin, is the pending admin.
    for k in [&stranger, &fx.admin] {
        let r = t
            .send(client::accept_admin(&fx.key, &k.pubkey()), &[k])
            .await;
        assert_aidx_error(&r, AidxError::NotPendingAdmin);
    }
    // Methodology inputs: only the methodology authority (not the admin).
    for k in [&stranger, &fx.admin, &roles.guardian] {
        let ix = client::set_methodology_inputs(&fx.key, &k.pubkey(), inputs.clone());
        let r = t.send(ix, &[k]).await;
        assert_aidx_error(&r, AidxError::UnauthorizedMethodologyAuthority);
    }
    // Pause: only the guardian or the admin.
    for k in [&stranger, &roles.methodology, &roles.fee_recipient] {
        let r = set_pause(&mut t, &fx, k, PAUSE_MINT_IN_KIND).await;
        assert_aidx_error(&r, AidxError::UnauthorizedGuardian);
    }
    // Claim: only the fee recipient.
    for k in [&stranger, &fx.admin] {
        t.chain
            .create_ata(&k.pubkey(), &fx.share_mint, &TOKEN_PROGRAM_ID)
            .await
            .unwrap();
        let r = t.send(claim_as(&fx, &k.pubkey()), &[k]).await;
        assert_aidx_error(&r, AidxError::UnauthorizedFeeRecipient);
    }
    assert_eq!(
        t.chain.account_data(&fx.key).await.unwrap(),
        before,
        "refused instructions change nothing"
    );

    // The right signers, same arguments.
    let ev = events(
        t.send(
            client::set_methodology_inputs(&fx.key, &roles.methodology.pubkey(), inputs.clone()),
            &[&roles.methodology],
        )
        .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::MethodologyInputsSet(MethodologyInputsSet {
            index: fx.key,
            observed_at: now,
            rows: inputs.rows.clone(),
        })]
    );
    let ev = events(
        t.send(
            client::open_review(&fx.key, &fx.admin.pubkey()),
            &[&fx.admin],
        )
        .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::ReviewOpened(ReviewOpened {
            index: fx.key,
            at: now,
        })]
    );
    assert_eq!(t.index(&fx).await.review_open, 1);
    let ev = events(
        t.add_constituent(&fx.key, &fx.admin, &new_mint, &TOKEN_PROGRAM_ID, add_args())
            .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::ConstituentAdded(ConstituentAdded {
            index: fx.key,
            position: 2,
            mint: new_mint,
            vault: vault_address(&fx.key, &new_mint),
            token_program: TOKEN_PROGRAM_ID,
            feed_id: [0xab; 32],
            decimals: 6,
            sub_sector: 3,
            bucket: 0,
            initial_units_per_share: 0,
            target_weight: 0,
            leg_accounts: 2,
            freeze_authority: None,
            pausable: false,
        })]
    );
    let targets = t.index(&fx).await.targets();
    let ev = events(
        t.send(
            client::wind_down_constituent(&fx.key, &fx.admin.pubkey(), new_mint),
            &[&fx.admin],
        )
        .await,
    );
    // Its target was 0: the others keep theirs.
    assert_eq!(
        ev,
        vec![AidxEvent::ConstituentWindingDown(ConstituentWindingDown {
            index: fx.key,
            mint: new_mint,
            row: 2,
            old_target: 0,
            balance: 0,
            targets_after: targets,
        })]
    );
    t.chain
        .create_ata(&fx.admin.pubkey(), &new_mint, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();
    let index = t.index(&fx).await;
    let ix = client::remove_constituent(&fx.key, &index, &fx.admin.pubkey(), 2);
    assert_eq!(
        events(t.send(ix, &[&fx.admin]).await),
        vec![AidxEvent::ConstituentRemoved(ConstituentRemoved {
            index: fx.key,
            mint: new_mint,
            row: 2,
            swept: 0,
        })]
    );
    assert_eq!(t.index(&fx).await.num_constituents, 2);

    // The guardian only adds flags; the admin sets any.
    let g = &roles.guardian;
    let pause_set = |by: &Keypair, old: u8, new: u8| {
        vec![AidxEvent::PauseSet(PauseSet {
            index: fx.key,
            by: by.pubkey(),
            old,
            new,
        })]
    };
    assert_eq!(
        events(set_pause(&mut t, &fx, g, PAUSE_MINT_IN_KIND).await),
        pause_set(g, 0, PAUSE_MINT_IN_KIND)
    );
    for flags in [0, PAUSE_MINT_SINGLE, PAUSE_ALL & !PAUSE_MINT_IN_KIND] {
        assert_aidx_error(
            &set_pause(&mut t, &fx, g, flags).await,
            AidxError::GuardianCannotUnpause,
        );
    }
    let both = PAUSE_MINT_IN_KIND | PAUSE_REDEEM_SINGLE;
    assert_eq!(
        events(set_pause(&mut t, &fx, g, both).await),
        pause_set(g, PAUSE_MINT_IN_KIND, both)
    );
    assert_eq!(
        events(set_pause(&mut t, &fx, &fx.admin, PAUSE_MINT_SINGLE).await),
        pause_set(&fx.admin, both, PAUSE_MINT_SINGLE)
    );
    assert_eq!(
        events(set_pause(&mut t, &fx, &fx.admin, 0).await),
        pause_set(&fx.admin, PAUSE_MINT_SINGLE, 0)
    );
    assert_eq!(t.index(&fx).await.paused, 0);

    // set_roles: old and new in the event; a default key is refused in every position.
    let new = Roles::new();
    let roles_args = SetRolesArgs {
        methodology_authority: new.methodology.pubkey(),
        guardian: new.guardian.pubkey(),
        fee_recipient: new.fee_recipient.pubkey(),
    };
    for k in 0..3 {
        let mut a = roles_args.clone();
        match k {
            0 => a.methodology_authority = Pubkey::default(),
            1 => a.guardian = Pubkey::default(),
            _ => a.fee_recipient = Pubkey::default(),
        }
        let r = t
            .send(
                client::set_roles(&fx.key, &fx.admin.pubkey(), a),
                &[&fx.admin],
            )
            .await;
        assert_aidx_error(&r, AidxError::InvalidRole);
    }
    let ev = events(
        t.send(
            client::set_roles(&fx.key, &fx.admin.pubkey(), roles_args),
            &[&fx.admin],
        )
        .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::RolesUpdated(RolesUpdated {
            index: fx.key,
            old_methodology_authority: roles.methodology.pubkey(),
            new_methodology_authority: new.methodology.pubkey(),
            old_guardian: roles.guardian.pubkey(),
            new_guardian: new.guardian.pubkey(),
            old_fee_recipient: roles.fee_recipient.pubkey(),
            new_fee_recipient: new.fee_recipient.pubkey(),
        })]
    );
    // The old holders lost their roles, the new ones have them.
    let later = SetMethodologyInputsArgs {
        observed_at: t.now().await,
        rows: inputs.rows.clone(),
    };
    let ix = client::set_methodology_inputs(&fx.key, &roles.methodology.pubkey(), later.clone());
    assert_aidx_error(
        &t.send(ix, &[&roles.methodology]).await,
        AidxError::UnauthorizedMethodologyAuthority,
    );
    let ix = client::set_methodology_inputs(&fx.key, &new.methodology.pubkey(), later);
    events(t.send(ix, &[&new.methodology]).await);
    assert_aidx_error(
        &set_pause(&mut t, &fx, &roles.guardian, PAUSE_ALL).await,
        AidxError::UnauthorizedGuardian,
    );
    assert_eq!(
        events(set_pause(&mut t, &fx, &new.guardian, PAUSE_TARGETS).await),
        pause_set(&new.guardian, 0, PAUSE_TARGETS)
    );
    t.chain
        .create_ata(
            &roles.fee_recipient.pubkey(),
            &fx.share_mint,
            &TOKEN_PROGRAM_ID,
        )
        .await
        .unwrap();
    assert_aidx_error(
        &t.send(
            claim_as(&fx, &roles.fee_recipient.pubkey()),
            &[&roles.fee_recipient],
        )
        .await,
        AidxError::UnauthorizedFeeRecipient,
    );

    // Two-step admin transfer.
    let old_admin = &fx.admin;
    let p = Keypair::new();
    let q = Keypair::new();
    let proposed = |old_pending: Pubkey, new_pending: Pubkey| {
        vec![AidxEvent::AdminProposed(AdminProposed {
            index: fx.key,
            admin: old_admin.pubkey(),
            old_pending,
            new_pending,
        })]
    };
    assert_eq!(
        events(propose(&mut t, &fx, old_admin, p.pubkey()).await),
        proposed(Pubkey::default(), p.pubkey())
    );
    assert_eq!(t.index(&fx).await.pending_admin, p.pubkey());
    for k in [&stranger, old_admin, &q] {
        let r = t
            .send(client::accept_admin(&fx.key, &k.pubkey()), &[k])
            .await;
        assert_aidx_error(&r, AidxError::NotPendingAdmin);
    }
    // A new proposal replaces the old one; the default key cancels it.
    assert_eq!(
        events(propose(&mut t, &fx, old_admin, q.pubkey()).await),
        proposed(p.pubkey(), q.pubkey())
    );
    let r = t
        .send(client::accept_admin(&fx.key, &p.pubkey()), &[&p])
        .await;
    assert_aidx_error(&r, AidxError::NotPendingAdmin);
    assert_eq!(
        events(propose(&mut t, &fx, old_admin, Pubkey::default()).await),
        proposed(q.pubkey(), Pubkey::default())
    );
    let r = t
        .send(client::accept_admin(&fx.key, &q.pubkey()), &[&q])
        .await;
    assert_aidx_error(&r, AidxError::NotPendingAdmin);
    assert_eq!(
        events(propose(&mut t, &fx, old_admin, p.pubkey()).await),
        proposed(Pubkey::default(), p.pubkey())
    );
    let ev = events(
        t.send(client::accept_admin(&fx.key, &p.pubkey()), &[&p])
            .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::AdminAccepted(AdminAccepted {
            index: fx.key,
            old_admin: old_admin.pubkey(),
            new_admin: p.pubkey(),
        })]
    );
    let index = t.index(&fx).await;
    assert_eq!(index.admin, p.pubkey());
    assert_eq!(index.pending_admin, Pubkey::default());
    // Accepting twice: nobody is pending any more.
    let r = t
        .send(client::accept_admin(&fx.key, &p.pubkey()), &[&p])
        .await;
    assert_aidx_error(&r, AidxError::NotPendingAdmin);

    // The old admin lost every right, the pause included; the new admin has them.
    let params = IndexParams {
        mint_fee_bps: 7,
        ..index.params
    };
    assert_aidx_error(
        &set_params(&mut t, &fx, old_admin, params).await,
        AidxError::UnauthorizedAdmin,
    );
    assert_aidx_error(
        &propose(&mut t, &fx, old_admin, old_admin.pubkey()).await,
        AidxError::UnauthorizedAdmin,
    );
    assert_aidx_error(
        &set_pause(&mut t, &fx, old_admin, 0).await,
        AidxError::UnauthorizedGuardian,
    );
    assert_eq!(
        events(set_params(&mut t, &fx, &p, params).await),
        vec![AidxEvent::ParamsUpdated(ParamsUpdated {
            index: fx.key,
            old: index.params,
            new: params,
        })]
    );
    assert_eq!(
        events(set_pause(&mut t, &fx, &p, 0).await),
        pause_set(&p, PAUSE_TARGETS, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Parameter bounds.

/// One bounded field of `IndexParams`.
struct Bound {
    name: &'static str,
    set: fn(&mut IndexParams, u64),
    /// Just outside the bounds (and far outside), each refused with `error`.
    refused: Vec<u64>,
    /// The exact bounds, each accepted.
    accepted: Vec<u64>,
    error: AidxError,
}

fn bounds() -> Vec<Bound> {
    vec![
        Bound {
            name: "max_weight",
            set: |p, v| p.max_weight = v,
            refused: vec![0, MIN_MAX_WEIGHT - 1, MAX_MAX_WEIGHT + 1, u64::MAX],
            accepted: vec![MIN_MAX_WEIGHT, MAX_MAX_WEIGHT],
            error: AidxError::InvalidMaxWeight,
        },
        Bound {
            name: "band",
            set: |p, v| p.band = v,
            refused: vec![0, MIN_BAND - 1, MAX_BAND + 1, u64::MAX],
            accepted: vec![MIN_BAND, MAX_BAND],
            error: AidxError::InvalidBand,
        },
        Bound {
            name: "unlock_haircut",
            set: |p, v| p.unlock_haircut = v,
            refused: vec![0, MIN_UNLOCK_HAIRCUT - 1, MAX_UNLOCK_HAIRCUT + 1, u64::MAX],
            accepted: vec![MIN_UNLOCK_HAIRCUT, MAX_UNLOCK_HAIRCUT],
            error: AidxError::InvalidUnlockHaircut,
        },
        Bound {
            name: "pure_play_share",
            set: |p, v| p.pure_play_share = v,
            refused: vec![
                1,
                MIN_PURE_PLAY_SHARE - 1,
                MAX_PURE_PLAY_SHARE + 1,
                WEIGHT_SCALE,
            ],
            accepted: vec![MIN_PURE_PLAY_SHARE, MAX_PURE_PLAY_SHARE, 0],
            error: AidxError::InvalidPurePlayShare,
        },
        Bound {
            name: "oracle_max_age_secs",
            // (With the trade age at its minimum, which may not exceed the oracle max age.)
            set: |p, v| {
                p.oracle_max_age_secs = v as u32;
                p.trade_max_age_secs = MIN_TRADE_MAX_AGE_SECS;
            },
            refused: vec![
                0,
                MIN_ORACLE_MAX_AGE_SECS as u64 - 1,
                MAX_ORACLE_MAX_AGE_SECS as u64 + 1,
                u32::MAX as u64,
            ],
            accepted: vec![
                MIN_ORACLE_MAX_AGE_SECS as u64,
                MAX_ORACLE_MAX_AGE_SECS as u64,
            ],
            error: AidxError::InvalidOracleMaxAge,
        },
        Bound {
            name: "auction_duration_secs",
            set: |p, v| p.auction_duration_secs = v as u32,
            refused: vec![
                0,
                MIN_AUCTION_DURATION_SECS as u64 - 1,
                MAX_AUCTION_DURATION_SECS as u64 + 1,
                u32::MAX as u64,
            ],
            accepted: vec![
                MIN_AUCTION_DURATION_SECS as u64,
                MAX_AUCTION_DURATION_SECS as u64,
            ],
            error: AidxError::InvalidAuctionDuration,
        },
        Bound {
            name: "review_period_secs",
            set: |p, v| p.review_period_secs = v as u32,
            refused: vec![
                0,
                MIN_REVIEW_PERIOD_SECS as u64 - 1,
                MAX_REVIEW_PERIOD_SECS as u64 + 1,
                u32::MAX as u64,
            ],
            accepted: vec![MIN_REVIEW_PERIOD_SECS as u64, MAX_REVIEW_PERIOD_SECS as u64],
            error: AidxError::InvalidReviewPeriod,
        },
        Bound {
            name: "mint_fee_bps",
            set: |p, v| p.mint_fee_bps = v as u16,
            refused: vec![MAX_MINT_FEE_BPS as u64 + 1, u16::MAX as u64],
            accepted: vec![0, MAX_MINT_FEE_BPS as u64],
            error: AidxError::InvalidMintFee,
        },
        Bound {
            name: "redeem_fee_bps",
            set: |p, v| p.redeem_fee_bps = v as u16,
            refused: vec![MAX_REDEEM_FEE_BPS as u64 + 1, u16::MAX as u64],
            accepted: vec![0, MAX_REDEEM_FEE_BPS as u64],
            error: AidxError::InvalidRedeemFee,
        },
        Bound {
            name: "management_fee_bps",
            set: |p, v| p.management_fee_bps = v as u16,
            refused: vec![MAX_MANAGEMENT_FEE_BPS as u64 + 1, u16::MAX as u64],
            accepted: vec![0, MAX_MANAGEMENT_FEE_BPS as u64],
            error: AidxError::InvalidManagementFee,
        },
        Bound {
            name: "oracle_max_conf_bps",
            set: |p, v| p.oracle_max_conf_bps = v as u16,
            refused: vec![
                MIN_ORACLE_MAX_CONF_BPS as u64 - 1,
                MAX_ORACLE_MAX_CONF_BPS as u64 + 1,
                u16::MAX as u64,
            ],
            accepted: vec![
                MIN_ORACLE_MAX_CONF_BPS as u64,
                MAX_ORACLE_MAX_CONF_BPS as u64,
            ],
            error: AidxError::InvalidOracleConfidence,
        },
        Bound {
            name: "auction_max_reward_bps",
            set: |p, v| p.auction_max_reward_bps = v as u16,
            refused: vec![MAX_AUCTION_REWARD_BPS as u64 + 1, u16::MAX as u64],
            accepted: vec![0, MAX_AUCTION_REWARD_BPS as u64],
            error: AidxError::InvalidAuctionReward,
        },
        // At most the oracle max age (60 s in the parameters these run against).
        Bound {
            name: "trade_max_age_secs",
            set: |p, v| p.trade_max_age_secs = v as u16,
            refused: vec![0, 61, u16::MAX as u64],
            accepted: vec![MIN_TRADE_MAX_AGE_SECS as u64, 60],
            error: AidxError::InvalidTradeMaxAge,
        },
        // 0 (any time), or from the auction's length to the review period.
        Bound {
            name: "rebalance_window_secs",
            set: |p, v| p.rebalance_window_secs = v as u32,
            refused: vec![1, 6 * 3_600 - 1, 91 * 86_400 + 1],
            accepted: vec![0, 6 * 3_600, 91 * 86_400],
            error: AidxError::InvalidRebalanceWindow,
        },
        // 0 (none), or from the cap to 100%.
        Bound {
            name: "breach_weight_bps",
            set: |p, v| p.breach_weight_bps = v as u16,
            refused: vec![1, 1_499, 10_001, u16::MAX as u64],
            accepted: vec![0, 1_500, 10_000],
            error: AidxError::InvalidBreachWeight,
        },
        Bound {
            name: "clip",
            set: |p, v| p.clip = v as u8,
            refused: vec![2, u8::MAX as u64],
            accepted: vec![CLIP_TARGET as u64, CLIP_EDGE as u64],
            error: AidxError::InvalidClip,
        },
        // The count at most the table; the buffer at most half the count (24 here).
        Bound {
            name: "max_members",
            set: |p, v| p.max_members = v as u8,
            refused: vec![MAX_CONSTITUENTS as u64 + 1, u8::MAX as u64],
            accepted: vec![MAX_CONSTITUENTS as u64, 12],
            error: AidxError::InvalidMaxMembers,
        },
        Bound {
            name: "rank_buffer",
            set: |p, v| p.rank_buffer = v as u8,
            refused: vec![13, u8::MAX as u64],
            accepted: vec![0, 12],
            error: AidxError::InvalidRankBuffer,
        },
        Bound {
            name: "exit_volume_usd",
            set: |p, v| p.exit_volume_usd = v as u32,
            refused: vec![5_000_001, u32::MAX as u64],
            accepted: vec![0, 5_000_000],
            error: AidxError::InvalidExitVolume,
        },
        Bound {
            name: "reviews_under_entry",
            set: |p, v| p.reviews_under_entry = v as u8,
            refused: vec![MAX_REVIEWS_UNDER_ENTRY as u64 + 1, u8::MAX as u64],
            accepted: vec![0, MAX_REVIEWS_UNDER_ENTRY as u64],
            error: AidxError::InvalidReviewsUnderEntry,
        },
    ]
}

/// Every bounded field through `set_params`: refused just outside each bound (and far outside)
/// with its own error, the index unchanged; accepted exactly at each bound with `ParamsUpdated`
/// carrying the old and the new parameters. Every padding byte must be zero. A change on a
/// seeded index accrues the management fee at the old rate first.
#[tokio::test]
async fn set_params_enforces_every_bound() {
    // The window at 0 ("any time"): the auction's length and the review period bound it, so
    // at 0 those two can move to their own bounds.
    let Seeded { mut t, fx, .. } = seeded(3, |p| {
        p.management_fee_bps = 100;
        p.rebalance_window_secs = 0;
    })
    .await;
    let admin = &fx.admin;

    // 30 days in, a change accrues those 30 days at the old rate (1%), then applies.
    let t0 = t.index(&fx).await.last_fee_accrual_at;
    t.warp_to_time(t0 + 30 * DAY).await;
    let old = t.index(&fx).await.params;
    let new = IndexParams {
        management_fee_bps: MAX_MANAGEMENT_FEE_BPS,
        ..old
    };
    let fee = management_fee(SUPPLY0, 100, 30 * DAY);
    assert_eq!(fee, 82_259_392);
    assert_eq!(
        events(set_params(&mut t, &fx, admin, new).await),
        vec![
            AidxEvent::FeesAccrued(FeesAccrued {
                index: fx.key,
                elapsed: 30 * DAY,
                management_fee_bps: 100,
                fee_shares: fee,
                share_supply_after: SUPPLY0 + fee,
            }),
            AidxEvent::ParamsUpdated(ParamsUpdated {
                index: fx.key,
                old,
                new,
            }),
        ]
    );
    assert_supply(&mut t, &fx, SUPPLY0 + fee).await;

    // The clock stands still from here: no accrual event between the updates.
    let mut current = new;
    let base = new;
    let mut accepted = 0;
    for b in bounds() {
        for v in &b.refused {
            let mut p = base;
            (b.set)(&mut p, *v);
            let before = t.chain.account_data(&fx.key).await.unwrap();
            let r = set_params(&mut t, &fx, admin, p).await;
            assert_eq!(
                custom_code(&r),
                Some(u32::from(b.error)),
                "{} = {v}: expected {:?}",
                b.name,
                b.error
            );
            assert_eq!(t.chain.account_data(&fx.key).await.unwrap(), before);
        }
        for v in &b.accepted {
            let mut p = base;
            (b.set)(&mut p, *v);
            let ev = events(set_params(&mut t, &fx, admin, p).await);
            assert_eq!(
                ev,
                vec![AidxEvent::ParamsUpdated(ParamsUpdated {
                    index: fx.key,
                    old: current,
                    new: p,
                })],
                "{} = {v}",
                b.name
            );
            assert_eq!(t.index(&fx).await.params, p);
            current = p;
            accepted += 1;
        }
    }
    assert_eq!(accepted, 43);

    // Padding: every byte must be zero.
    for k in 0..2 {
        let mut p = base;
        p._padding[k] = 1;
        assert_aidx_error(
            &set_params(&mut t, &fx, admin, p).await,
            AidxError::InvalidPadding,
        );
    }
    assert_eq!(t.index(&fx).await.params, current);
    assert_supply(&mut t, &fx, SUPPLY0 + fee).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Pause.

/// With every flag set, holders can still leave in kind (paid exactly), and every other
/// operation is `Paused`. Unknown bits are refused. Clearing one flag frees its operation only.
#[tokio::test]
async fn pause_all_still_lets_holders_redeem_in_kind() {
    const N: usize = 8;
    let Seeded {
        mut t,
        fx,
        seeder,
        roles,
        ..
    } = seeded(N, |_| {}).await;
    events(t.set_prices(&fx, &[ONE_USD; N], 0).await);
    let g = &roles.guardian;

    for flags in [PAUSE_ALL + 1, 64, 128, 255] {
        for by in [g, &fx.admin] {
            assert_aidx_error(
                &set_pause(&mut t, &fx, by, flags).await,
                AidxError::InvalidPauseFlags,
            );
        }
    }
    assert_eq!(PAUSE_ALL, 0b1_1111);
    assert_eq!(
        events(set_pause(&mut t, &fx, g, PAUSE_ALL).await),
        vec![AidxEvent::PauseSet(PauseSet {
            index: fx.key,
            by: g.pubkey(),
            old: 0,
            new: PAUSE_ALL,
        })]
    );
    assert_eq!(t.index(&fx).await.paused, PAUSE_ALL);

    // Redeem in kind: exactly pro rata, rounded down.
    let r = 7 * ONE_SHARE + 3;
    let out: Vec<u64> = (0..N)
        .map(|i| (r as u128 * whole(i, 1_000) as u128 / SUPPLY0 as u128) as u64)
        .collect();
    assert_eq!(out[0], 70_000_000); // 70.000000 of a 6-decimal token
    assert_eq!(out[3], 70); // 70.00000021 whole tokens of a 0-decimal one, rounded down
    let bal_after: Vec<u64> = (0..N).map(|i| whole(i, 1_000) - out[i]).collect();
    let before = t.holder_balances(&seeder).await;
    let ev = events(t.redeem_in_kind(&fx, &seeder, r).await);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedInKind(RedeemedInKind {
            index: fx.key,
            holder: seeder.key(),
            shares: r,
            fee_shares: 0,
            amounts_out: out.clone(),
            skip_mask: 0,
            balances_after: bal_after.clone(),
            share_supply_after: SUPPLY0 - r,
        })]
    );
    let after = t.holder_balances(&seeder).await;
    for i in 0..N {
        assert_eq!(after[i] - before[i], out[i], "leg {i}");
    }
    assert_eq!(t.vault_balances(&fx).await, bal_after);
    assert_supply(&mut t, &fx, SUPPLY0 - r).await;

    // Everything else is paused.
    let snapshot = t.chain.account_data(&fx.key).await.unwrap();
    assert_aidx_error(
        &t.mint_in_kind(&fx, &seeder, ONE_SHARE).await,
        AidxError::Paused,
    );
    assert_aidx_error(
        &t.mint_single(&fx, &seeder, 0, whole(0, 1), 0).await,
        AidxError::Paused,
    );
    assert_aidx_error(
        &t.redeem_single(&fx, &seeder, 0, ONE_SHARE, 0).await,
        AidxError::Paused,
    );
    let index = t.index(&fx).await;
    let swap = client::rebalance_swap(
        &fx.key,
        &index,
        &seeder.key(),
        0,
        1,
        RebalanceSwapArgs {
            amount_in: whole(0, 1),
            min_amount_out: 0,
        },
    );
    assert_aidx_error(
        &t.send(swap.clone(), &[&seeder.keypair]).await,
        AidxError::Paused,
    );
    assert_aidx_error(
        &t.send(client::recompute_targets(&fx.key), &[]).await,
        AidxError::Paused,
    );
    assert_eq!(t.chain.account_data(&fx.key).await.unwrap(), snapshot);

    // The admin clears the in-kind mint flag only: that mint works, single mints stay paused.
    let flags = PAUSE_ALL & !PAUSE_MINT_IN_KIND;
    assert_eq!(
        events(set_pause(&mut t, &fx, &fx.admin, flags).await),
        vec![AidxEvent::PauseSet(PauseSet {
            index: fx.key,
            by: fx.admin.pubkey(),
            old: PAUSE_ALL,
            new: flags,
        })]
    );
    let ev = events(t.mint_in_kind(&fx, &seeder, r).await);
    let [AidxEvent::MintedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.share_supply_after, SUPPLY0);
    assert_aidx_error(
        &t.mint_single(&fx, &seeder, 0, whole(0, 1), 0).await,
        AidxError::Paused,
    );
    assert_aidx_error(&t.send(swap, &[&seeder.keypair]).await, AidxError::Paused);
}

// ---------------------------------------------------------------------------------------------
// 5. Lifecycle.

/// 9 constituents at $1 (targets 1/9), seeded with 1_000 whole tokens each; no auction reward,
/// so every swap is value for value and the amounts are exact.
///
/// * Y is added after seeding at target 0 (a single-asset deposit of it breaks the band rule),
///   wound down and removed empty.
/// * X (row 3, Token-2022, 0 decimals) is wound down to target 0; the methodology, recomputed,
///   gives it 0 and the eight others 12.5%; eight swaps (each paying in one underweight
///   constituent, clipped at its target) take X from 1_000 to exactly 0; tokens donated to its
///   vault are swept to the admin at removal; the vault is closed and the rows after it move up.
/// * In-kind mint and redeem work with the shorter table.
#[tokio::test]
async fn constituent_lifecycle_add_wind_down_sell_out_remove() {
    const N: usize = 9;
    const X: usize = 3;
    let Seeded {
        mut t,
        mut fx,
        mut seeder,
        roles,
        ..
    } = seeded(N, |p| p.auction_max_reward_bps = 0).await;
    let mut caller = t.holder(&fx, rich).await;
    let admin = fx.admin.insecure_clone();
    let wind_down = |mint: Pubkey| client::wind_down_constituent(&fx.key, &admin.pubkey(), mint);
    let nine_th = WEIGHT_SCALE / N as u64;
    assert_eq!(nine_th, 111_111_111);

    // ---- Y: added after seeding, at target 0 and empty.
    let y = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let y_vault = vault_address(&fx.key, &y);
    let ev = events(
        t.add_constituent(
            &fx.key,
            &admin,
            &y,
            &TOKEN_PROGRAM_ID,
            AddConstituentArgs {
                sub_sector: 2,
                bucket: 0,
                feed_id: [0xab; 32],
                initial_units_per_share: 0,
                target_weight: 0,
            },
        )
        .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::ConstituentAdded(ConstituentAdded {
            index: fx.key,
            position: N as u8,
            mint: y,
            vault: y_vault,
            token_program: TOKEN_PROGRAM_ID,
            feed_id: [0xab; 32],
            decimals: 6,
            sub_sector: 2,
            bucket: 0,
            initial_units_per_share: 0,
            target_weight: 0,
            leg_accounts: 2,
            freeze_authority: None,
            pausable: false,
        })]
    );
    fx.constituents.push(ConstituentFixture {
        mint: y,
        token_program: TOKEN_PROGRAM_ID,
        decimals: 6,
        units_per_share: 0,
        feed_id: [0xab; 32],
    });
    let caller_y = t
        .chain
        .create_ata(&caller.key(), &y, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();
    t.chain
        .mint_to(&y, &caller_y, &TOKEN_PROGRAM_ID, 1_000_000_000)
        .await
        .unwrap();
    events(t.set_prices(&fx, &[ONE_USD; N + 1], 0).await);
    // At target 0, any deposit of it ends further outside its band.
    assert_aidx_error(
        &t.mint_single(&fx, &caller, N, 1_000_000, 0).await,
        AidxError::WeightFurtherOutOfBand,
    );
    t.chain
        .create_ata(&admin.pubkey(), &y, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();
    let index = t.index(&fx).await;
    let remove_y = client::remove_constituent(&fx.key, &index, &admin.pubkey(), N);
    assert_aidx_error(
        &t.send(remove_y.clone(), &[&admin]).await,
        AidxError::NotWindingDown,
    );
    let targets = t.index(&fx).await.targets();
    assert_eq!(
        events(t.send(wind_down(y), &[&admin]).await),
        vec![AidxEvent::ConstituentWindingDown(ConstituentWindingDown {
            index: fx.key,
            mint: y,
            row: N as u8,
            old_target: 0,
            balance: 0,
            targets_after: targets,
        })]
    );
    let y_rent = t.chain.account(&y_vault).await.unwrap().unwrap().lamports;
    let admin_lamports = t
        .chain
        .account(&admin.pubkey())
        .await
        .unwrap()
        .map_or(0, |a| a.lamports);
    assert_eq!(
        events(t.send(remove_y, &[&admin]).await),
        vec![AidxEvent::ConstituentRemoved(ConstituentRemoved {
            index: fx.key,
            mint: y,
            row: N as u8,
            swept: 0,
        })]
    );
    assert!(t.chain.account(&y_vault).await.unwrap().is_none());
    assert_eq!(
        t.chain
            .account(&admin.pubkey())
            .await
            .unwrap()
            .unwrap()
            .lamports,
        admin_lamports + y_rent
    );
    fx.constituents.pop();
    let index = t.index(&fx).await;
    assert_eq!(index.num_constituents, N as u8);
    assert_eq!(index.constituents[N], empty_row());
    assert_aidx_error(
        &t.send(wind_down(y), &[&admin]).await,
        AidxError::UnknownConstituent,
    );

    // ---- X: seeded, wound down.
    let x = fx.constituents[X].mint;
    let x_program = fx.constituents[X].token_program;
    assert_eq!(x_program, TOKEN_2022_PROGRAM_ID);
    assert_eq!(u32::from(mixed_decimals(X)), 0);
    let x_vault = vault_address(&fx.key, &x);
    let before_wind_down = t.index(&fx).await;
    // X's target goes to the others pro rata, capped: the targets keep their sum exactly (the
    // stated ninths sum to one unit under 1).
    let mut others: Vec<u128> = before_wind_down
        .targets()
        .iter()
        .map(|t| *t as u128)
        .collect();
    others[X] = 0;
    let total: u64 = before_wind_down.targets().iter().sum();
    assert_eq!(total, 9 * nine_th);
    let want =
        aidx::math::methodology::distribute(&others, total, before_wind_down.params.max_weight)
            .unwrap();
    assert_eq!(want.iter().sum::<u64>(), total);
    assert_eq!(want[X], 0);
    assert_eq!(
        events(t.send(wind_down(x), &[&admin]).await),
        vec![AidxEvent::ConstituentWindingDown(ConstituentWindingDown {
            index: fx.key,
            mint: x,
            row: X as u8,
            old_target: nine_th,
            balance: 1_000,
            targets_after: want.clone(),
        })]
    );
    let index = t.index(&fx).await;
    let cx = &index.constituents()[X];
    assert_eq!(cx.status, ConstituentStatus::WindingDown as u8);
    assert_eq!(cx.target_weight, 0);
    assert_eq!(cx.balance, 1_000);
    assert_eq!(index.targets(), want);
    // Nothing else about the other rows changed.
    for (a, b) in index.constituents()[X + 1..]
        .iter()
        .zip(&before_wind_down.constituents()[X + 1..])
    {
        assert_eq!(
            Constituent {
                target_weight: b.target_weight,
                ..*a
            },
            *b
        );
    }
    assert_aidx_error(
        &t.send(wind_down(x), &[&admin]).await,
        AidxError::AlreadyWindingDown,
    );
    let admin_x = t
        .chain
        .create_ata(&admin.pubkey(), &x, &x_program)
        .await
        .unwrap();
    let remove_x = client::remove_constituent(&fx.key, &index, &admin.pubkey(), X);
    assert_aidx_error(
        &t.send(remove_x.clone(), &[&admin]).await,
        AidxError::ConstituentNotEmpty,
    );
    // An active constituent cannot be removed either.
    t.chain
        .create_ata(&admin.pubkey(), &fx.constituents[0].mint, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();
    assert_aidx_error(
        &t.send(
            client::remove_constituent(&fx.key, &index, &admin.pubkey(), 0),
            &[&admin],
        )
        .await,
        AidxError::NotWindingDown,
    );

    // Fresh prices: X, at target 0, is out of band; the auction clock starts, at the targets
    // the wind-down handed out.
    let now = t.now().await;
    let ev = events(t.set_prices(&fx, &[ONE_USD; N], 0).await);
    assert_eq!(
        ev.last(),
        Some(&AidxEvent::ImbalanceStarted(ImbalanceStarted {
            index: fx.key,
            at: now,
            weights: vec![nine_th; N],
            targets: want.clone(),
        }))
    );
    // Every other row sits under its new target (1/9 < 1/8): the auction can sell X at once,
    // without waiting for a review.
    for i in (0..N).filter(|i| *i != X) {
        assert!(nine_th < want[i], "row {i}");
    }
    // A single-asset deposit of it is refused by the band rule.
    assert_aidx_error(
        &t.mint_single(&fx, &caller, X, 1, 0).await,
        AidxError::WeightFurtherOutOfBand,
    );

    // The methodology gives a winding-down constituent no market cap: target 0, the others 1/8.
    let index = t.index(&fx).await;
    let rows = input_rows(&index);
    let ix = client::set_methodology_inputs(
        &fx.key,
        &roles.methodology.pubkey(),
        SetMethodologyInputsArgs {
            observed_at: now,
            rows: rows.clone(),
        },
    );
    events(t.send(ix, &[&roles.methodology]).await);
    let mut targets = vec![WEIGHT_SCALE / 8; N];
    targets[X] = 0;
    let mut ineligible = vec![0u8; N];
    ineligible[X] = 3;
    // The first review admits the others (candidates until now); X, winding down, is aside.
    let mut membership = vec![aidx::events::MEMBERSHIP_ENTERS; N];
    membership[X] = aidx::events::MEMBERSHIP_ASIDE;
    let p = index.params;
    assert_eq!(
        events(t.send(client::recompute_targets(&fx.key), &[]).await),
        vec![AidxEvent::TargetsRecomputed(TargetsRecomputed {
            index: fx.key,
            at: now,
            max_weight: p.max_weight,
            unlock_haircut: p.unlock_haircut,
            pure_play_share: p.pure_play_share,
            min_volume_usd: DEFAULT_MIN_VOLUME_USD,
            min_depth_usd: DEFAULT_MIN_DEPTH_USD,
            prices: vec![ONE_USD as u64; N],
            inputs: rows,
            inputs_observed_at: now,
            targets: targets.clone(),
            ineligible,
            membership,
        })]
    );

    // Sell X out: each swap pays in one of the others and is clipped where that one reaches
    // 12.5% of the $9_000 NAV, i.e. 125 whole tokens in for 125 X out.
    // New targets start a new auction: recompute_targets reset the clock; the next refresh,
    // poke or swap records it afresh.
    let started = t.index(&fx).await.imbalance_started_at;
    assert_eq!(started, 0);
    let others: Vec<usize> = (0..N).filter(|i| *i != X).collect();
    for (k, &i) in others.iter().enumerate() {
        let index = t.index(&fx).await;
        let b = Basket::of(&index);
        let gap = whole(i, 125);
        let requested = 10 * gap;
        let mut b_after = b.clone();
        b_after.bal[i] += gap;
        b_after.bal[X] -= 125;
        assert_eq!(b.nav_mid(), 9_000 * ONE_USD);
        assert_eq!(b_after.nav_mid(), 9_000 * ONE_USD);
        let swapped = RebalanceSwapped {
            index: fx.key,
            caller: caller.key(),
            row_in: i as u8,
            row_out: X as u8,
            amount_in: gap,
            amount_out: 125,
            amount_requested: requested,
            price_in: ONE_USD as u64,
            conf_in: 0,
            price_out: ONE_USD as u64,
            conf_out: 0,
            value_in: 125 * ONE_USD,
            value_out: 125 * ONE_USD,
            reward: 0,
            // the first swap records the auction start (now); the clock does not move after
            auction_elapsed: 0,
            weights_before: b.weights(),
            weights_after: b_after.weights(),
            targets: targets.clone(),
            nav_before: 9_000 * ONE_USD,
            nav_after: 9_000 * ONE_USD,
        };
        let last = k == others.len() - 1;
        let mut want = vec![];
        if k == 0 {
            want.push(AidxEvent::ImbalanceStarted(ImbalanceStarted {
                index: fx.key,
                at: now,
                weights: b.weights(),
                targets: targets.clone(),
            }));
        }
        if last {
            // X is at 0 and every other at exactly 12.5%: the auction ends.
            assert_eq!(b_after.weights(), targets);
            want.push(AidxEvent::ImbalanceCleared(ImbalanceCleared {
                index: fx.key,
                at: now,
                started_at: now,
                weights: targets.clone(),
            }));
        }
        want.push(AidxEvent::RebalanceSwapped(swapped));
        let (pay0, get0) = (
            t.balance(&caller.token_accounts[i]).await,
            t.balance(&caller.token_accounts[X]).await,
        );
        let ix = client::rebalance_swap(
            &fx.key,
            &index,
            &caller.key(),
            i,
            X,
            RebalanceSwapArgs {
                amount_in: requested,
                min_amount_out: 125,
            },
        );
        assert_eq!(
            events(t.send(ix, &[&caller.keypair]).await),
            want,
            "swap {k}"
        );
        assert_eq!(pay0 - t.balance(&caller.token_accounts[i]).await, gap);
        assert_eq!(t.balance(&caller.token_accounts[X]).await - get0, 125);
        assert_eq!(t.vault_balances(&fx).await, b_after.bal);
    }
    let index = t.index(&fx).await;
    assert_eq!(index.constituents()[X].balance, 0);
    assert_eq!(t.balance(&x_vault).await, 0);
    assert_eq!(index.imbalance_started_at, 0);
    // Nothing is left to trade.
    let ix = client::rebalance_swap(
        &fx.key,
        &index,
        &caller.key(),
        0,
        X,
        RebalanceSwapArgs {
            amount_in: whole(0, 1),
            min_amount_out: 0,
        },
    );
    assert_aidx_error(&t.send(ix, &[&caller.keypair]).await, AidxError::InsideBand);

    // Tokens sent straight to the vault are not accounted, and are swept at removal.
    t.chain
        .mint_to(&x, &x_vault, &x_program, 777)
        .await
        .unwrap();
    assert_eq!(t.index(&fx).await.constituents()[X].balance, 0);
    let x_rent = t.chain.account(&x_vault).await.unwrap().unwrap().lamports;
    let admin_lamports = t
        .chain
        .account(&admin.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let before = t.index(&fx).await;
    assert_eq!(
        events(t.send(remove_x, &[&admin]).await),
        vec![AidxEvent::ConstituentRemoved(ConstituentRemoved {
            index: fx.key,
            mint: x,
            row: X as u8,
            swept: 777,
        })]
    );
    assert_eq!(t.balance(&admin_x).await, 777);
    assert!(t.chain.account(&x_vault).await.unwrap().is_none());
    assert_eq!(
        t.chain
            .account(&admin.pubkey())
            .await
            .unwrap()
            .unwrap()
            .lamports,
        admin_lamports + x_rent
    );
    let index = t.index(&fx).await;
    assert_eq!(index.num_constituents, (N - 1) as u8);
    assert_eq!(index.constituents()[..X], before.constituents()[..X]);
    assert_eq!(index.constituents()[X..], before.constituents()[X + 1..]);
    assert_eq!(index.constituents[N - 1], empty_row());
    assert_eq!(index.targets(), vec![WEIGHT_SCALE / 8; N - 1]);
    assert_aidx_error(
        &t.send(wind_down(x), &[&admin]).await,
        AidxError::UnknownConstituent,
    );

    // In kind with the shorter table.
    fx.constituents.remove(X);
    seeder.token_accounts.remove(X);
    caller.token_accounts.remove(X);
    let bal: Vec<u64> = index.constituents().iter().map(|c| c.balance).collect();
    assert_eq!(
        bal,
        others.iter().map(|i| whole(*i, 1_125)).collect::<Vec<_>>()
    );
    let s = 2 * ONE_SHARE + 5;
    let amounts: Vec<u64> = bal
        .iter()
        .map(|b| ceil_div(s as u128 * *b as u128, SUPPLY0 as u128))
        .collect();
    let bal1: Vec<u64> = bal.iter().zip(&amounts).map(|(x, y)| x + y).collect();
    let ev = events(t.mint_in_kind(&fx, &caller, s).await);
    assert_eq!(
        ev,
        vec![AidxEvent::MintedInKind(MintedInKind {
            index: fx.key,
            holder: caller.key(),
            shares: s,
            fee_shares: 0,
            dead_shares: 0,
            amounts_in: amounts,
            balances_after: bal1.clone(),
            share_supply_after: SUPPLY0 + s,
        })]
    );
    let r = 3 * ONE_SHARE + 1;
    let out: Vec<u64> = bal1
        .iter()
        .map(|b| (r as u128 * *b as u128 / (SUPPLY0 + s) as u128) as u64)
        .collect();
    let bal2: Vec<u64> = bal1.iter().zip(&out).map(|(x, y)| x - y).collect();
    let before = t.holder_balances(&seeder).await;
    let ev = events(t.redeem_in_kind(&fx, &seeder, r).await);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedInKind(RedeemedInKind {
            index: fx.key,
            holder: seeder.key(),
            shares: r,
            fee_shares: 0,
            amounts_out: out.clone(),
            skip_mask: 0,
            balances_after: bal2.clone(),
            share_supply_after: SUPPLY0 + s - r,
        })]
    );
    let after = t.holder_balances(&seeder).await;
    for i in 0..N - 1 {
        assert_eq!(after[i] - before[i], out[i], "leg {i}");
    }
    assert_eq!(t.vault_balances(&fx).await, bal2);
    assert_supply(&mut t, &fx, SUPPLY0 + s - r).await;
}

fn empty_row() -> Constituent {
    Constituent {
        mint: Pubkey::default(),
        vault: Pubkey::default(),
        token_program: Pubkey::default(),
        feed_id: [0; 32],
        balance: 0,
        initial_units_per_share: 0,
        target_weight: 0,
        price: 0,
        conf: 0,
        publish_time: 0,
        price_slot: 0,
        circulating_supply: 0,
        avg_daily_volume_usd: 0,
        depth_usd: 0,
        inputs_observed_at: 0,
        decimals: 0,
        sub_sector: 0,
        bucket: 0,
        status: 0,
        vault_bump: 0,
        flags: 0,
        leg_accounts: 0,
        controls: 0,
        quarantined_at: 0,
        quarantine_price: 0,
        quarantine: 0,
        member: 0,
        rank: 0,
        reviews_under_entry: 0,
        _reserved: [0; 3],
    }
}

// ---------------------------------------------------------------------------------------------
// 6. A frozen vault.

/// Row 1 is a classic SPL mint whose freeze authority (the payer) freezes the index's vault.
/// Redeeming in kind fails inside the token program with `AccountFrozen`; with row 1 in the
/// skip mask the other legs pay exactly, and the frozen leg's share stays in the basket for the
/// holders who remain (collected by B once the vault is thawed).
#[tokio::test]
async fn redeem_in_kind_skips_a_frozen_vault() {
    use spl_token::error::TokenError;
    let mut t = TestContext::new().await;
    let (r, mut fx) = t.init_index(t.default_args()).await;
    events(r);
    let plain = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let freezable = t.create_mint_with_freeze(TOKEN_PROGRAM_ID, 6).await;
    let t22 = t.create_mint(TOKEN_2022_PROGRAM_ID, 9, &[]).await;
    let specs = [
        (plain, TOKEN_PROGRAM_ID, 6u8, 1_000_000u64),
        (freezable, TOKEN_PROGRAM_ID, 6, 2_000_000),
        (t22, TOKEN_2022_PROGRAM_ID, 9, 3_000_000_000),
    ];
    for (i, (mint, program, decimals, u)) in specs.into_iter().enumerate() {
        events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                AddConstituentArgs {
                    sub_sector: i as u8,
                    bucket: 0,
                    feed_id: test_feed_id(0xf0, i),
                    initial_units_per_share: u,
                    target_weight: WEIGHT_SCALE / 3,
                },
            )
            .await,
        );
        fx.constituents.push(ConstituentFixture {
            mint,
            token_program: program,
            decimals,
            units_per_share: u,
            feed_id: test_feed_id(0xf0, i),
        });
    }
    events(t.open_index(&fx).await);
    let a = t.holder(&fx, rich).await;
    let b = t.holder(&fx, rich).await;
    let sa = 10 * ONE_SHARE;
    let sb = 5 * ONE_SHARE;
    events(t.mint_in_kind(&fx, &a, sa).await);
    let seed: Vec<u64> = specs
        .iter()
        .map(|s| ceil_div((sa + DEAD_SHARES) as u128 * s.3 as u128, ONE_SHARE as u128))
        .collect();
    assert_eq!(seed, vec![10_000_001, 20_000_002, 30_000_003_000]);
    let s1 = sa + DEAD_SHARES;
    events(t.mint_in_kind(&fx, &b, sb).await);
    let bal: Vec<u64> = seed
        .iter()
        .map(|x| x + ceil_div(sb as u128 * *x as u128, s1 as u128))
        .collect();
    let supply = s1 + sb;
    assert_eq!(t.vault_balances(&fx).await, bal);
    assert_supply(&mut t, &fx, supply).await;

    // Freeze the index's vault of row 1.
    let vault1 = vault_address(&fx.key, &freezable);
    let payer = t.payer();
    let freeze =
        spl_token::instruction::freeze_account(&TOKEN_PROGRAM_ID, &vault1, &freezable, &payer, &[])
            .unwrap();
    t.chain.send_ok(&[freeze], &[]).await.unwrap();
    // The audit shows who can stop each row and that row 1 is stopped now (not a violation).
    let report = t.audit(&fx).await;
    let shown: Vec<(Vec<&str>, Option<&str>)> = report
        .rows
        .iter()
        .map(|r| (r.controls.clone(), r.stopped))
        .collect();
    assert_eq!(
        shown,
        vec![
            (vec![], None),
            (vec!["freeze"], Some("vault frozen")),
            (vec![], None)
        ]
    );

    let ra = 4 * ONE_SHARE;
    let a_before = t.holder_balances(&a).await;
    let r = t.redeem_in_kind(&fx, &a, ra).await;
    assert_eq!(TokenError::AccountFrozen as u32, 17);
    assert_instruction_error(&r, InstructionError::Custom(17));
    assert_eq!(t.vault_balances(&fx).await, bal);
    assert_eq!(t.holder_balances(&a).await, a_before);
    assert_supply(&mut t, &fx, supply).await;

    // Skip the frozen leg (its minimum is ignored when skipped).
    let out = [
        (ra as u128 * bal[0] as u128 / supply as u128) as u64,
        0,
        (ra as u128 * bal[2] as u128 / supply as u128) as u64,
    ];
    let bal_after = vec![bal[0] - out[0], bal[1], bal[2] - out[2]];
    let args = RedeemInKindArgs {
        shares: ra,
        min_amounts_out: vec![out[0], u64::MAX, out[2]],
        skip_mask: 0b010,
    };
    let ix = t.redeem_in_kind_ix(&fx, &a, args).await;
    let ev = events(t.send_basket(&fx, ix, &[&a.keypair]).await);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedInKind(RedeemedInKind {
            index: fx.key,
            holder: a.key(),
            shares: ra,
            fee_shares: 0,
            amounts_out: out.to_vec(),
            skip_mask: 0b010,
            balances_after: bal_after.clone(),
            share_supply_after: supply - ra,
        })]
    );
    let a_after = t.holder_balances(&a).await;
    assert_eq!(
        (0..3).map(|i| a_after[i] - a_before[i]).collect::<Vec<_>>(),
        out.to_vec()
    );
    assert_eq!(out, [4_000_000, 0, 12_000_000_000]);
    assert_eq!(t.vault_balances(&fx).await, bal_after);
    assert_eq!(t.balance(&a.shares).await, sa - ra);
    let supply2 = supply - ra;
    assert_supply(&mut t, &fx, supply2).await;

    // The frozen leg's share stayed in the basket: B's claim on it grew from
    // floor(sb * bal1 / supply) to floor(sb * bal1 / supply2). Thawed, B collects it.
    let b_claim_before = (sb as u128 * bal[1] as u128 / supply as u128) as u64;
    let b_claim_after = (sb as u128 * bal[1] as u128 / supply2 as u128) as u64;
    assert_eq!(b_claim_before, 10_000_000);
    assert_eq!(b_claim_after, 13_636_363);
    let thaw =
        spl_token::instruction::thaw_account(&TOKEN_PROGRAM_ID, &vault1, &freezable, &payer, &[])
            .unwrap();
    t.chain.send_ok(&[thaw], &[]).await.unwrap();
    let b_before = t.holder_balances(&b).await;
    let ev = events(t.redeem_in_kind(&fx, &b, sb).await);
    let [AidxEvent::RedeemedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    let b_out: Vec<u64> = bal_after
        .iter()
        .map(|x| (sb as u128 * *x as u128 / supply2 as u128) as u64)
        .collect();
    assert_eq!(e.amounts_out, b_out);
    assert_eq!(e.amounts_out[1], b_claim_after);
    let b_after = t.holder_balances(&b).await;
    assert_eq!(b_after[1] - b_before[1], b_claim_after);
    assert_supply(&mut t, &fx, supply2 - sb).await;
}

/// "Holders can always leave": redeem in kind has no pause bit. But every supply change accrues
/// the management fee first, and the formula `F = S x / (1 - x)`, `x = r * elapsed / YEAR`, has
/// no value once `x >= 1`: at 5% a year, an index nobody touched for 20 years (50 at 2%) fails
/// every accrual with `MathOverflow`, for ever (the elapsed time only grows), and with it every
/// redeem. Expected: the redeem succeeds (e.g. with the fee computed by compounding, or capped).
#[tokio::test]
async fn holders_can_leave_after_twenty_idle_years() {
    let Seeded {
        mut t, fx, seeder, ..
    } = seeded(3, |p| p.management_fee_bps = MAX_MANAGEMENT_FEE_BPS).await;
    let t0 = t.index(&fx).await.last_fee_accrual_at;
    t.warp_to_time(t0 + 20 * YEAR).await;
    let before = t.holder_balances(&seeder).await;
    let ev = events(t.redeem_in_kind(&fx, &seeder, SEED_SHARES).await);
    let Some(AidxEvent::RedeemedInKind(e)) = ev.last() else {
        panic!("{ev:?}")
    };
    assert_eq!(e.shares, SEED_SHARES);
    assert!(e.amounts_out.iter().any(|a| *a > 0));
    let after = t.holder_balances(&seeder).await;
    for i in 0..3 {
        assert_eq!(after[i] - before[i], e.amounts_out[i], "leg {i}");
    }
    assert_eq!(t.balance(&seeder.shares).await, 0);
    let supply = t.index(&fx).await.share_supply;
    assert_supply(&mut t, &fx, supply).await;
}

/// A twenty-year idle gap at the 5% maximum is charged year by year: one accrual mints exactly
/// the compounded fee, and holders keep 0.95^20 of the index (within rounding).
#[tokio::test]
async fn a_single_accrual_over_twenty_years_at_five_percent() {
    let Seeded { mut t, fx, .. } =
        seeded(3, |p| p.management_fee_bps = MAX_MANAGEMENT_FEE_BPS).await;
    let t0 = t.index(&fx).await.last_fee_accrual_at;
    let dt = 20 * YEAR;
    t.warp_to_time(t0 + dt).await;
    let fee = management_fee(SUPPLY0, MAX_MANAGEMENT_FEE_BPS, dt);
    assert_eq!(
        events(accrue(&mut t, &fx).await),
        vec![AidxEvent::FeesAccrued(FeesAccrued {
            index: fx.key,
            elapsed: dt,
            management_fee_bps: MAX_MANAGEMENT_FEE_BPS,
            fee_shares: fee,
            share_supply_after: SUPPLY0 + fee,
        })]
    );
    let kept = SUPPLY0 as f64 / (SUPPLY0 + fee) as f64;
    assert!((kept - 0.95f64.powi(20)).abs() < 1e-9, "{kept}");
    assert_supply(&mut t, &fx, SUPPLY0 + fee).await;
}
