//! Methodology on arbitrary universes: `compute_targets`, `distribute` and `capped_weights`
//! never panic; their errors are the named ones, in the documented order, and a universe every
//! group of which can hold its share never fails (unless market caps are near u128, where
//! Overflow is allowed); on Ok the targets sum to exactly 100% (each bucket to its share), none
//! is above the cap, the ineligible get 0, a flagged token never gains from its haircut, and
//! `distribute` is within one unit of the exact water filling and ordered like the values.
#![no_main]

use aidx::math::methodology::*;
use aidx::math::{MathError, WEIGHT_SCALE};
use aidx_fuzz::must;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use num_bigint::BigUint;

const W: u64 = WEIGHT_SCALE;

/// A u128 that is usually u64-sized; `shift` >= 192 moves it up to 2^127.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Wide {
    v: u64,
    shift: u8,
}

impl Wide {
    fn get(self) -> u128 {
        (self.v as u128) << (self.shift.saturating_sub(192) % 64)
    }
}

#[derive(Arbitrary, Debug)]
struct Token {
    price: Wide,
    supply: Wide,
    volume: u32,
    depth: Option<u32>,
    unlock: bool,
    host: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    tokens: Vec<Token>,
    max_weight: u64,
    unlock_haircut: u64,
    pure_play_share: u64,
    min_volume: u32,
    min_depth: u32,
    /// Parameters as drawn (mostly invalid); else reduced into their valid ranges.
    raw: bool,
    values: Vec<Wide>,
    total: u64,
    cap: u64,
}

fn params(i: &Input) -> MethodologyParams {
    let (cap, haircut, share) = if i.raw {
        (i.max_weight, i.unlock_haircut, i.pure_play_share)
    } else {
        (
            1 + i.max_weight % W,
            i.unlock_haircut % (W + 1),
            // no split a quarter of the time
            if i.pure_play_share.is_multiple_of(4) {
                0
            } else {
                i.pure_play_share % (W + 1)
            },
        )
    };
    MethodologyParams {
        max_weight: cap,
        unlock_haircut: haircut,
        pure_play_share: share,
        min_volume_usd: i.min_volume as u128,
        min_depth_usd: i.min_depth as u128,
    }
}

/// The exact water filling: whether each value sits at the cap, and `(room, free)` such that an
/// uncapped share is exactly `room * v / free`.
fn water_fill(values: &[u128], total: u64, cap: u64) -> (Vec<bool>, BigUint, BigUint) {
    let big = |x: u128| BigUint::from(x);
    let mut capped = vec![false; values.len()];
    loop {
        let n_capped = capped.iter().filter(|c| **c).count() as u128;
        let room = big(total as u128) - big(n_capped * cap as u128);
        let free: BigUint = values
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .map(|(v, _)| big(*v))
            .sum();
        let mut changed = false;
        for (i, v) in values.iter().enumerate() {
            if !capped[i] && free > BigUint::ZERO && &room * big(*v) > big(cap as u128) * &free {
                capped[i] = true;
                changed = true;
            }
        }
        if !changed {
            return (capped, room, free);
        }
    }
}

fn check_distribute(values: &[u128], total: u64, cap: u64) -> Result<(), String> {
    let ctx = || format!("distribute({values:?}, {total}, {cap})");
    let got = distribute(values, total, cap);
    let eligible = values.iter().filter(|v| **v > 0).count();
    let expected = if cap == 0 || cap > W {
        Some(Err(MethodologyError::InvalidCap(cap)))
    } else if total == 0 {
        Some(Ok(vec![0; values.len()]))
    } else if eligible == 0 {
        Some(Err(MethodologyError::Empty))
    } else if (eligible as u128) * (cap as u128) < total as u128 {
        Some(Err(MethodologyError::InfeasibleCap { eligible, cap }))
    } else {
        None // Ok, or Overflow for values near u128
    };
    if let Some(e) = expected {
        return if got == e {
            Ok(())
        } else {
            Err(format!("{}: {got:?}, want {e:?}", ctx()))
        };
    }
    let w = match got {
        Ok(w) => w,
        Err(MethodologyError::Math(MathError::Overflow)) => {
            let limit = u128::MAX / (total as u128).max(values.len() as u128);
            return if values.iter().any(|v| *v > limit) {
                Ok(())
            } else {
                Err(format!("{}: Overflow on small values", ctx()))
            };
        }
        Err(e) => return Err(format!("{}: {e:?} on a feasible input", ctx())),
    };
    if w.len() != values.len() || w.iter().map(|x| *x as u128).sum::<u128>() != total as u128 {
        return Err(format!("{}: {w:?} does not sum to the total", ctx()));
    }
    let (capped, room, free) = water_fill(values, total, cap);
    for i in 0..values.len() {
        if w[i] > cap {
            return Err(format!("{}: {i} above the cap: {w:?}", ctx()));
        }
        if values[i] == 0 && w[i] != 0 {
            return Err(format!("{}: zero value {i} weighted: {w:?}", ctx()));
        }
        if values[i] > 0 && capped[i] && w[i] != cap {
            return Err(format!("{}: {i} should sit at the cap: {w:?}", ctx()));
        }
        if values[i] > 0 && !capped[i] {
            // |w - room * v / free| < 1
            let lhs = BigUint::from(w[i]) * &free;
            let rhs = &room * BigUint::from(values[i]);
            let diff = if lhs > rhs { lhs - rhs } else { rhs - lhs };
            if diff >= free {
                return Err(format!("{}: {i} not within one unit: {w:?}", ctx()));
            }
        }
        for j in 0..values.len() {
            if values[i] > values[j] && w[i] < w[j] {
                return Err(format!("{}: {i} > {j} but weighted less: {w:?}", ctx()));
            }
            if values[i] == values[j] && w[i] > w[j] + 1 {
                return Err(format!("{}: {i} == {j} but {w:?}", ctx()));
            }
        }
    }
    Ok(())
}

fn check_targets(tokens: &[TokenFacts], p: &MethodologyParams) -> Result<(), String> {
    let ctx = || format!("compute_targets({tokens:?}, {p:?})");
    let got = compute_targets(tokens, p);
    // Parameter errors, in order.
    let param_error = if p.max_weight == 0 || p.max_weight > W {
        Some(MethodologyError::InvalidCap(p.max_weight))
    } else if p.pure_play_share > W {
        Some(MethodologyError::InvalidShare(p.pure_play_share))
    } else if p.unlock_haircut > W {
        Some(MethodologyError::InvalidHaircut(p.unlock_haircut))
    } else {
        None
    };
    if let Some(e) = param_error {
        return if got == Err(e) {
            Ok(())
        } else {
            Err(format!("{}: {got:?}, want {e:?}", ctx()))
        };
    }
    // Market caps of the eligible (None: price x supply past u128).
    let mcaps: Vec<Option<u128>> = tokens
        .iter()
        .map(|t| match eligibility(t, p) {
            None => t.price.checked_mul(t.circulating_supply),
            Some(_) => Some(0),
        })
        .collect();
    if mcaps.iter().any(|m| m.is_none()) {
        let want = Err(MethodologyError::Math(MathError::Overflow));
        return if got == want {
            Ok(())
        } else {
            Err(format!("{}: {got:?}, want {want:?}", ctx()))
        };
    }
    let mcaps: Vec<u128> = mcaps.into_iter().map(|m| m.unwrap_or(0)).collect();
    let groups: Vec<(Vec<usize>, u64)> = if p.pure_play_share == 0 {
        vec![((0..tokens.len()).collect(), W)]
    } else {
        vec![
            (
                (0..tokens.len()).filter(|i| !tokens[*i].host).collect(),
                p.pure_play_share,
            ),
            (
                (0..tokens.len()).filter(|i| tokens[*i].host).collect(),
                W - p.pure_play_share,
            ),
        ]
    };
    // The first group that cannot hold its share names the error.
    let group_error = groups.iter().find_map(|(members, share)| {
        let eligible = members.iter().filter(|i| mcaps[**i] > 0).count();
        if *share == 0 {
            None
        } else if eligible == 0 {
            Some(MethodologyError::Empty)
        } else if (eligible as u128) * (p.max_weight as u128) < *share as u128 {
            Some(MethodologyError::InfeasibleCap {
                eligible,
                cap: p.max_weight,
            })
        } else {
            None
        }
    });
    let limit = u128::MAX / (W as u128 * (tokens.len() as u128 + 1));
    let small = mcaps.iter().all(|m| *m <= limit);
    let rows = match (got, group_error) {
        (Err(e), Some(g)) if e == g => return Ok(()),
        (Err(MethodologyError::Math(MathError::Overflow)), _) if !small => return Ok(()),
        (Ok(rows), None) => rows,
        (got, g) => {
            return Err(format!(
                "{}: {got:?}, want {g:?} (small market caps: {small})",
                ctx()
            ))
        }
    };
    if rows.len() != tokens.len() {
        return Err(format!("{}: {} rows", ctx(), rows.len()));
    }
    for (members, share) in &groups {
        let sum: u128 = members.iter().map(|i| rows[*i].target as u128).sum();
        let capped: u128 = members.iter().map(|i| rows[*i].capped_weight as u128).sum();
        if sum != *share as u128 || capped != *share as u128 {
            return Err(format!(
                "{}: a group of share {share} sums to {sum} (capped {capped}): {rows:?}",
                ctx()
            ));
        }
    }
    for (i, (t, r)) in tokens.iter().zip(&rows).enumerate() {
        if r.ineligible != eligibility(t, p) {
            return Err(format!("{}: row {i} eligibility {:?}", ctx(), r.ineligible));
        }
        if r.target > p.max_weight || r.capped_weight > p.max_weight {
            return Err(format!("{}: row {i} above the cap: {r:?}", ctx()));
        }
        if r.ineligible.is_some()
            && (
                r.target,
                r.capped_weight,
                r.raw_weight,
                r.haircut,
                r.market_cap,
            ) != (0, 0, 0, 0, 0)
        {
            return Err(format!("{}: ineligible row {i} weighted: {r:?}", ctx()));
        }
        if r.market_cap != mcaps[i] {
            return Err(format!("{}: row {i} market cap {}", ctx(), r.market_cap));
        }
        let haircut = if t.unlock {
            r.capped_weight.saturating_sub(r.target)
        } else {
            0
        };
        if r.haircut != haircut || (t.unlock && r.target > r.capped_weight) {
            return Err(format!("{}: row {i} haircut: {r:?}", ctx()));
        }
    }
    Ok(())
}

fuzz_target!(|i: Input| {
    let p = params(&i);
    let tokens: Vec<TokenFacts> = i
        .tokens
        .iter()
        .map(|t| TokenFacts {
            price: t.price.get(),
            circulating_supply: t.supply.get(),
            avg_daily_volume_usd: t.volume as u128,
            depth_usd: t.depth.map(|d| d as u128),
            unlock: t.unlock,
            host: t.host,
        })
        .collect();
    must(check_targets(&tokens, &p));
    let values: Vec<u128> = i.values.iter().map(|v| v.get()).collect();
    let (total, cap) = if i.raw {
        (i.total, i.cap)
    } else {
        (i.total % (W + 1), 1 + i.cap % W)
    };
    must(check_distribute(&values, total, cap));
    must(check_distribute(&values, W, cap));
    let cw = capped_weights(&values, cap);
    if cw != distribute(&values, W, cap) {
        panic!("capped_weights({values:?}, {cap}) = {cw:?} differs from distribute at 100%");
    }
});
