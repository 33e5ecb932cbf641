//! Index membership at a review: at most `N` constituents, chosen by circulating market-cap rank
//! among the liquid tokens, with a rank buffer and liquidity hysteresis, so that borderline
//! names do not enter and leave every quarter.
//!
//! The rules follow how index providers keep a top-N index stable. FTSE Russell's UK series
//! promotes a company into the FTSE 100 when it ranks 90th or higher and removes one that falls
//! to 111th or lower, filling or trimming to 100 from the ranks in between (a buffer of 10% of
//! N on each side); crypto index providers such as Bitwise and MarketVector apply the same idea
//! with buffer zones around the cut-off. Here, with `N = max_constituents` and `b =
//! rank_buffer`:
//!
//! 1. **Liquid**: a token not in the index must be eligible at the entry floor
//!    (`MethodologyParams::min_volume_usd`, $5M, and the depth floor); a member stays liquid while
//!    its volume is at least `exit_volume_usd` ($4M) and it has not been under the entry floor
//!    at `reviews_under_entry` (2) reviews in a row, this one included. Depth and a market cap
//!    are required of both.
//! 2. **Rank** the liquid tokens by circulating market cap, largest first (ties: table order).
//! 3. A member ranked at most `N + b` **stays**; one ranked lower **exits**. A newcomer ranked at
//!    most `N - b` **enters**.
//! 4. More than `N`: the members ranked below `N` leave, lowest first, until `N` remain (they
//!    make way for mandatory entrants). Fewer than `N`: the best-ranked liquid newcomers **fill**
//!    the index up to `N`.
//!
//! With `N = 0` there is no count: every liquid token is in. The first review (no members yet)
//! takes the top `N`. Integer-only and deterministic: the program and the keeper run this same
//! code.

use super::methodology::{eligibility, Ineligible, MethodologyParams, TokenFacts};
use super::MathError;

/// The membership rules' parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipParams {
    /// At most this many constituents (0: no limit).
    pub max_constituents: usize,
    /// Ranks of buffer on each side of `max_constituents`.
    pub rank_buffer: usize,
    /// Whole USD: a member whose average daily volume falls below this leaves at once.
    pub exit_volume_usd: u128,
    /// A member under the entry floor at this many reviews in a row leaves (0: never for this).
    pub reviews_under_entry: u8,
}

impl MembershipParams {
    /// The index's defaults (`IndexParams::default().membership()`): 20 members, so that the
    /// table ([`crate::state::MAX_CONSTITUENTS`] = 24 rows, what one in-kind transaction holds)
    /// keeps room for entrants while exits wind down; a buffer of 2 ranks (about 10% of N, as
    /// FTSE's 90/110 rule); leave at once under $4M, or after two reviews in a row under the
    /// entry floor.
    pub const fn index_default() -> Self {
        MembershipParams {
            max_constituents: crate::state::DEFAULT_MAX_MEMBERS as usize,
            rank_buffer: crate::state::DEFAULT_RANK_BUFFER as usize,
            exit_volume_usd: DEFAULT_EXIT_VOLUME_USD,
            reviews_under_entry: DEFAULT_REVIEWS_UNDER_ENTRY,
        }
    }
}

/// $4M: the volume under which a member leaves at once.
pub const DEFAULT_EXIT_VOLUME_USD: u128 = 4_000_000;
/// Two reviews in a row under the entry floor make a member leave.
pub const DEFAULT_REVIEWS_UNDER_ENTRY: u8 = 2;

/// What a token was before the review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberState {
    /// In the index.
    pub member: bool,
    /// Reviews in a row, before this one, at which its volume was under the entry floor.
    pub reviews_under_entry: u8,
}

/// Why a token is, or is not, in the index after the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Ranked at most `N - b`.
    TopRank,
    /// A member ranked at most `N + b`.
    WithinBuffer,
    /// Taken to fill the index up to `N`.
    Filled,
    /// A member ranked below `N + b`.
    BeyondBuffer,
    /// A member within the buffer but below `N`, making way for mandatory entrants.
    MadeWay,
    /// A newcomer ranked below `N - b`, not needed to fill.
    RankTooLow,
    /// A member whose volume is under the exit floor.
    BelowExitFloor,
    /// A member under the entry floor at too many reviews in a row.
    UnderEntryFloorTooLong,
    /// Not eligible (a newcomer under the entry floor, thin depth, no market cap).
    NotEligible(Ineligible),
    /// No count and liquid: in.
    NoLimit,
}

/// A token's membership after the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// In the index after the review.
    pub member: bool,
    /// Was it before.
    pub was_member: bool,
    /// Why.
    pub why: Why,
    /// Its rank among the liquid tokens (1 = largest), if liquid.
    pub rank: Option<usize>,
    /// Reviews in a row, this one included, under the entry floor (its new state).
    pub reviews_under_entry: u8,
}

impl Decision {
    /// `enters`, `stays`, `exits` or `out`.
    pub fn verb(&self) -> &'static str {
        match (self.was_member, self.member) {
            (false, true) => "enters",
            (true, true) => "stays",
            (true, false) => "exits",
            (false, false) => "out",
        }
    }
}

/// When the members are too few for the cap (fewer than `1 / max_weight`: the methodology
/// could not weight them, and the review would fail), the best-ranked liquid tokens not in
/// are admitted (`Filled`) until they are enough, whatever places the rules left for tokens
/// outside `decisions` (posted ranks): a review must always be able to complete. Returns how
/// many were admitted.
pub fn fill_to_cap(decisions: &mut [Decision], max_weight: u64) -> usize {
    let need = if max_weight == 0 {
        0
    } else {
        crate::math::WEIGHT_SCALE.div_ceil(max_weight) as usize
    };
    let mut order: Vec<usize> = (0..decisions.len())
        .filter(|i| !decisions[*i].member && decisions[*i].rank.is_some())
        .collect();
    order.sort_by_key(|i| decisions[*i].rank);
    let mut admitted = 0;
    for i in order {
        if decisions.iter().filter(|d| d.member).count() >= need {
            break;
        }
        decisions[i].member = true;
        decisions[i].why = Why::Filled;
        admitted += 1;
    }
    admitted
}

/// Why posted ranks cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankError {
    /// A liquid token (the index at `.0` in the input) has no rank (0).
    Missing(usize),
    /// Two liquid tokens (the second at `.0`) share a rank.
    Duplicate(usize),
    /// Arithmetic.
    Math(MathError),
}

impl From<MathError> for RankError {
    fn from(e: MathError) -> Self {
        RankError::Math(e)
    }
}

/// The membership of every token after a review, from its facts and its state before; the
/// liquid tokens are ranked by their circulating market cap.
pub fn select_members(
    tokens: &[TokenFacts],
    before: &[MemberState],
    p: &MethodologyParams,
    m: &MembershipParams,
) -> Result<Vec<Decision>, MathError> {
    select(tokens, before, None, p, m).map_err(|e| match e {
        RankError::Math(m) => m,
        _ => MathError::Overflow,
    })
}

/// [`select_members`] with the liquid tokens ranked as `ranks` says (1 = largest; 0 = none):
/// what the program runs, the table holding only part of the universe the ranks are taken in
/// (the methodology authority posts each row's rank with its inputs). Every token these rules
/// find liquid must have a rank, and no two the same.
pub fn select_members_by_rank(
    tokens: &[TokenFacts],
    before: &[MemberState],
    ranks: &[u16],
    p: &MethodologyParams,
    m: &MembershipParams,
) -> Result<Vec<Decision>, RankError> {
    select(tokens, before, Some(ranks), p, m)
}

fn select(
    tokens: &[TokenFacts],
    before: &[MemberState],
    ranks: Option<&[u16]>,
    p: &MethodologyParams,
    m: &MembershipParams,
) -> Result<Vec<Decision>, RankError> {
    if before.len() != tokens.len() || ranks.is_some_and(|r| r.len() != tokens.len()) {
        return Err(MathError::Overflow.into());
    }
    let n = m.max_constituents;
    let mut out: Vec<Decision> = Vec::with_capacity(tokens.len());
    let mut liquid: Vec<(usize, u128)> = vec![];
    for (i, (t, s)) in tokens.iter().zip(before).enumerate() {
        let under_entry = t.avg_daily_volume_usd < p.min_volume_usd;
        let streak = if under_entry {
            s.reviews_under_entry.saturating_add(1)
        } else {
            0
        };
        let mut d = Decision {
            member: false,
            was_member: s.member,
            why: Why::RankTooLow,
            rank: None,
            reviews_under_entry: streak,
        };
        // Depth and market cap for everyone; volume at the entry floor for newcomers, with
        // hysteresis for members.
        let floor_free = MethodologyParams {
            min_volume_usd: 0,
            ..*p
        };
        let why_not = match eligibility(t, &floor_free) {
            Some(e) => Some(Why::NotEligible(e)),
            None if !s.member && under_entry => Some(Why::NotEligible(Ineligible::Volume)),
            None if s.member && t.avg_daily_volume_usd < m.exit_volume_usd => {
                Some(Why::BelowExitFloor)
            }
            None if s.member && m.reviews_under_entry > 0 && streak >= m.reviews_under_entry => {
                Some(Why::UnderEntryFloorTooLong)
            }
            None => None,
        };
        match why_not {
            Some(w) => d.why = w,
            None => {
                let cap = t
                    .price
                    .checked_mul(t.circulating_supply)
                    .ok_or(MathError::Overflow)?;
                liquid.push((i, cap));
            }
        }
        out.push(d);
    }
    match ranks {
        // Largest first; ties to the earlier row.
        None => {
            liquid.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (r, (i, _)) in liquid.iter().enumerate() {
                out[*i].rank = Some(r + 1);
            }
        }
        // As posted: best rank first.
        Some(ranks) => {
            for (i, _) in &liquid {
                if ranks[*i] == 0 {
                    return Err(RankError::Missing(*i));
                }
                out[*i].rank = Some(ranks[*i] as usize);
            }
            liquid.sort_by_key(|(i, _)| ranks[*i]);
            if let Some(w) = liquid.windows(2).find(|w| ranks[w[0].0] == ranks[w[1].0]) {
                return Err(RankError::Duplicate(w[1].0));
            }
        }
    }
    if n == 0 {
        for (i, _) in &liquid {
            out[*i].member = true;
            out[*i].why = Why::NoLimit;
        }
        return Ok(out);
    }
    let enter_at = n.saturating_sub(m.rank_buffer);
    let stay_at = n.saturating_add(m.rank_buffer);
    for (i, _) in &liquid {
        let d = &mut out[*i];
        let rank = d.rank.unwrap_or(usize::MAX);
        if d.was_member {
            (d.member, d.why) = match rank <= stay_at {
                true => (
                    true,
                    if rank <= enter_at {
                        Why::TopRank
                    } else {
                        Why::WithinBuffer
                    },
                ),
                false => (false, Why::BeyondBuffer),
            };
        } else if rank <= enter_at {
            (d.member, d.why) = (true, Why::TopRank);
        }
    }
    // Too many: the members ranked below N make way, lowest first.
    let count = |out: &[Decision]| out.iter().filter(|d| d.member).count();
    for (i, _) in liquid.iter().rev() {
        if count(&out) <= n {
            break;
        }
        let d = &mut out[*i];
        if d.member && d.rank.is_some_and(|r| r > n) {
            (d.member, d.why) = (false, Why::MadeWay);
        }
    }
    // Too few: the best-ranked liquid tokens not in fill up to N. A token fills when fewer
    // tokens that could fill (liquid, not in, not made way) rank above it than there are
    // places left; they are counted from its rank, so that with ranks taken in a universe
    // larger than `tokens` (posted ranks) the tokens outside take their places too.
    let left = n.saturating_sub(count(&out));
    let taken: Vec<(usize, bool)> = liquid
        .iter()
        .map(|(i, _)| {
            let d = &out[*i];
            (
                d.rank.unwrap_or(usize::MAX),
                d.member || matches!(d.why, Why::MadeWay),
            )
        })
        .collect();
    for (k, (i, _)) in liquid.iter().enumerate() {
        let (rank, is_taken) = taken[k];
        if is_taken {
            continue;
        }
        let taken_above = taken.iter().filter(|(r, t)| *t && *r < rank).count();
        let could_fill_above = rank.saturating_sub(1).saturating_sub(taken_above);
        if could_fill_above < left {
            let d = &mut out[*i];
            (d.member, d.why) = (true, Why::Filled);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::USD_SCALE;

    fn token(cap_musd: u128, volume_musd: u128) -> TokenFacts {
        TokenFacts {
            price: USD_SCALE,
            circulating_supply: cap_musd * 1_000_000,
            avg_daily_volume_usd: volume_musd * 1_000_000,
            depth_usd: None,
            unlock: false,
            host: false,
        }
    }

    fn params() -> (MethodologyParams, MembershipParams) {
        (
            MethodologyParams {
                max_weight: 150_000_000,
                unlock_haircut: 0,
                pure_play_share: 0,
                min_volume_usd: 5_000_000,
                min_depth_usd: 500_000,
            },
            MembershipParams {
                max_constituents: 4,
                rank_buffer: 1,
                exit_volume_usd: DEFAULT_EXIT_VOLUME_USD,
                reviews_under_entry: DEFAULT_REVIEWS_UNDER_ENTRY,
            },
        )
    }

    /// Liquid tokens ($10M a day) of these market caps, $M.
    fn tokens(caps_musd: &[u128]) -> Vec<TokenFacts> {
        caps_musd.iter().map(|c| token(*c, 10)).collect()
    }

    /// `N` tokens' states, the first `k` members.
    fn first_members<const N: usize>(k: usize) -> [MemberState; N] {
        let mut s = [MemberState::default(); N];
        for st in s.iter_mut().take(k) {
            st.member = true;
        }
        s
    }

    fn members(d: &[Decision]) -> Vec<usize> {
        (0..d.len()).filter(|i| d[*i].member).collect()
    }

    #[test]
    fn the_first_review_takes_the_top_n() {
        let (p, m) = params();
        let t = tokens(&[60, 50, 40, 30, 20, 10]);
        let d = select_members(&t, &[MemberState::default(); 6], &p, &m).unwrap();
        assert_eq!(members(&d), vec![0, 1, 2, 3]);
        assert_eq!(d[3].why, Why::Filled);
        assert_eq!(d[4].why, Why::RankTooLow);
        assert_eq!(d[0].verb(), "enters");
    }

    #[test]
    fn a_member_within_the_buffer_stays_and_a_newcomer_needs_rank_n_minus_b() {
        let (p, m) = params();
        // Member 3 fell to rank 5 (= N + b): it stays; newcomer 4 at rank 4 (> N - b = 3) does
        // not enter.
        let t = tokens(&[60, 50, 40, 25, 30, 10]);
        let s = first_members::<6>(4);
        let d = select_members(&t, &s, &p, &m).unwrap();
        assert_eq!(members(&d), vec![0, 1, 2, 3]);
        assert_eq!((d[3].why, d[3].rank), (Why::WithinBuffer, Some(5)));
        assert_eq!((d[4].why, d[4].verb()), (Why::RankTooLow, "out"));
        // Past the buffer (rank 6), it exits and the best newcomer fills.
        let t = tokens(&[60, 50, 40, 5, 30, 10]);
        let d = select_members(&t, &s, &p, &m).unwrap();
        assert_eq!(members(&d), vec![0, 1, 2, 4]);
        assert_eq!((d[3].why, d[3].verb()), (Why::BeyondBuffer, "exits"));
        assert_eq!((d[4].why, d[4].verb()), (Why::Filled, "enters"));
    }

    #[test]
    fn a_mandatory_entrant_makes_the_lowest_member_below_n_make_way() {
        let (p, m) = params();
        // Newcomer 5 jumps to rank 1; member 3 is at rank 5, within the buffer, but the index
        // would hold five.
        let t = tokens(&[60, 50, 40, 20, 10, 70]);
        let s = first_members::<6>(4);
        let d = select_members(&t, &s, &p, &m).unwrap();
        assert_eq!(members(&d), vec![0, 1, 2, 5]);
        assert_eq!(d[3].why, Why::MadeWay);
        assert_eq!(d[5].why, Why::TopRank);
    }

    #[test]
    fn liquidity_has_hysteresis() {
        let (p, m) = params();
        let mut s = first_members::<5>(4);
        // Member 1 at $4.5M: under the $5M entry floor once, above the $4M exit floor: stays.
        let mut t = vec![
            token(60, 10),
            token(50, 10),
            token(40, 10),
            token(30, 10),
            token(20, 10),
        ];
        t[1].avg_daily_volume_usd = 4_500_000;
        let d = select_members(&t, &s, &p, &m).unwrap();
        assert!(d[1].member);
        assert_eq!(d[1].reviews_under_entry, 1);
        // The second review in a row under $5M: it exits.
        s[1].reviews_under_entry = 1;
        let d = select_members(&t, &s, &p, &m).unwrap();
        assert_eq!(
            (d[1].member, d[1].why),
            (false, Why::UnderEntryFloorTooLong)
        );
        // Under $4M: it exits at once, whatever its streak.
        let mut t2 = t.clone();
        t2[1].avg_daily_volume_usd = 3_900_000;
        s[1].reviews_under_entry = 0;
        let d = select_members(&t2, &s, &p, &m).unwrap();
        assert_eq!((d[1].member, d[1].why), (false, Why::BelowExitFloor));
        // A newcomer at $4.5M is not eligible at all.
        let mut t3 = t.clone();
        t3[4].avg_daily_volume_usd = 4_500_000;
        t3[4].circulating_supply = 100_000_000_000;
        let d = select_members(&t3, &s, &p, &m).unwrap();
        assert_eq!(
            (d[4].member, d[4].why),
            (false, Why::NotEligible(Ineligible::Volume))
        );
    }

    /// Two borderline names trade places around rank N every review, and one hovers around the
    /// liquidity floor: with buffers nobody enters or leaves after the first review; without
    /// them (B = 0, no hysteresis) the index churns every quarter.
    #[test]
    fn borderline_names_do_not_whipsaw() {
        let (p, m) = params();
        let bare = MembershipParams {
            rank_buffer: 0,
            exit_volume_usd: p.min_volume_usd,
            reviews_under_entry: 1,
            ..m
        };
        let changes = |m: &MembershipParams| {
            let mut state = [MemberState::default(); 6];
            let mut churn = 0;
            for review in 0..8u128 {
                // Tokens 3 and 4 swap ranks 4 and 5; token 2's volume alternates $4.5M / $6M.
                let (c3, c4) = if review % 2 == 0 { (31, 29) } else { (29, 31) };
                let mut t: Vec<_> = [60, 50, 40, c3, c4, 10]
                    .iter()
                    .map(|c| token(*c, 10))
                    .collect();
                t[2].avg_daily_volume_usd = if review % 2 == 0 {
                    6_000_000
                } else {
                    4_500_000
                };
                let d = select_members(&t, &state, &p, m).unwrap();
                if review > 0 {
                    churn += d.iter().filter(|x| x.member != x.was_member).count();
                }
                for (s, x) in state.iter_mut().zip(&d) {
                    *s = MemberState {
                        member: x.member,
                        reviews_under_entry: x.reviews_under_entry,
                    };
                }
            }
            churn
        };
        assert_eq!(changes(&m), 0);
        assert!(changes(&bare) >= 7 * 2, "{}", changes(&bare));
    }

    #[test]
    fn no_limit_takes_every_liquid_token() {
        let (p, mut m) = params();
        m.max_constituents = 0;
        let t = tokens(&[60, 50, 40, 30, 20, 10]);
        let d = select_members(&t, &[MemberState::default(); 6], &p, &m).unwrap();
        assert_eq!(members(&d).len(), 6);
    }

    #[test]
    fn posted_ranks_decide_as_computed_ranks_do_and_see_the_whole_universe() {
        let (p, m) = params();
        // Consistent ranks give the computed decisions.
        let t = tokens(&[60, 50, 40, 5, 30, 10]);
        let s = first_members::<6>(4);
        let computed = select_members(&t, &s, &p, &m).unwrap();
        let ranks: Vec<u16> = computed.iter().map(|d| d.rank.unwrap() as u16).collect();
        assert_eq!(
            select_members_by_rank(&t, &s, &ranks, &p, &m).unwrap(),
            computed
        );
        // The table holds four members; the universe ranks the fourth 6th (> N + b = 5):
        // tokens outside the table outrank it, and it exits, though 4th in the table.
        let t = tokens(&[60, 50, 40, 30]);
        let s = first_members::<4>(4);
        let d = select_members_by_rank(&t, &s, &[1, 2, 3, 6], &p, &m).unwrap();
        assert_eq!(
            (d[3].member, d[3].why, d[3].rank),
            (false, Why::BeyondBuffer, Some(6))
        );
        assert!(select_members(&t, &s, &p, &m).unwrap()[3].member);
        // A liquid token without a rank, or two with one: named errors.
        assert_eq!(
            select_members_by_rank(&t, &s, &[1, 2, 0, 6], &p, &m),
            Err(RankError::Missing(2))
        );
        assert_eq!(
            select_members_by_rank(&t, &s, &[1, 2, 2, 6], &p, &m),
            Err(RankError::Duplicate(2))
        );
        // An illiquid token's rank is not needed.
        let mut t = tokens(&[60, 50, 40, 30]);
        t[3].avg_daily_volume_usd = 1;
        assert!(select_members_by_rank(&t, &s, &[1, 2, 3, 0], &p, &m).is_ok());
        // With room (N = 6), a newcomer at universe rank 6 fills only if the tokens that could
        // fill above it (ranks 4 and 5, outside the table) leave a place: one place, no.
        let m6 = MembershipParams {
            max_constituents: 6,
            ..m
        };
        let t = tokens(&[60, 50, 40, 30, 20]);
        let s = first_members::<5>(3);
        let d = select_members_by_rank(&t, &s, &[1, 2, 3, 6, 9], &p, &m6).unwrap();
        // Members 0-2 stay; three places: ranks 4, 5 (outside) and 6 take them; 9 does not.
        assert_eq!(members(&d), vec![0, 1, 2, 3]);
        assert_eq!((d[3].why, d[4].why), (Why::Filled, Why::RankTooLow));
        let d = select_members_by_rank(&t, &s, &[1, 2, 3, 7, 9], &p, &m6).unwrap();
        assert_eq!(members(&d), vec![0, 1, 2]);
    }
}
