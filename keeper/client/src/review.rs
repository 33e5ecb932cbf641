//! A methodology review as the methodology authority runs it: the universe's facts for every
//! row of the table, each with its rank among the universe's liquid tokens as the membership
//! rules rank them with the index's own members (what the program's review needs: the table
//! holds only part of the universe), posted in batches; then the targets recomputed.
//!
//! The plan also says what the rules want that the table cannot give: tokens the rules admit
//! that are not in the table (the admin adds them first: a row is a candidate until a review
//! admits it), and table rows the universe does not describe.

use crate::book::Book;
use crate::chain::Chain;
use crate::events::AidxEvent;
use crate::targets::input_row;
use crate::universe::Token;
use crate::{instructions as ix, price_feed_accounts};
use aidx::events::MethodologyInputRow;
use aidx::math::membership::{fill_to_cap, select_members, MemberState};
use aidx::state::{ConstituentStatus, Index};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use solana_sdk::signer::Signer;

/// One table row's part in the review.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewRow {
    /// Symbol from the book.
    pub symbol: String,
    /// Rank posted (0: not liquid).
    pub rank: u16,
    /// A member before the review.
    pub member: bool,
    /// What the rules decide: `enters`, `stays`, `exits` or `out`; `aside` for a row winding
    /// down or quarantined (left out of the review).
    pub decision: String,
}

/// What a review will post and what the rules decide.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewPlan {
    /// The rows posted, table order.
    #[serde(skip)]
    pub inputs: Vec<MethodologyInputRow>,
    /// Every table row.
    pub rows: Vec<ReviewRow>,
    /// Universe tokens the rules admit that are not in the table: the admin adds them first.
    pub entrants_outside: Vec<String>,
}

/// Plans a review of `index` (symbols from `book`) from `universe`: the table's rows take their
/// stored oracle price, the other tokens the universe's; every row that takes part must be in
/// the universe.
pub fn plan(index: &Index, book: &Book, universe: &[Token]) -> Result<ReviewPlan> {
    let rows = index.constituents();
    let row_of = |t: &Token| (0..rows.len()).find(|r| book.symbol(*r) == t.symbol);
    let aside = |r: usize| {
        rows[r].status == ConstituentStatus::WindingDown as u8 || rows[r].is_quarantined()
    };
    for r in 0..rows.len() {
        if !aside(r) && !universe.iter().any(|t| t.symbol == book.symbol(r)) {
            bail!(
                "{} is in the table but not in the universe: its inputs cannot be posted",
                book.symbol(r)
            );
        }
    }
    // The universe as the program's review sees it: a row winding down or quarantined is left
    // out of the decision (and so of the ranks, which count only the tokens that could take a
    // place); the table's rows at their stored oracle price.
    let considered: Vec<Token> = universe
        .iter()
        .filter(|t| row_of(t).is_none_or(|r| !aside(r)))
        .map(|t| match row_of(t) {
            Some(r) if rows[r].price > 0 => Token {
                price: rows[r].price as u128,
                ..t.clone()
            },
            _ => t.clone(),
        })
        .collect();
    let before: Vec<MemberState> = considered
        .iter()
        .map(|t| match row_of(t) {
            Some(r) => MemberState {
                member: rows[r].member == 1,
                reviews_under_entry: rows[r].reviews_under_entry,
            },
            None => MemberState::default(),
        })
        .collect();
    let facts: Vec<_> = considered.iter().map(Token::facts).collect();
    let methodology = index.params.methodology();
    let mut decisions = select_members(&facts, &before, &methodology, &index.params.membership())
        .map_err(|e| anyhow!("membership: {e}"))?;
    if index.params.max_members > 0 {
        fill_to_cap(&mut decisions, methodology.max_weight);
    }
    let mut inputs = vec![];
    let mut out_rows = vec![];
    for (r, c) in rows.iter().enumerate() {
        let k = considered.iter().position(|t| t.symbol == book.symbol(r));
        let posted = match k {
            Some(k) => Some(input_row(&considered[k], c.mint, decisions[k].rank)),
            // A row set aside still gets its facts posted (unranked): the review needs none.
            None => universe
                .iter()
                .find(|t| t.symbol == book.symbol(r))
                .map(|t| input_row(t, c.mint, None)),
        };
        if let Some(p) = posted {
            inputs.push(p);
        }
        out_rows.push(ReviewRow {
            symbol: book.symbol(r),
            rank: posted.map_or(0, |p| p.rank),
            member: c.member == 1,
            decision: match k {
                Some(k) if !aside(r) => decisions[k].verb().into(),
                _ => "aside".into(),
            },
        });
    }
    let entrants_outside = considered
        .iter()
        .zip(&decisions)
        .filter(|(t, d)| d.member && row_of(t).is_none())
        .map(|(t, _)| t.symbol.clone())
        .collect();
    Ok(ReviewPlan {
        inputs,
        rows: out_rows,
        entrants_outside,
    })
}

/// Plans the review and (unless `dry_run`) posts the inputs observed now, signed by the book's
/// wallet `signer` (the methodology authority), then refreshes the prices and recomputes the
/// targets (due, or opened by the admin); returns the plan and the events.
pub async fn run<C: Chain>(
    chain: &mut C,
    book: &Book,
    universe: &[Token],
    signer: &str,
    dry_run: bool,
) -> Result<(ReviewPlan, Vec<AidxEvent>)> {
    let key = book.index_key()?;
    let index = chain.load_index(&key).await?;
    let p = plan(&index, book, universe)?;
    if dry_run {
        return Ok((p, vec![]));
    }
    let authority = book.wallet(signer)?;
    let now = chain.get_clock().await?.unix_timestamp;
    let mut events = vec![];
    for post in ix::set_methodology_inputs_batched(&key, &authority.pubkey(), now, &p.inputs) {
        events.extend(chain.send_ixs_ok(&[post], &[&authority]).await?.events);
    }
    let feeds = price_feed_accounts(&index);
    let o = chain
        .send_ixs_ok(
            &[
                ix::refresh_prices(&key, &feeds),
                ix::recompute_targets(&key),
            ],
            &[],
        )
        .await?;
    events.extend(o.events);
    Ok((p, events))
}
