//! Tests of the index methodology (`aidx::math::methodology`): properties over random universes,
//! hand-checked cases (the sample universe, with and without the 60/40 split; the exact-1/cap
//! universes; the named errors) and a 1,000-token timing run.
//!
//! Notation: S = WEIGHT_SCALE = 1e9 (100%); a "unit" is 1/S. `m_i` is token i's circulating
//! market cap (USD_SCALE), `t_i` its target, `c_i` its capped weight (after the cap, before the
//! unlock haircut), `h` the haircut, `keep = S - h`.
//!
//! # The bounds, derived from the code
//!
//! `distribute(values, total, cap)` caps, in rounds, every token whose exact share
//! `room * v / free` is above the cap (floored share above the cap, or equal to it with a
//! nonzero remainder), then gives each remaining token `floor(room * v_i / free)` and hands the
//! residue out one unit at a time by largest remainder (ties to the lower row), never past the
//! cap.
//!
//! Let `e_i` be the exact water-filling share (the capped set is the one where
//! `room * v_i > cap * free` holds, iterated; `e_i = room * v_i / free` for the others) — the
//! reference model `water_fill` below. The code caps exactly the reference set, the floors lose
//! less than one unit per uncapped token with a fractional share (and such a token is below the
//! cap, so it can take a unit), so the residue is smaller than the number of tokens able to take
//! it and one pass suffices: each uncapped token gets `floor(e_i)` or `floor(e_i) + 1`, i.e.
//!
//! * (B1) `|t_i - e_i| < 1`, hence for two uncapped tokens of one distribution
//!   (B2) `|t_i * m_j - t_j * m_i| = |(t_i - e_i) m_j - (t_j - e_j) m_i| < m_i + m_j`
//!   (k = 1: floor division loses < 1, at most one residue unit per token);
//! * (B3) order: `m_i > m_j` implies `t_i >= t_j` (equal floors: i has the larger remainder and
//!   is offered a unit first), and `m_i == m_j` implies `|t_i - t_j| <= 1`.
//!
//! (Before the exact capping test, a token whose exact share lay in `(cap, cap + 1)` was clamped
//! to the cap without being capped and its fraction leaked to the residue, breaking B1/B2; see
//! the regression tests `residue_from_near_cap_tokens_goes_pro_rata` and followers.)
//!
//! `compute_targets` runs `distribute` per group (the whole index, or the pure-play and host
//! buckets with their shares) to get `c`. When the group has an unlock-flagged token with
//! `c > 0`, let `kept = sum floor(c_i * keep / S)` over the flagged and `n_u` the number of
//! eligible unflagged tokens of the group:
//!
//! * full haircut, `n_u * cap >= share - kept`: flagged `t = floor(c * keep / S)`, and
//!   `share - kept` is `distribute`d over the unflagged by market cap;
//! * partial haircut, `n_u * cap < share - kept` (the unflagged cannot absorb the freed weight):
//!   every unflagged eligible token sits at exactly the cap, and the flagged tokens share
//!   `R = share - n_u * cap` pro rata to their capped weights (`distribute` again). As
//!   `R <= C = sum c` over the flagged (the unflagged held at most `n_u * cap` of the capped
//!   weights), each flagged target is at most its `c`; with `n_u = 0`, `R = C` and it is exactly
//!   `c` (no haircut at all). As `R > kept`, the exact share `R c_i / C` is above
//!   `c_i keep / S - (f_g - 1)` (the floors of `kept` lose under one unit per flagged token), so
//!   the target is at least `floor(c_i keep / S) - (f_g - 1)`: at least the full-haircut target
//!   with one flagged token, possibly below it with several (one unit below with three flagged
//!   in `partial_haircut_can_cut_one_unit_deeper_than_the_full_one`; an exhaustive search of
//!   small two-token cases found none). The properties check the intended
//!   `[floor(c * keep / S), c]`, which random universes do not miss.
//!
//! So flagging tokens never turns a computable universe into an error: InfeasibleCap only comes
//! from a group that cannot hold its share (`eligible * cap < share`). B1-B3 hold for the capped
//! weights of a group, for the targets of its unflagged tokens against the water filling of
//! `share - kept` over the unflagged (full haircut), and for the flagged targets against the
//! water filling of `share - n_u * cap` over their capped weights (partial haircut).
//!
//! Permutations: everything but the residue tie-break is order-free, and the tie-break only
//! looks at the relative order of the eligible tokens of a group. So a permutation that keeps
//! that relative order gives exactly the permuted rows (P1). An arbitrary permutation moves each
//! capped weight by at most 1 unit (both within 1 of the same `e_i`, B1) and, with `f_g` the
//! number of eligible flagged tokens of the group (P2):
//! * full haircut: each flagged target by at most 1 (`floor(c * keep / S)` is 1-Lipschitz in
//!   c), `kept` by at most `f_g`, each unflagged target by at most `1 + f_g` (the exact water
//!   filling moves by at most the change of its total, plus B1 on both sides);
//! * partial haircut: the unflagged not at all (the cap); with `R = share - n_u * cap` and `C`
//!   the flagged capped total, `R <= C` on both sides, each capped weight moving by at most 1
//!   and `C` by at most `f_g`, the exact share `R c_i / C` moves by at most
//!   `R |d_i C - c_i D| / (C C') <= R (1 + f_g) / C' <= 1 + f_g`, so each flagged target by at
//!   most `2 + f_g` (B1 on both sides);
//! * unless the permutation flips the group between full and partial (`share - kept` within
//!   `f_g` units of `n_u * cap`, which random data does not hit; then no bound is checked).

use aidx::math::methodology::*;
use aidx::math::{USD_SCALE, WEIGHT_SCALE};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::time::Instant;

const S: u64 = WEIGHT_SCALE;
const PCT: u64 = WEIGHT_SCALE / 100;
const CAP_15: u64 = 15 * PCT;
const CAP_20: u64 = 20 * PCT;
const HAIRCUT_25: u64 = 25 * PCT;
const MIN_VOL: u128 = DEFAULT_MIN_VOLUME_USD as u128;
const MIN_DEPTH: u128 = DEFAULT_MIN_DEPTH_USD as u128;

fn params(max_weight: u64, unlock_haircut: u64, pure_play_share: u64) -> MethodologyParams {
    MethodologyParams {
        max_weight,
        unlock_haircut,
        pure_play_share,
        min_volume_usd: MIN_VOL,
        min_depth_usd: MIN_DEPTH,
    }
}

/// A liquid token worth `mcap_usd` whole dollars: price $1, supply `mcap_usd`.
fn tok(mcap_usd: u128, unlock: bool, host: bool) -> TokenFacts {
    TokenFacts {
        price: USD_SCALE,
        circulating_supply: mcap_usd,
        avg_daily_volume_usd: 10 * MIN_VOL,
        depth_usd: None,
        unlock,
        host,
    }
}

fn targets(rows: &[TargetRow]) -> Vec<u64> {
    rows.iter().map(|r| r.target).collect()
}

// ---------------------------------------------------------------------------------------------
// Reference model and invariant checks
// ---------------------------------------------------------------------------------------------

/// The exact water filling of `total` over `values` under `cap`: the capped set, and the
/// `room / free` ratio such that an uncapped token's exact share is `room * v / free`.
/// Comparisons are exact (`room * v > cap * free`), unlike the code's floored test.
fn water_fill(values: &[u128], total: u64, cap: u64) -> (Vec<bool>, u128, u128) {
    let mut capped = vec![false; values.len()];
    loop {
        let n_capped = capped.iter().filter(|c| **c).count() as u128;
        let room = total as u128 - n_capped * cap as u128;
        let free: u128 = values
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .map(|(v, _)| *v)
            .sum();
        let mut changed = false;
        for (i, v) in values.iter().enumerate() {
            if !capped[i]
                && free > 0
                && room.checked_mul(*v).unwrap() > (cap as u128).checked_mul(free).unwrap()
            {
                capped[i] = true;
                changed = true;
            }
        }
        if !changed {
            return (capped, room, free);
        }
    }
}

/// B1: every weight is within one unit of its exact water-filling share (`cap` for the capped).
fn check_near_water_fill(
    values: &[u128],
    total: u64,
    cap: u64,
    weights: &[u64],
    what: &str,
) -> Result<(), TestCaseError> {
    let (capped, room, free) = water_fill(values, total, cap);
    for i in 0..values.len() {
        if values[i] == 0 {
            prop_assert_eq!(weights[i], 0, "{}: zero value {} got weight", what, i);
        } else if capped[i] {
            prop_assert_eq!(
                weights[i],
                cap,
                "{}: token {} should sit at the cap",
                what,
                i
            );
        } else {
            // |w - room * v / free| < 1  <=>  |w * free - room * v| < free
            let lhs = weights[i] as u128 * free;
            let rhs = room * values[i];
            prop_assert!(
                lhs.abs_diff(rhs) < free,
                "{}: token {} weight {} not within one unit of {}/{}",
                what,
                i,
                weights[i],
                rhs,
                free
            );
        }
    }
    Ok(())
}

/// B2 and B3 over every pair of `idx` (weights `w`, market caps `m`), for tokens below `cap`.
fn check_proportional(
    idx: &[usize],
    m: &[u128],
    w: &[u64],
    cap: u64,
    what: &str,
) -> Result<(), TestCaseError> {
    for (a, &i) in idx.iter().enumerate() {
        for &j in &idx[a + 1..] {
            let (mi, mj, wi, wj) = (m[i], m[j], w[i] as u128, w[j] as u128);
            // B3: order (capped tokens included, they sit at the top).
            if mi > mj {
                prop_assert!(wi >= wj, "{}: order {} ({}) < {} ({})", what, i, wi, j, wj);
            } else if mj > mi {
                prop_assert!(wj >= wi, "{}: order {} ({}) < {} ({})", what, j, wj, i, wi);
            } else {
                prop_assert!(wi.abs_diff(wj) <= 1, "{}: equal caps {} {}", what, i, j);
            }
            // B2: proportions, for the uncapped.
            if w[i] < cap && w[j] < cap {
                prop_assert!(
                    (wi * mj).abs_diff(wj * mi) < mi + mj,
                    "{}: {} and {} not proportional: {}*{} vs {}*{}",
                    what,
                    i,
                    j,
                    wi,
                    mj,
                    wj,
                    mi
                );
            }
        }
    }
    Ok(())
}

/// The group (0: the whole index or the pure-play bucket, 1: the host bucket) and the shares.
fn group_of(t: &TokenFacts, p: &MethodologyParams) -> usize {
    usize::from(p.pure_play_share != 0 && t.host)
}

fn shares(p: &MethodologyParams) -> [u64; 2] {
    if p.pure_play_share == 0 {
        [S, 0]
    } else {
        [p.pure_play_share, S - p.pure_play_share]
    }
}

fn mcap(t: &TokenFacts, p: &MethodologyParams) -> u128 {
    if eligibility(t, p).is_none() {
        t.price * t.circulating_supply
    } else {
        0
    }
}

/// What `compute_targets` must return as an error, if anything, from first principles. The
/// unlock flags play no part: the haircut is partial when the unflagged cannot absorb the freed
/// weight, so InfeasibleCap only comes from a group that cannot hold its share.
fn predicted_error(tokens: &[TokenFacts], p: &MethodologyParams) -> Option<MethodologyError> {
    let cap = p.max_weight;
    if cap == 0 || cap > S {
        return Some(MethodologyError::InvalidCap(cap));
    }
    if p.pure_play_share > S {
        return Some(MethodologyError::InvalidShare(p.pure_play_share));
    }
    if p.unlock_haircut > S {
        return Some(MethodologyError::InvalidHaircut(p.unlock_haircut));
    }
    for (g, share) in shares(p).into_iter().enumerate() {
        if share == 0 {
            continue;
        }
        let eligible = tokens
            .iter()
            .filter(|t| group_of(t, p) == g && mcap(t, p) > 0)
            .count();
        if eligible == 0 {
            return Some(MethodologyError::Empty);
        }
        // The documented infeasibility: the group's eligible tokens cannot hold its share.
        if (eligible as u128) * (cap as u128) < share as u128 {
            return Some(MethodologyError::InfeasibleCap { eligible, cap });
        }
    }
    None
}

/// How the unlock haircut applies to one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Haircut {
    /// No eligible flagged token with a capped weight: targets = capped weights.
    None,
    /// The unflagged absorb the freed weight: flagged `t = floor(c * keep / S)`.
    Full,
    /// They cannot (`n_u * cap < share - kept`): the unflagged at the cap, the flagged share
    /// `share - n_u * cap` pro rata to their capped weights.
    Partial,
}

/// The haircut mode of the group `members` (with share `share`), from the capped weights `c`.
fn haircut_mode(
    tokens: &[TokenFacts],
    p: &MethodologyParams,
    members: &[usize],
    share: u64,
    c: &[u64],
) -> Haircut {
    let keep = (S - p.unlock_haircut) as u128;
    let eligible = |i: &&usize| mcap(&tokens[**i], p) > 0;
    if !members
        .iter()
        .filter(eligible)
        .any(|i| tokens[*i].unlock && c[*i] > 0)
    {
        return Haircut::None;
    }
    let kept: u128 = members
        .iter()
        .filter(eligible)
        .filter(|i| tokens[**i].unlock)
        .map(|i| c[*i] as u128 * keep / S as u128)
        .sum();
    let n_u = members
        .iter()
        .filter(eligible)
        .filter(|i| !tokens[**i].unlock)
        .count() as u128;
    if n_u * p.max_weight as u128 >= share as u128 - kept {
        Haircut::Full
    } else {
        Haircut::Partial
    }
}

/// Every invariant of a successful `compute_targets`.
fn check_rows(
    tokens: &[TokenFacts],
    p: &MethodologyParams,
    rows: &[TargetRow],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(rows.len(), tokens.len());
    let cap = p.max_weight;
    let keep = S - p.unlock_haircut;
    let m: Vec<u128> = tokens.iter().map(|t| mcap(t, p)).collect();
    let t: Vec<u64> = targets(rows);
    let c: Vec<u64> = rows.iter().map(|r| r.capped_weight).collect();

    for (i, (tk, r)) in tokens.iter().zip(rows).enumerate() {
        prop_assert_eq!(r.ineligible, eligibility(tk, p), "row {}", i);
        if r.ineligible.is_some() {
            // Ineligible tokens get nothing, at every step.
            prop_assert_eq!(
                (
                    r.market_cap,
                    r.raw_weight,
                    r.capped_weight,
                    r.haircut,
                    r.target
                ),
                (0, 0, 0, 0, 0),
                "row {}",
                i
            );
        } else {
            prop_assert_eq!(r.market_cap, m[i], "row {}", i);
        }
        // None above the cap.
        prop_assert!(r.target <= cap && r.capped_weight <= cap, "row {}", i);
        // The haircut column: what the haircut took off a flagged token, 0 for the others.
        let want = if tk.unlock {
            r.capped_weight.saturating_sub(r.target)
        } else {
            0
        };
        prop_assert_eq!(r.haircut, want, "haircut column, row {}", i);
    }
    // Exactly WEIGHT_SCALE.
    prop_assert_eq!(t.iter().sum::<u64>(), S);

    for (g, share) in shares(p).into_iter().enumerate() {
        let members: Vec<usize> = (0..tokens.len())
            .filter(|i| group_of(&tokens[*i], p) == g)
            .collect();
        // Each bucket sums to exactly its share (pure_play_share / the rest) before and after
        // the haircut.
        prop_assert_eq!(members.iter().map(|i| t[*i]).sum::<u64>(), share);
        prop_assert_eq!(members.iter().map(|i| c[*i]).sum::<u64>(), share);
        if share == 0 {
            continue;
        }
        let total: u128 = members.iter().map(|i| m[*i]).sum();
        for &i in &members {
            prop_assert_eq!(
                rows[i].raw_weight as u128,
                m[i] * share as u128 / total,
                "raw {}",
                i
            );
        }
        let eligible: Vec<usize> = members.iter().copied().filter(|i| m[*i] > 0).collect();
        let flagged: Vec<usize> = eligible
            .iter()
            .copied()
            .filter(|i| tokens[*i].unlock)
            .collect();
        let unflagged: Vec<usize> = eligible
            .iter()
            .copied()
            .filter(|i| !tokens[*i].unlock)
            .collect();

        // Capped weights: B1 against the exact water filling of the group, B2, B3.
        let vals: Vec<u128> = members.iter().map(|i| m[*i]).collect();
        let cw: Vec<u64> = members.iter().map(|i| c[*i]).collect();
        check_near_water_fill(&vals, share, cap, &cw, "capped")?;
        check_proportional(&eligible, &m, &c, cap, "capped")?;

        // The haircut never raises a flagged token, and what the flagged lose the unflagged gain.
        let floor_keep = |i: usize| (c[i] as u128 * keep as u128 / S as u128) as u64;
        for &i in &flagged {
            prop_assert!(t[i] <= c[i], "flagged {} raised", i);
        }
        let freed: u64 = flagged.iter().map(|i| rows[*i].haircut).sum();
        let gained: i128 = unflagged
            .iter()
            .map(|i| t[*i] as i128 - c[*i] as i128)
            .sum();
        prop_assert_eq!(gained, freed as i128);

        match haircut_mode(tokens, p, &members, share, &c) {
            Haircut::None => {
                for &i in &eligible {
                    prop_assert_eq!(t[i], c[i], "no haircut, {} changed", i);
                }
            }
            Haircut::Full => {
                // Flagged: exactly floor(c * keep / S). The freed weight goes to the unflagged
                // only, redistributed by market cap and capped: B1 against the water filling of
                // share - kept over the unflagged, B2, B3.
                for &i in &flagged {
                    prop_assert_eq!(t[i], floor_keep(i), "flagged {} (full haircut)", i);
                }
                let kept: u64 = flagged.iter().map(|i| t[*i]).sum();
                let uvals: Vec<u128> = unflagged.iter().map(|i| m[*i]).collect();
                let uw: Vec<u64> = unflagged.iter().map(|i| t[*i]).collect();
                check_near_water_fill(&uvals, share - kept, cap, &uw, "after haircut")?;
                check_proportional(&unflagged, &m, &t, cap, "after haircut")?;
                // Flagged tokens keep their relative order.
                check_order(&flagged, &m, &t)?;
                // An unflagged token never loses more than one rounding unit to the haircut
                // stage (the water filling of share - kept >= the unflagged part of the first).
                for &i in &unflagged {
                    prop_assert!(t[i] + 1 >= c[i], "unflagged {} lost {}", i, c[i] - t[i]);
                }
            }
            Haircut::Partial => {
                // The unflagged cannot absorb the freed weight: each sits at exactly the cap ...
                for &i in &unflagged {
                    prop_assert_eq!(t[i], cap, "unflagged {} (partial haircut)", i);
                }
                // ... and the flagged share the rest pro rata to their capped weights (B1 against
                // that water filling, B2/B3 in capped weights), each between the full haircut
                // and no haircut. (The lower bound is the intended rule; it can miss by a unit
                // with several flagged tokens on crafted inputs, see
                // `partial_haircut_can_cut_one_unit_deeper_than_the_full_one`; random universes
                // do not get there.)
                let r = share - unflagged.len() as u64 * cap;
                let fvals: Vec<u128> = flagged.iter().map(|i| c[*i] as u128).collect();
                let fw: Vec<u64> = flagged.iter().map(|i| t[*i]).collect();
                check_near_water_fill(&fvals, r, cap, &fw, "partial haircut")?;
                let cvals: Vec<u128> = c.iter().map(|x| *x as u128).collect();
                let weighted: Vec<usize> = flagged.iter().copied().filter(|i| c[*i] > 0).collect();
                check_proportional(&weighted, &cvals, &t, cap, "partial haircut")?;
                for &i in &flagged {
                    prop_assert!(
                        floor_keep(i) <= t[i] && t[i] <= c[i],
                        "flagged {}: {} not in [{}, {}] (partial haircut)",
                        i,
                        t[i],
                        floor_keep(i),
                        c[i]
                    );
                }
                if unflagged.is_empty() {
                    // Nobody to take anything: every flagged token keeps its capped weight.
                    for &i in &flagged {
                        prop_assert_eq!(t[i], c[i], "flagged {} (nobody unflagged)", i);
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_order(idx: &[usize], m: &[u128], w: &[u64]) -> Result<(), TestCaseError> {
    for &i in idx {
        for &j in idx {
            if m[i] > m[j] {
                prop_assert!(w[i] >= w[j], "order {} {}", i, j);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// `wide`: market caps over ~23 orders of magnitude ($1e-8 x 1 token to $1e4 x 1e11 tokens,
/// i.e. 1e4 to 1e27 in USD_SCALE units); narrow: within 2 orders ($1-$10 x 1e8-1e9 tokens), so
/// that many names matter and the cap binds often.
fn arb_token(wide: bool) -> impl Strategy<Value = TokenFacts> {
    let (mlo, plo, phi, slo, shi): (u128, u32, u32, u32, u32) = if wide {
        (1, 4, 13, 0, 8)
    } else {
        (100, 10, 10, 6, 6)
    };
    let price = prop_oneof![
        1 => Just(0u128),
        19 => (mlo..1000, plo..=phi).prop_map(|(m, e)| m * 10u128.pow(e)),
    ];
    let supply = prop_oneof![
        1 => Just(0u128),
        19 => (mlo..1000, slo..=shi).prop_map(|(m, e)| m * 10u128.pow(e)),
    ];
    let volume = prop_oneof![
        1 => Just(MIN_VOL - 1),
        1 => Just(MIN_VOL),
        1 => Just(MIN_VOL + 1),
        2 => 0..2 * MIN_VOL,
        5 => MIN_VOL..1000 * MIN_VOL,
    ];
    let depth = prop_oneof![
        4 => Just(None),
        1 => Just(Some(MIN_DEPTH - 1)),
        1 => Just(Some(MIN_DEPTH)),
        2 => (0..4 * MIN_DEPTH).prop_map(Some),
    ];
    (
        price,
        supply,
        volume,
        depth,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(price, circulating_supply, avg_daily_volume_usd, depth_usd, unlock, host)| {
                TokenFacts {
                    price,
                    circulating_supply,
                    avg_daily_volume_usd,
                    depth_usd,
                    unlock,
                    host,
                }
            },
        )
}

fn arb_universe() -> impl Strategy<Value = Vec<TokenFacts>> {
    prop_oneof![
        prop::collection::vec(arb_token(true), 1..=200),
        prop::collection::vec(arb_token(false), 1..=200),
        prop::collection::vec(arb_token(false), 1..=16),
    ]
}

/// Caps in [15%, 20%], haircut in [25%, 50%], split off or pure play in [50%, 90%].
fn arb_params() -> impl Strategy<Value = MethodologyParams> {
    let cap = prop_oneof![Just(CAP_15), Just(CAP_20), CAP_15..=CAP_20];
    let haircut = prop_oneof![Just(25 * PCT), Just(50 * PCT), 25 * PCT..=50 * PCT];
    let split = prop_oneof![Just(0u64), Just(60 * PCT), 50 * PCT..=90 * PCT];
    (cap, haircut, split).prop_map(|(c, h, s)| params(c, h, s))
}

/// Rows for a permuted universe, mapped back: `out[perm[k]] = rows[k]`.
fn unpermute(rows: &[TargetRow], perm: &[usize]) -> Vec<TargetRow> {
    let mut out = rows.to_vec();
    for (k, &i) in perm.iter().enumerate() {
        out[i] = rows[k];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Integration tests have no lib.rs next to them for the default persistence: keep
        // failing seeds in the package directory instead.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/methodology.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Whenever compute_targets succeeds, every invariant holds; whenever it fails, it fails
    /// with exactly the predicted error. InfeasibleCap is raised exactly when a group's eligible
    /// tokens cannot hold its share (eligible * cap < share), naming that group's eligible
    /// count; the unlock flags never change the outcome's kind (the haircut is partial when the
    /// unflagged cannot absorb the freed weight).
    #[test]
    fn compute_targets_invariants(u in arb_universe(), p in arb_params()) {
        let got = compute_targets(&u, &p);
        let predicted = predicted_error(&u, &p);
        match &got {
            Ok(rows) => {
                prop_assert_eq!(predicted, None);
                check_rows(&u, &p, rows)?;
            }
            Err(e) => prop_assert_eq!(Some(*e), predicted),
        }
        // Direct form of the feasibility statement.
        let cap = p.max_weight as u128;
        let mut infeasible_groups = vec![]; // eligible counts of the groups that cannot hold
        for (g, share) in shares(&p).into_iter().enumerate() {
            if share == 0 {
                continue;
            }
            let el = u.iter().filter(|t| group_of(t, &p) == g && mcap(t, &p) > 0).count();
            if (el as u128) * cap < share as u128 {
                infeasible_groups.push(el);
            }
        }
        match got {
            Err(MethodologyError::InfeasibleCap { eligible, cap: c }) => {
                prop_assert_eq!(c, p.max_weight);
                prop_assert!(
                    infeasible_groups.contains(&eligible),
                    "{} x {} holds its group's share", eligible, cap
                );
            }
            _ => prop_assert!(
                infeasible_groups.is_empty() || got == Err(MethodologyError::Empty),
                "infeasible group(s) {:?} but {:?}", infeasible_groups, got
            ),
        }
        // The flags never turn a result into an error or back: no flag, every flag, same
        // error (or none).
        for flag in [false, true] {
            let v: Vec<TokenFacts> = u.iter().map(|t| TokenFacts { unlock: flag, ..*t }).collect();
            let other = compute_targets(&v, &p);
            prop_assert_eq!(other.as_ref().err(), got.as_ref().err(), "all flags {}", flag);
            if let Ok(rows) = other {
                check_rows(&v, &p, &rows)?;
            }
        }
    }

    /// Small universes around 1/cap names, every token eligible, half of them flagged: the
    /// partial haircut (the unflagged at the cap, the flagged sharing the rest) is common here.
    #[test]
    fn haircut_near_one_over_cap(
        u in prop::collection::vec(
            (arb_token(false), prop::bool::weighted(0.5), prop::bool::weighted(0.2)),
            5..=14,
        ).prop_map(|v| {
            v.into_iter()
                .map(|(t, unlock, host)| TokenFacts {
                    price: t.price.max(1),
                    circulating_supply: t.circulating_supply.max(1),
                    avg_daily_volume_usd: MIN_VOL,
                    depth_usd: None,
                    unlock,
                    host,
                })
                .collect::<Vec<_>>()
        }),
        p in arb_params(),
    ) {
        let got = compute_targets(&u, &p);
        prop_assert_eq!(got.as_ref().err().copied(), predicted_error(&u, &p));
        if let Ok(rows) = got {
            check_rows(&u, &p, &rows)?;
        }
    }

    /// Same inputs, same outputs, whatever ran before; and exact invariance to everything the
    /// methodology should not look at: a common scale factor on all market caps, and the
    /// presence, position and content of ineligible tokens.
    #[test]
    fn deterministic_and_invariant(
        u in arb_universe(),
        other in arb_universe(),
        p in arb_params(),
        junk in prop::collection::vec((arb_token(true), any::<prop::sample::Index>(), 0u8..3), 0..8),
    ) {
        let a = compute_targets(&u, &p);
        let _ = compute_targets(&other, &p);
        prop_assert_eq!(&a, &compute_targets(&u.clone(), &p));

        // x7 on every supply: every ratio and every remainder order is unchanged.
        let scaled: Vec<TokenFacts> = u
            .iter()
            .map(|t| TokenFacts { circulating_supply: t.circulating_supply * 7, ..*t })
            .collect();
        let b = compute_targets(&scaled, &p);
        match (&a, &b) {
            (Ok(ra), Ok(rb)) => {
                for (x, y) in ra.iter().zip(rb) {
                    prop_assert_eq!(TargetRow { market_cap: x.market_cap * 7, ..*x }, *y);
                }
            }
            _ => prop_assert_eq!(&a, &b),
        }

        // Ineligible tokens anywhere (any flags) change nothing for the others.
        let mut mixed = u.clone();
        let mut original_pos: Vec<Option<usize>> = (0..u.len()).map(Some).collect();
        for (t, at, why) in &junk {
            let mut t = *t;
            match why {
                0 => t.avg_daily_volume_usd = MIN_VOL - 1,
                1 => t.depth_usd = Some(MIN_DEPTH - 1),
                _ => t.price = 0,
            }
            let k = at.index(mixed.len() + 1);
            mixed.insert(k, t);
            original_pos.insert(k, None);
        }
        let c = compute_targets(&mixed, &p);
        match (&a, &c) {
            (Ok(ra), Ok(rc)) => {
                for (k, pos) in original_pos.iter().enumerate() {
                    match pos {
                        Some(i) => prop_assert_eq!(ra[*i], rc[k]),
                        None => prop_assert_eq!(rc[k].target, 0),
                    }
                }
            }
            _ => prop_assert_eq!(&a, &c),
        }
    }

    /// P1: a permutation that keeps the relative order of each group's eligible tokens (ineligible
    /// tokens moved anywhere, the two buckets interleaved differently) gives exactly the permuted
    /// rows. P2: an arbitrary permutation moves each capped weight by at most 1 unit; under a
    /// full haircut (or none) each flagged target by at most 1 and each other target by at most
    /// 1 + f_g (f_g = eligible flagged tokens in its group); under a partial haircut each flagged
    /// target by at most 2 + f_g and the others (at the cap) not at all. Duplicated tokens (some
    /// with the unlock flag flipped) force ties in the residue order, the only place where the
    /// order matters.
    #[test]
    fn permutations(
        (u, perm) in (arb_universe(), prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..10))
            .prop_map(|(mut u, dups)| {
                for (i, flip) in dups {
                    let mut t = u[i.index(u.len())];
                    t.unlock ^= flip;
                    u.push(t);
                }
                u
            })
            .prop_flat_map(|u| {
                let n = u.len();
                (Just(u), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
            }),
        p in arb_params(),
    ) {
        let base = compute_targets(&u, &p);
        let m: Vec<u128> = u.iter().map(|t| mcap(t, &p)).collect();

        // P1: restore the relative order within each (group, eligible) class.
        let mut stable = perm.clone();
        for g in 0..2 {
            let slots: Vec<usize> = (0..perm.len())
                .filter(|k| group_of(&u[perm[*k]], &p) == g && m[perm[*k]] > 0)
                .collect();
            let mut src: Vec<usize> = slots.iter().map(|k| perm[*k]).collect();
            src.sort_unstable();
            for (k, i) in slots.into_iter().zip(src) {
                stable[k] = i;
            }
        }
        let su: Vec<TokenFacts> = stable.iter().map(|i| u[*i]).collect();
        let s = compute_targets(&su, &p);
        match (&base, &s) {
            (Ok(rb), Ok(rs)) => prop_assert_eq!(rb, &unpermute(rs, &stable)),
            _ => prop_assert_eq!(&base, &s),
        }

        // P2.
        let pu: Vec<TokenFacts> = perm.iter().map(|i| u[*i]).collect();
        let q = compute_targets(&pu, &p);
        match (&base, &q) {
            (Ok(rb), Ok(rq)) => {
                let rq = unpermute(rq, &perm);
                let mut f = [0u64; 2];
                for (t, mi) in u.iter().zip(&m) {
                    if *mi > 0 && t.unlock {
                        f[group_of(t, &p)] += 1;
                    }
                }
                // The haircut mode of each group, on both sides.
                let cb: Vec<u64> = rb.iter().map(|r| r.capped_weight).collect();
                let cq: Vec<u64> = rq.iter().map(|r| r.capped_weight).collect();
                let mut partial = [None; 2];
                for (g, share) in shares(&p).into_iter().enumerate() {
                    let members: Vec<usize> =
                        (0..u.len()).filter(|i| group_of(&u[*i], &p) == g).collect();
                    let mb = haircut_mode(&u, &p, &members, share, &cb) == Haircut::Partial;
                    let mq = haircut_mode(&u, &p, &members, share, &cq) == Haircut::Partial;
                    // A flip between full and partial (share - kept within f_g units of
                    // n_u * cap) leaves no useful bound: skip that group's targets.
                    partial[g] = (mb == mq).then_some(mb);
                }
                for i in 0..u.len() {
                    let (x, y) = (rb[i], rq[i]);
                    prop_assert_eq!(
                        (x.ineligible, x.market_cap, x.raw_weight),
                        (y.ineligible, y.market_cap, y.raw_weight)
                    );
                    prop_assert!(x.capped_weight.abs_diff(y.capped_weight) <= 1, "capped {}", i);
                    let g = group_of(&u[i], &p);
                    let bound = match (partial[g], u[i].unlock) {
                        (None, _) => continue,
                        (Some(false), true) => 1,
                        (Some(false), false) => 1 + f[g],
                        (Some(true), true) => 2 + f[g],
                        (Some(true), false) => 0,
                    };
                    prop_assert!(
                        x.target.abs_diff(y.target) <= bound,
                        "target {} moved {} > {}", i, x.target.abs_diff(y.target), bound
                    );
                }
            }
            // Errors do not depend on the order (nor on the flags).
            _ => prop_assert_eq!(&base, &q),
        }
    }

    /// `distribute` on its own: the errors, exact sum, cap, zeros, B1, B2, B3.
    #[test]
    fn distribute_properties(
        values in prop::collection::vec(
            prop_oneof![1 => Just(0u128), 4 => 1u128..1_000_000, 4 => (1u128..1000, 0u32..25).prop_map(|(m, e)| m * 10u128.pow(e))],
            0..60,
        ),
        total in prop_oneof![Just(0u64), Just(S), S / 100..=S],
        cap in prop_oneof![Just(S), Just(0u64), Just(S + 1), S / 100..=S],
    ) {
        let got = distribute(&values, total, cap);
        let eligible = values.iter().filter(|v| **v > 0).count();
        if cap == 0 || cap > S {
            prop_assert_eq!(got, Err(MethodologyError::InvalidCap(cap)));
        } else if total == 0 {
            prop_assert_eq!(got, Ok(vec![0; values.len()]));
        } else if eligible == 0 {
            prop_assert_eq!(got, Err(MethodologyError::Empty));
        } else if (eligible as u128) * (cap as u128) < total as u128 {
            prop_assert_eq!(got, Err(MethodologyError::InfeasibleCap { eligible, cap }));
        } else {
            let w = got.unwrap();
            prop_assert_eq!(w.iter().sum::<u64>(), total);
            prop_assert!(w.iter().all(|x| *x <= cap));
            check_near_water_fill(&values, total, cap, &w, "distribute")?;
            let idx: Vec<usize> = (0..values.len()).filter(|i| values[*i] > 0).collect();
            check_proportional(&idx, &values, &w, cap, "distribute")?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The sample universe, by hand
// ---------------------------------------------------------------------------------------------

const SAMPLE_CSV: &str = include_str!("../../../keeper/client/data/sample-universe.csv");

/// "4.2" -> 4.2 * USD_SCALE, exactly (the sample has at most two decimals).
fn usd(s: &str) -> u128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 12, "{s}");
    let mut v = int.parse::<u128>().unwrap() * USD_SCALE;
    let mut unit = USD_SCALE;
    for ch in frac.chars() {
        unit /= 10;
        v += unit * ch.to_digit(10).unwrap() as u128;
    }
    v
}

/// The sample universe as the keeper sees it: a token without a Pyth feed gets a zero price.
fn sample_universe() -> (Vec<&'static str>, Vec<TokenFacts>) {
    let mut lines = SAMPLE_CSV.lines().filter(|l| !l.trim().is_empty());
    assert_eq!(
        lines.next().unwrap().trim(),
        "symbol,name,sector,pyth_feed_id,price_usd,circulating_supply,\
         avg_daily_volume_usd,unlock_over_10pct_float"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            assert_eq!(f.len(), 8, "{l}");
            let facts = TokenFacts {
                price: if f[3].is_empty() { 0 } else { usd(f[4]) },
                circulating_supply: f[5].parse().unwrap(),
                avg_daily_volume_usd: f[6].parse().unwrap(),
                depth_usd: None,
                unlock: match f[7] {
                    "true" => true,
                    "false" => false,
                    x => panic!("unlock flag {x}"),
                },
                host: f[2] == "host",
            };
            (f[0], facts)
        })
        .unzip()
}

fn by_symbol<'a>(names: &[&str], rows: &'a [TargetRow], sym: &str) -> &'a TargetRow {
    &rows[names.iter().position(|n| *n == sym).unwrap()]
}

// Market caps, price x circulating supply, in $M (all exact):
//   pure plays  TAO 420 x 9.6M = 4,032   RENDER 6.5 x 518M = 3,367   FET 1.2 x 2.4B = 2,880
//               AKT 2.8 x 250M = 700     AR 14 x 65M = 910           FIL 4.2 x 620M = 2,604 (unlock)
//               GRT 0.18 x 9.5B = 1,710  WLD 1.9 x 1.1B = 2,090 (unlock)
//               THETA 1.3 x 1B = 1,300   INJ 22 x 97M = 2,134        -> 21,727
//   host chains SOL 190 x 520M = 98,800  NEAR 5.1 x 1.25B = 6,375    TON 3.4 x 2.5B = 8,500
//               LINK 18 x 680M = 12,240  ATOM 4.8 x 470M = 2,256     POL 0.25 x 10.4B = 2,600
//               HBAR 0.2 x 42B = 8,400                                -> 139,171
//   out         VIRTUAL, IOTX: no Pyth feed -> price 0 -> NoMarketCap (their volume passes);
//               OLAS: $3M of volume < $5M -> Volume (checked before the missing price).
//   total 160,898.
const SYMBOLS: [&str; 20] = [
    "TAO", "RENDER", "FET", "AKT", "VIRTUAL", "AR", "FIL", "GRT", "WLD", "THETA", "IOTX", "OLAS",
    "SOL", "NEAR", "TON", "LINK", "ATOM", "POL", "HBAR", "INJ",
];

/// Cap 15%, haircut 25%, no split.
///
/// Raw: floor(1e9 x m / 160,898); SOL 614,053,624.0, LINK 76,073,040.1, TON 52,828,500.0, ...
/// Cap, round 1: room 1e9, free 160,898: SOL 614.05M > 150M -> capped.
/// Round 2: room 850M, free 62,098: LINK 850M x 12,240 / 62,098 = 167,541,627.8 > 150M -> capped
///   (next largest: TON 116,348,352.6).
/// Round 3: room 700M, free 49,858: largest TON 119,338,922.5 <= 150M: done. Every uncapped
///   name gets 700M x m / 49,858, i.e. its raw weight x 0.7 x 160,898 / 49,858 = x 2.258988:
///   the 300M of excess (SOL 464M + LINK -> 150M each) goes pro rata to the 15 others.
///   Floors: TAO 56,608,768.904  RENDER 47,272,253.199  FET 40,434,834.931  AKT 9,827,911.268
///           AR 12,776,284.648   FIL 36,559,829.917     GRT 24,008,183.240  WLD 29,343,335.072
///           THETA 18,251,835.212 INJ 29,961,089.494    NEAR 89,504,191.905 TON 119,338,922.540
///           ATOM 31,673,954.029 POL 36,503,670.424     HBAR 117,934,935.216
///   sum of floors 999,999,993 -> residue 7 units, to the 7 largest fractions: FET .931,
///   FIL .917, NEAR .905, TAO .904, AR .648, TON .540, INJ .494 (POL .424 is next, misses).
/// Haircut 25%: FIL floor(36,559,830 x 0.75 = 27,419,872.5) = 27,419,872 (-9,139,958);
///   WLD floor(29,343,335 x 0.75 = 22,007,501.25) = 22,007,501 (-7,335,834).
///   kept 49,427,373 -> the 15 unflagged share 950,572,627 (16,475,792 units freed).
///   Round 1: room 950,572,627, free 156,204: SOL capped. Round 2: room 800,572,627,
///   free 57,404: LINK 170,697,... capped. Round 3: room 650,572,627, free 45,164: largest TON
///   122.4M, done. Floors: TAO 58,079,639.360 RENDER 48,500,532.174 FET 41,485,456.686
///   AKT 10,083,270.722 AR 13,108,251.939 GRT 24,631,989.907 THETA 18,726,074.198
///   INJ 30,739,571.030 NEAR 91,829,786.935 TON 122,439,715.913 ATOM 32,496,941.071
///   POL 37,452,148.397 HBAR 120,999,248.667; residue 7 to AR .939, NEAR .935, TON .913,
///   GRT .907, AKT .722, FET .686, HBAR .667 (POL .397 misses).
#[test]
fn sample_universe_cap_15_no_split() {
    let (names, facts) = sample_universe();
    assert_eq!(names, SYMBOLS);
    let p = params(CAP_15, HAIRCUT_25, 0);
    let rows = compute_targets(&facts, &p).unwrap();
    check_rows(&facts, &p, &rows).unwrap();

    #[rustfmt::skip]
    let want: [(u64, u64, u64); 20] = [
        // raw,        capped,      target
        (25_059_354,   56_608_769,  58_079_639), // TAO
        (20_926_301,   47_272_253,  48_500_532), // RENDER
        (17_899_538,   40_434_835,  41_485_457), // FET
        (4_350_582,    9_827_911,   10_083_271), // AKT
        (0,            0,           0),          // VIRTUAL
        (5_655_757,    12_776_285,  13_108_252), // AR
        (16_184_166,   36_559_830,  27_419_872), // FIL (unlock)
        (10_627_851,   24_008_183,  24_631_990), // GRT
        (12_989_595,   29_343_335,  22_007_501), // WLD (unlock)
        (8_079_652,    18_251_835,  18_726_074), // THETA
        (0,            0,           0),          // IOTX
        (0,            0,           0),          // OLAS
        (614_053_624,  150_000_000, 150_000_000), // SOL
        (39_621_375,   89_504_192,  91_829_787), // NEAR
        (52_828_500,   119_338_923, 122_439_716), // TON
        (76_073_040,   150_000_000, 150_000_000), // LINK
        (14_021_305,   31_673_954,  32_496_941), // ATOM
        (16_159_305,   36_503_670,  37_452_148), // POL
        (52_206_988,   117_934_935, 120_999_249), // HBAR
        (13_263_061,   29_961_090,  30_739_571), // INJ
    ];
    for (i, (r, w)) in rows.iter().zip(want).enumerate() {
        assert_eq!((r.raw_weight, r.capped_weight, r.target), w, "{}", names[i]);
    }
    assert_eq!(targets(&rows).iter().sum::<u64>(), S);

    // Exclusions.
    assert_eq!(
        by_symbol(&names, &rows, "OLAS").ineligible,
        Some(Ineligible::Volume)
    );
    for s in ["VIRTUAL", "IOTX"] {
        assert_eq!(
            by_symbol(&names, &rows, s).ineligible,
            Some(Ineligible::NoMarketCap)
        );
    }
    assert_eq!(rows.iter().filter(|r| r.ineligible.is_none()).count(), 17);
    assert_eq!(
        by_symbol(&names, &rows, "SOL").market_cap,
        98_800_000_000 * USD_SCALE
    );

    // Truncated to the cap: SOL and LINK, nobody else.
    let at_cap: Vec<&str> = names
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.capped_weight == CAP_15)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(at_cap, ["SOL", "LINK"]);

    // The excess went pro rata: every uncapped name's capped / raw is the same factor
    // 0.7 x 160,898 / 49,858 = 2.258988 (up to the 1-unit roundings of both, < 3e-7 here).
    let factor = 0.7 * 160_898.0 / 49_858.0;
    for s in ["TAO", "RENDER", "NEAR", "TON", "HBAR", "GRT"] {
        let r = by_symbol(&names, &rows, s);
        let ratio = r.capped_weight as f64 / r.raw_weight as f64;
        assert!((ratio - factor).abs() < 3e-7, "{s}: {ratio} vs {factor}");
    }

    // The haircut: exactly floor(capped x 0.75), and the freed 16,475,792 units went to the
    // unflagged, again pro rata (the uncapped ones all by 650,572,627 / 45,164 per $M).
    let fil = by_symbol(&names, &rows, "FIL");
    let wld = by_symbol(&names, &rows, "WLD");
    assert_eq!((fil.target, fil.haircut), (27_419_872, 9_139_958));
    assert_eq!((wld.target, wld.haircut), (22_007_501, 7_335_834));
    let gained: u64 = rows
        .iter()
        .zip(&facts)
        .filter(|(_, t)| !t.unlock)
        .map(|(r, _)| r.target - r.capped_weight)
        .sum();
    assert_eq!(gained, 9_139_958 + 7_335_834);
    assert!(rows
        .iter()
        .zip(&facts)
        .all(|(r, t)| t.unlock || r.haircut == 0));
}

/// The same universe with a 60/40 pure-play / host split.
///
/// Pure plays (600M over 21,727): largest TAO 600M x 4,032 / 21,727 = 111,345,330.7 < 150M, so
///   no cap binds. Floors: TAO .695 RENDER 92,981,083.445 FET 79,532,379.068 AKT .579 AR .553
///   FIL 71,910,526.074 GRT .071 WLD .643 THETA .218 INJ .656; residue 4 -> TAO, INJ, WLD, AKT.
///   Haircut: FIL floor(71,910,526 x .75 = 53,932,894.5) = 53,932,894; WLD floor(57,716,206 x
///   .75 = 43,287,154.5) = 43,287,154; kept 97,220,048 -> 502,779,952 over the 8 unflagged
///   (17,033): TAO 119,016,542.386 RENDER 99,387,077.930 FET 85,011,815.990 AKT 20,662,594.164
///   AR 26,861,372.414 GRT 50,475,765.744 THETA 38,373,389.162 INJ 62,991,394.209;
///   residue 4 -> FET, RENDER, GRT, AR (TAO .386 misses).
/// Host chains (400M over 139,171): SOL 283,967,205.8 > 150M -> capped; round 2: room 250M,
///   free 40,371: LINK 75,796,982.983 TON 52,636,793.738 HBAR 52,017,537.341
///   NEAR 39,477,595.304 POL 16,100,666.320 ATOM 13,970,424.314; residue 3 -> LINK, TON, HBAR.
///   No unlock flag among the host chains: targets = capped weights.
#[test]
fn sample_universe_cap_15_split_60_40() {
    let (names, facts) = sample_universe();
    let p = params(CAP_15, HAIRCUT_25, 60 * PCT);
    let rows = compute_targets(&facts, &p).unwrap();
    check_rows(&facts, &p, &rows).unwrap();

    #[rustfmt::skip]
    let want: [(u64, u64, u64); 20] = [
        (111_345_330, 111_345_331, 119_016_542), // TAO
        (92_981_083,  92_981_083,  99_387_078),  // RENDER
        (79_532_379,  79_532_379,  85_011_816),  // FET
        (19_330_786,  19_330_787,  20_662_594),  // AKT
        (0,           0,           0),           // VIRTUAL
        (25_130_022,  25_130_022,  26_861_373),  // AR
        (71_910_526,  71_910_526,  53_932_894),  // FIL (unlock)
        (47_222_350,  47_222_350,  50_475_766),  // GRT
        (57_716_205,  57_716_206,  43_287_154),  // WLD (unlock)
        (35_900_032,  35_900_032,  38_373_389),  // THETA
        (0,           0,           0),           // IOTX
        (0,           0,           0),           // OLAS
        (283_967_205, 150_000_000, 150_000_000), // SOL
        (18_322_782,  39_477_595,  39_477_595),  // NEAR
        (24_430_377,  52_636_794,  52_636_794),  // TON
        (35_179_742,  75_796_983,  75_796_983),  // LINK
        (6_484_109,   13_970_424,  13_970_424),  // ATOM
        (7_472_821,   16_100_666,  16_100_666),  // POL
        (24_142_960,  52_017_538,  52_017_538),  // HBAR
        (58_931_283,  58_931_284,  62_991_394),  // INJ
    ];
    for (i, (r, w)) in rows.iter().zip(want).enumerate() {
        assert_eq!((r.raw_weight, r.capped_weight, r.target), w, "{}", names[i]);
    }
    let bucket = |host: bool| -> u64 {
        rows.iter()
            .zip(&facts)
            .filter(|(_, t)| t.host == host)
            .map(|(r, _)| r.target)
            .sum()
    };
    assert_eq!(bucket(false), 600_000_000);
    assert_eq!(bucket(true), 400_000_000);
    let at_cap: Vec<&str> = names
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.capped_weight == CAP_15)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(at_cap, ["SOL"]);
}

// ---------------------------------------------------------------------------------------------
// Exactly 1/cap, infeasible, empty, invalid
// ---------------------------------------------------------------------------------------------

#[test]
fn five_tokens_at_20_pct_all_sit_at_the_cap() {
    // 5 x 20% = 100%: whatever the market caps, every name is truncated to exactly 20%.
    let u: Vec<TokenFacts> = [50_000u128, 1, 3, 7_000_000, 12]
        .iter()
        .map(|m| tok(*m, false, false))
        .collect();
    let rows = compute_targets(&u, &params(CAP_20, HAIRCUT_25, 0)).unwrap();
    assert_eq!(targets(&rows), vec![CAP_20; 5]);
}

#[test]
fn seven_tokens_at_15_pct() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    // 7 x 15% = 105% >= 100%: feasible. Caps 1000, 900, 800, 700, 600, 500, 100 (total 4,600):
    // round 1: 1e9 x m / 4,600 = 217.4M 195.7M 173.9M 152.2M | 130.4M 108.7M 21.7M -> 4 capped;
    // round 2: room 400M over 1,200: 600 -> 200M, 500 -> 166.7M capped, 100 -> 33.3M;
    // round 3: room 100M over 100: the last name takes exactly 100M.
    let u: Vec<TokenFacts> = [1000u128, 900, 800, 700, 600, 500, 100]
        .iter()
        .map(|m| tok(*m * 1_000_000, false, false))
        .collect();
    let rows = compute_targets(&u, &p).unwrap();
    assert_eq!(
        targets(&rows),
        vec![CAP_15, CAP_15, CAP_15, CAP_15, CAP_15, CAP_15, 100_000_000]
    );

    // Seven equal names: 1e9 / 7 = 142,857,142.857 each, floors sum to 999,999,994; the 6
    // residue units tie on the remainder and go to the lower rows.
    let u = vec![tok(1_000_000, false, false); 7];
    let rows = compute_targets(&u, &p).unwrap();
    let mut want = vec![142_857_143u64; 6];
    want.push(142_857_142);
    assert_eq!(targets(&rows), want);

    // One of them flagged (the first): keeps floor(142,857,143 x 0.75 = 107,142,857.25)
    // = 107,142,857; the six others share 892,857,143 (<= 6 x 15% = 900M): 148,809,523.83 each,
    // floors sum to 892,857,138, residue 5 to the first five of them.
    let mut u = vec![tok(1_000_000, false, false); 7];
    u[0].unlock = true;
    let rows = compute_targets(&u, &p).unwrap();
    assert_eq!(
        targets(&rows),
        vec![
            107_142_857,
            148_809_524,
            148_809_524,
            148_809_524,
            148_809_524,
            148_809_524,
            148_809_523
        ]
    );
    assert_eq!(rows[0].haircut, 142_857_143 - 107_142_857);
}

#[test]
fn infeasible_caps_are_named() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    // 6 x 15% = 90% < 100%.
    let u = vec![tok(1_000_000, false, false); 6];
    assert_eq!(
        compute_targets(&u, &p),
        Err(MethodologyError::InfeasibleCap {
            eligible: 6,
            cap: CAP_15
        })
    );
    // 7 tokens, but one is below the volume floor: 6 eligible.
    let mut u = vec![tok(1_000_000, false, false); 7];
    u[3].avg_daily_volume_usd = MIN_VOL - 1;
    assert_eq!(
        compute_targets(&u, &p),
        Err(MethodologyError::InfeasibleCap {
            eligible: 6,
            cap: CAP_15
        })
    );
    // 60/40 split: 7 pure plays hold 60% easily, 2 host chains cannot hold 40% (2 x 15% = 30%).
    let mut u = vec![tok(1_000_000, false, false); 7];
    u.extend([tok(5, false, true), tok(9, false, true)]);
    assert_eq!(
        compute_targets(&u, &params(CAP_15, HAIRCUT_25, 60 * PCT)),
        Err(MethodologyError::InfeasibleCap {
            eligible: 2,
            cap: CAP_15
        })
    );
    // ... and 3 host chains can (3 x 15% = 45% >= 40%): $5, $9, $1 over 400M: round 1
    // 133.3M, 240M (capped), 26.7M; round 2, room 250M over 6: 208.3M (capped), 41.7M;
    // round 3, room 100M over 1: the $1 chain takes 100M.
    u.push(tok(1, false, true));
    let rows = compute_targets(&u, &params(CAP_15, HAIRCUT_25, 60 * PCT)).unwrap();
    assert_eq!(&targets(&rows)[7..], &[CAP_15, CAP_15, 100_000_000]);
}

/// The unlock haircut is partial when the unflagged names cannot absorb the freed weight under
/// the cap: they go to exactly the cap and the flagged share what is left pro rata to their
/// capped weights, so flagging never turns a feasible universe into InfeasibleCap.
///
/// Seven equal names at 15% (feasible, previous test): capped 142,857,143 x 6, 142,857,142.
/// * Flag the first two: a full haircut would keep floor(142,857,143 x 0.75) = 107,142,857 each
///   (kept 214,285,714) and ask the five unflagged to hold 785,714,286 > 5 x 15% = 750M. So the
///   five sit at 150,000,000 and the two flagged share 1e9 - 750M = 250,000,000 pro rata to their
///   equal capped weights: 125,000,000 each (haircut 17,857,143 each, between none and the full
///   35,714,286).
/// * Flag the first six: the one unflagged name sits at 150,000,000, the six flagged share
///   850,000,000 over equal capped weights: 141,666,666.67 each, floors 849,999,996, residue 4 to
///   the lower rows (equal remainders): 141,666,667 x 4, 141,666,666 x 2 (haircuts 1,190,476 x 4,
///   1,190,477 x 2).
/// * Flag all seven: nobody can take anything, every name keeps its capped weight (haircut 0).
///
/// The haircut taken off each flagged name shrinks as more names are flagged, and the index
/// stays computable throughout.
#[test]
fn haircut_is_partial_when_the_others_are_full() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    let mut capped = vec![142_857_143u64; 6];
    capped.push(142_857_142);

    let mut u = vec![tok(1_000_000, false, false); 7];
    u[0].unlock = true;
    u[1].unlock = true;
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.capped_weight).collect::<Vec<_>>(),
        capped
    );
    assert_eq!(
        targets(&rows),
        [
            125_000_000,
            125_000_000,
            CAP_15,
            CAP_15,
            CAP_15,
            CAP_15,
            CAP_15
        ]
    );
    let haircuts: Vec<u64> = rows.iter().map(|r| r.haircut).collect();
    assert_eq!(haircuts, [17_857_143, 17_857_143, 0, 0, 0, 0, 0]);

    for t in u.iter_mut().take(6) {
        t.unlock = true;
    }
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    assert_eq!(
        targets(&rows),
        [
            141_666_667,
            141_666_667,
            141_666_667,
            141_666_667,
            141_666_666,
            141_666_666,
            CAP_15
        ]
    );
    assert_eq!(targets(&rows)[..6].iter().sum::<u64>(), 850_000_000);
    let haircuts: Vec<u64> = rows.iter().map(|r| r.haircut).collect();
    assert_eq!(
        haircuts,
        [1_190_476, 1_190_476, 1_190_476, 1_190_476, 1_190_477, 1_190_477, 0]
    );

    u[6].unlock = true;
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    assert!(rows.iter().all(|r| r.haircut == 0));
    assert_eq!(targets(&rows), capped);
    assert_eq!(rows[6].target, 142_857_142);

    // A bucket of exactly 1/cap names: the 60% pure-play bucket of four equal names, all at
    // 15% before the haircut. One flagged: a full haircut would leave 600M - 112,500,000 =
    // 487.5M for three names that hold at most 450M; the partial haircut puts them at 15% and
    // leaves the flagged name 600M - 450M = 150,000,000: its whole capped weight (haircut 0).
    let mut u = vec![tok(1_000_000, false, false); 4];
    u[1].unlock = true;
    u.extend([tok(1_000_000, false, true); 3]);
    let p = params(CAP_15, HAIRCUT_25, 60 * PCT);
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    assert_eq!(targets(&rows)[..4], [CAP_15; 4]);
    assert_eq!(rows[1].haircut, 0);
}

/// Reported (one unit, on a crafted input): the partial haircut shares `share - n_u * cap`
/// pro rata to the flagged tokens' capped weights, and with several flagged tokens (three here) that
/// can leave one of them a unit *below* its full-haircut target `floor(c * keep / S)`, while
/// the others lose nothing: the floors of the small ones made `kept` fall short, the pro-rata
/// split gives the shortfall back to them, and the largest remainders do not favour the big one.
///
/// Cap 132,142,857 (7 x cap = 924,999,999), haircut 25%. Market caps (whole dollars, total 1e9,
/// so capped weight = market cap, none at the cap): seven unflagged names, 128,571,428 x 6 and
/// 128,571,430 (sum 899,999,998), and three flagged: 100,000,000, 1 and 1.
/// Full haircut: kept = 75,000,000 + 0 + 0, the seven unflagged would have to hold
/// 925,000,000 > 924,999,999: partial. The unflagged sit at the cap, the flagged share R = 75,000,001 over
/// capped weights 100,000,002: 74,999,999.50000001, 0.74999999 x 2; floors 74,999,999, 0, 0,
/// residue 2 to the larger remainders (the two .74999999): targets 74,999,999, 1, 1.
/// The big name ends at 74,999,999 < 75,000,000 = floor(100,000,000 x 0.75), a deeper cut than
/// the full haircut (haircut 25,000,001 > 25,000,000), and the two small flagged names keep
/// their whole weight. The rule "each flagged target in [floor(c * keep / S), c]" only holds
/// here up to `f_g - 1` units (f_g = 3 flagged); the pro-rata rule itself (B1) holds.
#[test]
fn partial_haircut_can_cut_one_unit_deeper_than_the_full_one() {
    let cap = 132_142_857;
    let p = params(cap, HAIRCUT_25, 0);
    let mut u = vec![tok(128_571_428, false, false); 6];
    u.push(tok(128_571_430, false, false));
    u.extend([
        tok(100_000_000, true, false),
        tok(1, true, false),
        tok(1, true, false),
    ]);
    let rows = compute_targets(&u, &p).unwrap();
    let c: Vec<u64> = rows.iter().map(|r| r.capped_weight).collect();
    assert_eq!(c[7..], [100_000_000, 1, 1]);
    assert_eq!(c[..7].iter().sum::<u64>(), 899_999_998);
    let t = targets(&rows);
    assert_eq!(t[..7], [cap; 7]);
    assert_eq!(t[7..], [74_999_999, 1, 1]);
    assert_eq!(rows[7].haircut, 25_000_001);
    let full = (100_000_000u128 * (S - HAIRCUT_25) as u128 / S as u128) as u64;
    assert_eq!(full, 75_000_000);
    assert!(t[7] < full);
    // The pro-rata split of 75,000,001 over the flagged capped weights, within one unit each.
    let fvals: Vec<u128> = c[7..].iter().map(|x| *x as u128).collect();
    check_near_water_fill(&fvals, 75_000_001, cap, &t[7..], "partial").unwrap();
}

/// The `haircut` column of an *unflagged* token is always 0, even when the haircut stage (which
/// re-runs the whole distribution over the unflagged tokens) leaves it a unit below its capped
/// weight because the residue landed elsewhere the second time.
///
/// Five names of $1,000M, two of $100M, one of $2 and one of $1 (flagged); cap 15%.
/// Cap: 1e9 x 1,000M / 5,200M = 192.3M -> the five are capped; room 250M over 200,000,003:
///   $100M -> 124,999,998.125, $2 -> 2.4999999625, $1 -> 1.24999998; floors leave 1 unit, to
///   the largest fraction, the $2 name: capped weights 150M x 5, 124,999,998 x 2, 3, 1.
/// Haircut: the $1 name keeps floor(1 x 0.75) = 0 (kept 0, 8 x 15% >= 1e9: full haircut); the
///   unflagged share 1e9: room 250M over 200,000,002: $100M -> 124,999,998.75,
///   $2 -> 2.499999975; floors leave 2 units, to the two $100M names (.75): targets 150M x 5,
///   124,999,999 x 2, 2, 0.
/// The $2 name's target went from 3 (capped) to 2, but its haircut column reads 0 (it was 1
/// before the fix); the flagged $1 name's reads 1. B1 holds for every target (within one unit
/// of 2.499999975 for the $2 name).
#[test]
fn unflagged_token_haircut_column_is_zero() {
    let mut u = vec![tok(1_000_000_000, false, false); 5];
    u.extend([
        tok(100_000_000, false, false),
        tok(100_000_000, false, false),
        tok(2, false, false),
        tok(1, true, false),
    ]);
    let p = params(CAP_15, HAIRCUT_25, 0);
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    let capped: Vec<u64> = rows.iter().map(|r| r.capped_weight).collect();
    assert_eq!(capped[..5], [CAP_15; 5]);
    assert_eq!(capped[5..], [124_999_998, 124_999_998, 3, 1]);
    let t = targets(&rows);
    assert_eq!(t[..5], [CAP_15; 5]);
    assert_eq!(t[5..], [124_999_999, 124_999_999, 2, 0]);
    // B1 for the unflagged targets against the water filling of 1e9 over the unflagged.
    let values: Vec<u128> = u[..8].iter().map(|t| mcap(t, &p)).collect();
    check_near_water_fill(&values, S, CAP_15, &t[..8], "unflagged").unwrap();
    assert!(!u[7].unlock);
    assert!(t[7] < capped[7]);
    assert_eq!(rows[7].haircut, 0);
    assert!(rows[..8].iter().all(|r| r.haircut == 0));
    assert_eq!(rows[8].haircut, 1);
}

#[test]
fn empty_and_invalid() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    assert_eq!(compute_targets(&[], &p), Err(MethodologyError::Empty));
    // Only ineligible tokens.
    let mut t = tok(1_000, false, false);
    t.price = 0;
    assert_eq!(compute_targets(&[t; 3], &p), Err(MethodologyError::Empty));
    // Split on, and no eligible host chain: the host bucket has a share and nobody to hold it.
    let u = vec![tok(1_000, false, false); 10];
    assert_eq!(
        compute_targets(&u, &params(CAP_15, HAIRCUT_25, 60 * PCT)),
        Err(MethodologyError::Empty)
    );
    // Caps outside (0, 100%], checked before anything else (even an empty universe).
    for cap in [0, S + 1, u64::MAX] {
        assert_eq!(
            compute_targets(&[], &params(cap, HAIRCUT_25, 0)),
            Err(MethodologyError::InvalidCap(cap))
        );
        assert_eq!(
            compute_targets(&u, &params(cap, HAIRCUT_25, 0)),
            Err(MethodologyError::InvalidCap(cap))
        );
    }
    // 100% is a valid cap: one token takes everything.
    let rows = compute_targets(&u[..1], &params(S, HAIRCUT_25, 0)).unwrap();
    assert_eq!(targets(&rows), vec![S]);
    // A pure-play share above 100%, then a haircut above 100%: named, checked after the cap and
    // before anything else (even an empty universe).
    for x in [S + 1, u64::MAX] {
        for v in [&[][..], &u[..]] {
            assert_eq!(
                compute_targets(v, &params(CAP_15, HAIRCUT_25, x)),
                Err(MethodologyError::InvalidShare(x))
            );
            assert_eq!(
                compute_targets(v, &params(CAP_15, x, 0)),
                Err(MethodologyError::InvalidHaircut(x))
            );
            assert_eq!(
                compute_targets(v, &params(0, x, x)),
                Err(MethodologyError::InvalidCap(0))
            );
            assert_eq!(
                compute_targets(v, &params(CAP_15, x, x)),
                Err(MethodologyError::InvalidShare(x))
            );
        }
    }
    // The bounds themselves are valid: a 100% pure-play share (the host bucket gets nothing and
    // needs nobody) and a 100% haircut (a flagged name keeps nothing when others can take it).
    let rows = compute_targets(&u, &params(CAP_15, HAIRCUT_25, S)).unwrap();
    assert_eq!(targets(&rows), vec![100_000_000; 10]);
    let mut v = vec![tok(1_000, false, false); 10];
    v[0].unlock = true;
    let rows = compute_targets(&v, &params(CAP_15, S, 0)).unwrap();
    assert_eq!(rows[0].target, 0);
    assert_eq!(rows[0].haircut, 100_000_000);
    assert_eq!(
        targets(&rows)[1..],
        [
            111_111_112,
            111_111_111,
            111_111_111,
            111_111_111,
            111_111_111,
            111_111_111,
            111_111_111,
            111_111_111,
            111_111_111
        ]
    );
}

#[test]
fn eligibility_boundaries() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    let base = tok(1_000, false, false);
    let with = |f: &dyn Fn(&mut TokenFacts)| {
        let mut t = base;
        f(&mut t);
        eligibility(&t, &p)
    };
    assert_eq!(with(&|t| t.avg_daily_volume_usd = MIN_VOL), None);
    assert_eq!(
        with(&|t| t.avg_daily_volume_usd = MIN_VOL - 1),
        Some(Ineligible::Volume)
    );
    assert_eq!(with(&|t| t.depth_usd = Some(MIN_DEPTH)), None);
    assert_eq!(
        with(&|t| t.depth_usd = Some(MIN_DEPTH - 1)),
        Some(Ineligible::Depth)
    );
    assert_eq!(with(&|t| t.price = 0), Some(Ineligible::NoMarketCap));
    assert_eq!(
        with(&|t| t.circulating_supply = 0),
        Some(Ineligible::NoMarketCap)
    );
    // Volume is checked first, then depth, then the market cap.
    assert_eq!(
        with(&|t| {
            t.avg_daily_volume_usd = 0;
            t.depth_usd = Some(0);
            t.price = 0;
        }),
        Some(Ineligible::Volume)
    );
    assert_eq!(
        with(&|t| {
            t.depth_usd = Some(0);
            t.price = 0;
        }),
        Some(Ineligible::Depth)
    );
}

#[test]
fn overflow_is_a_named_error() {
    let p = params(CAP_15, HAIRCUT_25, 0);
    let mut u = vec![tok(1_000, false, false); 7];
    // price x supply overflows u128.
    u[0].price = u128::MAX / 2;
    u[0].circulating_supply = 3;
    assert_eq!(
        compute_targets(&u, &p),
        Err(MethodologyError::Math(aidx::math::MathError::Overflow))
    );
    // The market cap fits, room x market cap does not (2^100 units = $1.3e18).
    u[0].price = 1 << 100;
    u[0].circulating_supply = 1;
    assert_eq!(
        compute_targets(&u, &p),
        Err(MethodologyError::Math(aidx::math::MathError::Overflow))
    );
}

// ---------------------------------------------------------------------------------------------
// Regression tests: near-cap shares (fixed)
// ---------------------------------------------------------------------------------------------

/// Regression test for the near-cap fix: `distribute` used to cap a token only when its
/// *floored* share exceeded the cap (`w > cap`), so a token whose exact share lay in
/// (cap, cap + 1) was clamped to the cap without being capped, its fractional excess landed in
/// the residue, and the residue loop handed several units to the same tokens whatever their
/// size. It now caps on the exact comparison (`w > cap || (w == cap && remainder > 0)`).
///
/// Six names worth $1,500,000,009 each, one worth $999,999,941, one worth $5 (total $1e10),
/// cap 15%: exact shares 150,000,000.9 x 6, 99,999,994.1 and 0.5. The six are capped at 150M,
/// the 100M left is split 999,999,941 : 5 -> 99,999,999.49999997 and 0.50000003 -> floors
/// 99,999,999 and 0, the residue unit to the larger remainder: 99,999,999 and 1.
/// (Before the fix: floors summed to 999,999,994, residue 6 handed in turns to the only two names
/// below the cap -> 99,999,997 and 3, the $5 name 6x its pro-rata share.)
#[test]
fn residue_from_near_cap_tokens_goes_pro_rata() {
    let mut u = vec![tok(1_500_000_009, false, false); 6];
    u.push(tok(999_999_941, false, false));
    u.push(tok(5, false, false));
    let p = params(CAP_15, HAIRCUT_25, 0);
    let rows = compute_targets(&u, &p).unwrap();
    check_rows(&u, &p, &rows).unwrap();
    assert_eq!(targets(&rows).iter().sum::<u64>(), S);
    assert_eq!(
        targets(&rows),
        [CAP_15, CAP_15, CAP_15, CAP_15, CAP_15, CAP_15, 99_999_999, 1]
    );
    let values: Vec<u128> = u.iter().map(|t| mcap(t, &p)).collect();
    check_near_water_fill(&values, S, CAP_15, &targets(&rows), "near cap").unwrap();
}

/// Regression test for the same fix on `distribute` directly, with a small total: ten values of
/// 609 (exact share 60.9 each under a cap of 60), one of 505 (50.5) and one of 5 (0.5), total
/// 660. The ten are capped, the 60 left split 505 : 5 -> 59.41 and 0.59 -> [60 x 10, 59, 1].
/// (Before the fix: [60 x 10, 55, 5], the 5 taking 5 units for a pro-rata 0.59.)
#[test]
fn distribute_residue_small_totals() {
    let mut v = vec![609u128; 10];
    v.extend([505, 5]);
    let w = distribute(&v, 660, 60).unwrap();
    let mut want = vec![60u64; 10];
    want.extend([59, 1]);
    assert_eq!(w, want);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/methodology.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Regression property for the near-cap fix, at random: `k >= 2` tokens whose exact share is
    /// `cap + a_i / d` (in (cap, cap + 1): capped only by the exact test), a few tokens below the
    /// cap with shares `b_j / d`, and a filler that makes the total whole. B1 (every weight
    /// within one unit of its exact water-filling share) failed in most cases before the fix.
    #[test]
    fn near_cap_tokens_stay_within_one_unit(
        cap in 10u64..=1000,
        d in 2u128..=100,
        near in prop::collection::vec(1u128..100, 2..=8),
        below in prop::collection::vec(1u128..1_000_000, 1..=4),
        filler in 0u128..1000,
    ) {
        let c = cap as u128;
        let mut values: Vec<u128> = near.iter().map(|a| c * d + 1 + a % (d - 1)).collect();
        values.extend(below.iter().map(|b| b % (c * d)));
        let sum: u128 = values.iter().sum();
        values.push((d - sum % d) % d + d * (filler % c));
        let total = values.iter().sum::<u128>() / d; // exact: every share is values[i] / d
        let eligible = values.iter().filter(|v| **v > 0).count() as u128;
        prop_assume!(eligible * c >= total);
        let w = distribute(&values, total as u64, cap).unwrap();
        prop_assert_eq!(w.iter().sum::<u64>(), total as u64);
        check_near_water_fill(&values, total as u64, cap, &w, "near cap")?;
        let idx: Vec<usize> = (0..values.len()).filter(|i| values[*i] > 0).collect();
        check_proportional(&idx, &values, &w, cap, "near cap")?;
    }
}

// ---------------------------------------------------------------------------------------------
// Timing (printed, never asserted)
// ---------------------------------------------------------------------------------------------

/// A 1,000-token universe (market caps over ~13 orders of magnitude, five giants, 20%
/// unlock-flagged, 30% host chains), with and without the 60/40 split. Prints the time of one
/// `compute_targets` (run with `--nocapture` to see it); only correctness is asserted.
#[test]
fn thousand_token_universe_timing() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut u: Vec<TokenFacts> = (0..1000)
        .map(|_| {
            let mantissa = 1 + (next() % 999) as u128;
            let exp = (next() % 11) as u32;
            TokenFacts {
                // $1e-9 to $1e4, x 1e6 to 1e9 tokens.
                price: mantissa * 10u128.pow(exp) * (USD_SCALE / 1_000_000_000),
                circulating_supply: 1_000_000 + (next() % 1_000_000_000) as u128,
                avg_daily_volume_usd: MIN_VOL + (next() % 100_000_000) as u128,
                depth_usd: None,
                unlock: next() % 5 == 0,
                host: next() % 10 < 3,
            }
        })
        .collect();
    // A few giants, so that the cap binds over several rounds.
    for (k, m) in [
        (0, 40_000u128),
        (250, 20_000),
        (500, 10_000),
        (750, 5_000),
        (999, 2_500),
    ] {
        u[k].price = 10_000 * USD_SCALE;
        u[k].circulating_supply = m * 1_000_000;
        u[k].host = k % 500 == 0;
    }
    for split in [0, 60 * PCT] {
        let p = params(CAP_15, HAIRCUT_25, split);
        let start = Instant::now();
        let rows = compute_targets(&u, &p).unwrap();
        let elapsed = start.elapsed();
        println!(
            "compute_targets, 1,000 tokens, split {}%: {:?} ({} at the cap)",
            split / PCT,
            elapsed,
            rows.iter().filter(|r| r.capped_weight == CAP_15).count()
        );
        check_rows(&u, &p, &rows).unwrap();
    }
}
