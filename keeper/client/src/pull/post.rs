//! Fetch, check and post: what a keeper runs before a trade on a cluster.

use super::accumulator::Accumulator;
use super::hermes::{check_fresh, Hermes, HermesError};
use super::plan::{self, Destination, PlannedTx};
use super::receiver::encoded_vaa_space;
use crate::chain::Chain;
use anyhow::{anyhow, Result};
use solana_sdk::{rent::Rent, signature::Keypair, signer::Signer};

/// Seconds a keeper leaves between a price's publication and its trade for the posting itself
/// (four or five transactions on a cluster): it posts only prices at most
/// `trade_max_age_secs` less this old.
pub const POSTING_MARGIN_SECS: u32 = 4;

/// A keeper's Pyth poster: its Hermes and how it posts.
#[derive(Clone, Debug)]
pub struct Poster {
    /// Where updates come from.
    pub hermes: Hermes,
    /// The treasury the update fee goes to (none: one at random each post, as Pyth's SDK).
    pub treasury_id: Option<u8>,
    /// Compute-unit price, micro-lamports.
    pub compute_unit_price: u64,
    /// Seconds left between a price's publication and its trade for the posting itself
    /// (default [`POSTING_MARGIN_SECS`]).
    pub margin_secs: u32,
}

impl Poster {
    /// Posts the latest prices of every feed a trade on `index` values (its refresh feeds) into
    /// their push feeds, each published within the index's trade age less
    /// [`POSTING_MARGIN_SECS`]; with `dry_run`, plans only.
    pub async fn post_for_index<C: Chain>(
        &self,
        chain: &mut C,
        index: &aidx::state::Index,
        dry_run: bool,
    ) -> Result<Posted> {
        let feeds = crate::address::refresh_feed_ids(index);
        let options = PostOptions {
            destination: Destination::PushFeed { shard: 0 },
            treasury_id: self.treasury_id,
            compute_unit_price: self.compute_unit_price,
            max_age_secs: (index.params.trade_max_age_secs as u32)
                .saturating_sub(self.margin_secs)
                .max(1),
            trade_max_age_secs: Some(index.params.trade_max_age_secs as u32),
        };
        post_latest(chain, &self.hermes, &feeds, &options, dry_run).await
    }
}

/// How the keeper posts.
#[derive(Clone, Copy, Debug)]
pub struct PostOptions {
    /// Where the prices go (the push feeds of shard 0 by default: the accounts the index
    /// refreshes from).
    pub destination: Destination,
    /// The receiver treasury the update fee goes to (none: one at random each post).
    pub treasury_id: Option<u8>,
    /// Compute-unit price, micro-lamports.
    pub compute_unit_price: u64,
    /// The oldest price accepted, seconds before the cluster's clock (a trade's
    /// `trade_max_age_secs` less the time posting takes).
    pub max_age_secs: u32,
    /// The trade's own limit: after posting, a price older than this at the cluster's clock
    /// is refused before any trade (none: not checked).
    pub trade_max_age_secs: Option<u32>,
}

/// One transaction the keeper sent (or would send).
#[derive(Clone, Debug)]
pub struct SentTx {
    /// What it did.
    pub label: String,
    /// Its size, bytes.
    pub bytes: usize,
    /// Its compute-unit limit.
    pub compute_units: u32,
    /// Its signature, once sent.
    pub signature: Option<String>,
}

impl From<&PlannedTx> for SentTx {
    fn from(t: &PlannedTx) -> Self {
        SentTx {
            label: t.label.clone(),
            bytes: t.bytes,
            compute_units: t.compute_units,
            signature: None,
        }
    }
}

/// What posting did: every transaction in order, and the newest publish time per feed.
#[derive(Clone, Debug, Default)]
pub struct Posted {
    /// The transactions, posting then closing.
    pub transactions: Vec<SentTx>,
    /// Each feed's publish time as posted.
    pub publish_times: Vec<([u8; 32], i64)>,
    /// What went wrong without failing the post (a VAA's account not closed).
    pub warnings: Vec<String>,
}

/// Fetches the latest updates of `feeds` from `hermes`, refuses any older than
/// `options.max_age_secs` at the cluster's clock, and posts them fully verified into the push
/// feeds (shard 0), closing the VAA's account after; with `dry_run` nothing is sent and the
/// transactions are only planned. Only the requested feeds are posted (the newest update of
/// each). Any failure is named, and nothing after it is sent; the VAA's account is closed
/// whatever happened once its creation may have been sent (best effort: a close that fails is
/// reported in [`Posted::warnings`], not as a failure of the post).
pub async fn post_latest<C: Chain>(
    chain: &mut C,
    hermes: &Hermes,
    feeds: &[[u8; 32]],
    options: &PostOptions,
    dry_run: bool,
) -> Result<Posted> {
    let Destination::PushFeed { .. } = options.destination else {
        return Err(anyhow!(
            "a keeper posts into the push feeds the index refreshes from; posting into its own accounts is for clients that pass them to refresh_prices"
        ));
    };
    let mut posted = Posted::default();
    if feeds.is_empty() {
        return Ok(posted);
    }
    let updates = only_requested(hermes.latest(feeds).await?, feeds);
    let now = chain.get_clock().await?.unix_timestamp;
    check_fresh(&updates, feeds, now, options.max_age_secs)?;
    let payer = chain.fee_payer();
    for acc in &updates {
        let vaa = Keypair::new();
        let plan = plan::plan(
            &payer,
            acc,
            &vaa.pubkey(),
            &[],
            &plan::Options {
                destination: options.destination,
                // Pyth's SDK spreads posts over the 256 treasuries (their write locks) at
                // random; so does the keeper unless told one.
                treasury_id: options.treasury_id.unwrap_or(vaa.pubkey().to_bytes()[0]),
                encoded_vaa_rent: Rent::default().minimum_balance(encoded_vaa_space(acc.vaa.len())),
                compute_unit_price: options.compute_unit_price,
            },
        )?;
        for u in &acc.updates {
            posted
                .publish_times
                .push((u.price.feed_id, u.price.publish_time));
        }
        if dry_run {
            posted
                .transactions
                .extend(plan.post.iter().chain(&plan.close).map(SentTx::from));
            continue;
        }
        for (k, t) in plan.post.iter().enumerate() {
            match chain.send_ixs_v0(&t.instructions, &[&vaa], &[]).await {
                Ok(Ok(out)) => {
                    let mut s = SentTx::from(t);
                    s.signature = out.signature.map(|s| s.to_string());
                    posted.transactions.push(s);
                }
                failed => {
                    // The first transaction creates the VAA's account: once it was sent, even
                    // with an unknown outcome, close it (a close of nothing fails harmlessly).
                    let sent = k > 0 || failed.is_err();
                    if sent {
                        if let Err(e) = send_all(chain, &plan.close, &vaa).await {
                            posted.warnings.push(format!(
                                "the VAA's account {} was not closed: {e}",
                                vaa.pubkey()
                            ));
                        }
                    }
                    let why = match failed {
                        Ok(Err(f)) => f.to_string(),
                        Err(e) => format!("{e:#}"),
                        Ok(Ok(_)) => unreachable!(),
                    };
                    return Err(anyhow!(
                        "posting Pyth prices failed at \"{}\": {why}",
                        t.label
                    ));
                }
            }
        }
        match send_all(chain, &plan.close, &vaa).await {
            Ok(closed) => posted.transactions.extend(closed),
            Err(e) => posted.warnings.push(format!(
                "the VAA's account {} was not closed: {e:#}",
                vaa.pubkey()
            )),
        }
    }
    if !dry_run {
        // Posting takes several transactions: a price that aged past the trade's limit while
        // they landed would only make the trade fail after paying for it.
        let after = chain.get_clock().await?.unix_timestamp;
        if let Some(limit) = options.trade_max_age_secs {
            if let Some((feed, t)) = posted
                .publish_times
                .iter()
                .copied()
                .min_by_key(|(_, t)| *t)
                .filter(|(_, t)| after.saturating_sub(*t) > limit as i64)
            {
                return Err(HermesError::Stale {
                    feed: hex::encode(feed),
                    publish_time: t,
                    age: after.saturating_sub(t),
                    max_age: limit,
                }
                .into());
            }
        }
    }
    Ok(posted)
}

/// Each requested feed's newest price, every other dropped; accumulators left with nothing
/// dropped.
fn only_requested(updates: Vec<Accumulator>, feeds: &[[u8; 32]]) -> Vec<Accumulator> {
    let newest = |f: &[u8; 32]| {
        updates
            .iter()
            .flat_map(|a| &a.updates)
            .filter(|u| u.price.feed_id == *f)
            .map(|u| u.price.publish_time)
            .max()
    };
    let wanted: Vec<([u8; 32], Option<i64>)> = feeds.iter().map(|f| (*f, newest(f))).collect();
    let mut taken: Vec<[u8; 32]> = vec![];
    updates
        .into_iter()
        .map(|mut a| {
            a.updates.retain(|u| {
                let f = u.price.feed_id;
                let keep = !taken.contains(&f)
                    && wanted
                        .iter()
                        .any(|(w, t)| *w == f && *t == Some(u.price.publish_time));
                if keep {
                    taken.push(f);
                }
                keep
            });
            a
        })
        .filter(|a| !a.updates.is_empty())
        .collect()
}

async fn send_all<C: Chain>(
    chain: &mut C,
    txs: &[PlannedTx],
    vaa: &Keypair,
) -> Result<Vec<SentTx>> {
    let mut out = vec![];
    for t in txs {
        let r = chain.send_ixs_v0(&t.instructions, &[vaa], &[]).await?;
        let o = r.map_err(|f| anyhow!("\"{}\" failed: {f}", t.label))?;
        let mut s = SentTx::from(t);
        s.signature = o.signature.map(|s| s.to_string());
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::accumulator::PriceUpdate;
    use pythnet_sdk::messages::PriceFeedMessage;
    use pythnet_sdk::wire::v1::MerklePriceUpdate;

    fn update(feed: u8, publish_time: i64) -> PriceUpdate {
        PriceUpdate {
            merkle: MerklePriceUpdate {
                message: vec![feed].into(),
                proof: pythnet_sdk::accumulators::merkle::MerklePath::new(vec![]),
            },
            price: PriceFeedMessage {
                feed_id: [feed; 32],
                price: 1,
                conf: 0,
                exponent: -8,
                publish_time,
                prev_publish_time: publish_time - 1,
                ema_price: 1,
                ema_conf: 0,
            },
        }
    }

    fn acc(updates: Vec<PriceUpdate>) -> Accumulator {
        Accumulator {
            vaa: vec![],
            guardian_set_index: 0,
            signatures: 0,
            updates,
        }
    }

    #[test]
    fn only_the_requested_feeds_are_posted_the_newest_of_each_once() {
        // Feed 9 was not asked for; feed 1 comes twice, the second newer; feed 2 twice at the
        // same time.
        let got = only_requested(
            vec![
                acc(vec![update(1, 10), update(9, 10), update(2, 10)]),
                acc(vec![update(1, 12), update(2, 10)]),
                acc(vec![update(9, 11)]),
            ],
            &[[1; 32], [2; 32]],
        );
        let kept: Vec<Vec<(u8, i64)>> = got
            .iter()
            .map(|a| {
                a.updates
                    .iter()
                    .map(|u| (u.price.feed_id[0], u.price.publish_time))
                    .collect()
            })
            .collect();
        assert_eq!(kept, vec![vec![(2, 10)], vec![(1, 12)]]);
    }
}
