//! Fetch, check and post: what a keeper runs before a trade on a cluster.

use super::hermes::{check_fresh, Hermes};
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
    /// The treasury the update fee goes to.
    pub treasury_id: u8,
    /// Compute-unit price, micro-lamports.
    pub compute_unit_price: u64,
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
                .saturating_sub(POSTING_MARGIN_SECS)
                .max(1),
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
    /// The receiver treasury the update fee goes to.
    pub treasury_id: u8,
    /// Compute-unit price, micro-lamports.
    pub compute_unit_price: u64,
    /// The oldest price accepted, seconds before the cluster's clock (a trade's
    /// `trade_max_age_secs` less the time posting takes).
    pub max_age_secs: u32,
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
}

/// Fetches the latest updates of `feeds` from `hermes`, refuses any older than
/// `options.max_age_secs` at the cluster's clock, and posts them fully verified into the push
/// feeds (shard 0), closing the VAA's account after; with `dry_run` nothing is sent and the
/// transactions are only planned. Any failure is named, and nothing after it is sent (a
/// VAA's account left open by a failed post is closed, best effort).
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
    let updates = hermes.latest(feeds).await?;
    let now = chain.get_clock().await?.unix_timestamp;
    check_fresh(&updates, feeds, now, options.max_age_secs)?;
    let payer = chain.fee_payer();
    let mut posted = Posted::default();
    for acc in &updates {
        let vaa = Keypair::new();
        let plan = plan::plan(
            &payer,
            acc,
            &vaa.pubkey(),
            &[],
            &plan::Options {
                destination: options.destination,
                treasury_id: options.treasury_id,
                encoded_vaa_rent: Rent::default().minimum_balance(encoded_vaa_space(acc.vaa.len())),
                compute_unit_price: options.compute_unit_price,
            },
        )?;
        for u in &acc.updates {
            if feeds.contains(&u.price.feed_id) {
                posted
                    .publish_times
                    .push((u.price.feed_id, u.price.publish_time));
            }
        }
        if dry_run {
            posted
                .transactions
                .extend(plan.post.iter().chain(&plan.close).map(SentTx::from));
            continue;
        }
        let mut created = false;
        for t in &plan.post {
            match chain.send_ixs_v0(&t.instructions, &[&vaa], &[]).await {
                Ok(Ok(out)) => {
                    created = true;
                    let mut s = SentTx::from(t);
                    s.signature = out.signature.map(|s| s.to_string());
                    posted.transactions.push(s);
                }
                failed => {
                    if created {
                        let _ = send_all(chain, &plan.close, &vaa).await;
                    }
                    let why = match failed {
                        Ok(Err(f)) => f.to_string(),
                        Err(e) => e.to_string(),
                        Ok(Ok(_)) => unreachable!(),
                    };
                    return Err(anyhow!(
                        "posting Pyth prices failed at \"{}\": {why}",
                        t.label
                    ));
                }
            }
        }
        posted
            .transactions
            .extend(send_all(chain, &plan.close, &vaa).await?);
    }
    Ok(posted)
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
