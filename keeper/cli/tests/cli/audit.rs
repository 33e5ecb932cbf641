//! `aidx audit` on the demo's final state passes, replays the history from events exactly, and
//! names each invariant when it is corrupted (accounts edited with `set_account`).

use aidx::state::Index;
use aidx_cli::chart::audit_svg as chart;
use aidx_client::audit::audit;
use aidx_client::replay::replay;
use aidx_client::Book;
use aidx_embedded::Embedded;
use anchor_lang::Discriminator;
use solana_sdk::pubkey::Pubkey;

async fn write_index(chain: &mut Embedded, key: &Pubkey, index: &Index) {
    let mut acc = chain.account(key).await.unwrap().unwrap();
    let mut data = Index::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(index));
    acc.data[..data.len()].copy_from_slice(&data);
    chain.set_account(key, acc);
}

async fn patch(chain: &mut Embedded, key: &Pubkey, offset: usize, bytes: &[u8]) {
    let mut acc = chain.account(key).await.unwrap().unwrap();
    acc.data[offset..offset + bytes.len()].copy_from_slice(bytes);
    chain.set_account(key, acc);
}

async fn rules(chain: &mut Embedded, book: &Book, events: bool) -> Vec<&'static str> {
    audit(chain, book, events)
        .await
        .unwrap()
        .violations
        .iter()
        .map(|v| v.rule)
        .collect()
}

#[tokio::test]
async fn the_demo_passes_and_replays_exactly() {
    let (mut chain, book) = crate::demo_chain("audit-pass").await;
    let report = audit(&mut chain, &book, true).await.unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.events_replayed.unwrap() > 20);
    assert_eq!(report.rows.len(), 17);
    // The replay reproduces the final state exactly.
    let key = book.index_key().unwrap();
    let index = chain.index(&key).await.unwrap();
    let r = replay(&chain.event_log, &key).expect("every logged event replays");
    assert_eq!(
        r.balances,
        index
            .constituents()
            .iter()
            .map(|c| c.balance)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        r.targets,
        index
            .constituents()
            .iter()
            .map(|c| c.target_weight)
            .collect::<Vec<_>>()
    );
    assert_eq!(r.share_supply, index.share_supply);
    assert_eq!(r.params, Some(index.params));
    // The chart has a row per constituent and its legend.
    let svg = chart(&report);
    assert!(
        svg.starts_with("<svg")
            && svg.contains("TAO")
            && svg.contains("INJ")
            && svg.contains("cap")
    );
}

#[tokio::test]
async fn each_corrupted_invariant_is_named() {
    let (mut chain, book) = crate::demo_chain("audit-corrupt").await;
    let key = book.index_key().unwrap();
    let clean = chain.index(&key).await.unwrap();
    assert!(rules(&mut chain, &book, true).await.is_empty());

    // A vault holding less than the index accounts for.
    let vault = clean.constituents()[0].vault;
    let amount = clean.constituents()[0].balance - 1;
    patch(&mut chain, &vault, 64, &amount.to_le_bytes()).await;
    assert_eq!(rules(&mut chain, &book, false).await, ["vault-balance"]);
    patch(&mut chain, &vault, 64, &(amount + 1).to_le_bytes()).await;

    // A vault owned by someone else.
    patch(&mut chain, &vault, 32, Pubkey::new_unique().as_ref()).await;
    assert_eq!(rules(&mut chain, &book, false).await, ["vault-ownership"]);
    patch(&mut chain, &vault, 32, key.as_ref()).await;

    // Share supply out of step with the mint (the replay sees it too).
    let mut bad = clean;
    bad.share_supply += 1;
    write_index(&mut chain, &key, &bad).await;
    assert_eq!(
        rules(&mut chain, &book, true).await,
        ["share-supply", "replay-supply"]
    );

    // Targets that do not sum to one after a review.
    let mut bad = clean;
    bad.constituents[3].target_weight += 7;
    write_index(&mut chain, &key, &bad).await;
    assert_eq!(
        rules(&mut chain, &book, true).await,
        ["targets-sum", "replay-targets"]
    );

    // A weight over the cap with no rebalance open: SOL's balance (index and vault) doubled.
    let mut bad = clean;
    let sol = book.row_of("SOL").unwrap();
    bad.constituents[sol].balance *= 2;
    bad.imbalance_started_at = 0;
    write_index(&mut chain, &key, &bad).await;
    let sol_vault = clean.constituents()[sol].vault;
    patch(
        &mut chain,
        &sol_vault,
        64,
        &bad.constituents[sol].balance.to_le_bytes(),
    )
    .await;
    assert_eq!(
        rules(&mut chain, &book, true).await,
        ["weight-over-cap", "replay-balances"]
    );
    // ...which is not a violation while a rebalance is open.
    bad.imbalance_started_at = 1;
    write_index(&mut chain, &key, &bad).await;
    assert_eq!(rules(&mut chain, &book, false).await, Vec::<&str>::new());
    patch(
        &mut chain,
        &sol_vault,
        64,
        &clean.constituents()[sol].balance.to_le_bytes(),
    )
    .await;

    // Fees accrued in the future.
    let mut bad = clean;
    bad.last_fee_accrual_at = chain.clock().await.unwrap().unix_timestamp + 1_000;
    write_index(&mut chain, &key, &bad).await;
    assert_eq!(rules(&mut chain, &book, false).await, ["fee-accrual"]);

    // A structural break: the same mint twice in the table.
    let mut bad = clean;
    bad.constituents[1].mint = bad.constituents[0].mint;
    write_index(&mut chain, &key, &bad).await;
    let found = rules(&mut chain, &book, false).await;
    assert!(
        found.contains(&"structure") && found.contains(&"vault-address"),
        "{found:?}"
    );

    // The share mint's authority moved away from the index (mint_authority at offset 4).
    write_index(&mut chain, &key, &clean).await;
    patch(
        &mut chain,
        &clean.share_mint,
        4,
        Pubkey::new_unique().as_ref(),
    )
    .await;
    assert_eq!(
        rules(&mut chain, &book, false).await,
        ["share-mint-authority"]
    );
    patch(&mut chain, &clean.share_mint, 4, key.as_ref()).await;

    // Dead shares gone.
    patch(&mut chain, &clean.dead_shares, 64, &0u64.to_le_bytes()).await;
    assert_eq!(rules(&mut chain, &book, false).await, ["dead-shares"]);
    patch(&mut chain, &clean.dead_shares, 64, &1_000u64.to_le_bytes()).await;

    // Fee shares that the events do not account for.
    patch(&mut chain, &clean.fee_shares, 64, &5u64.to_le_bytes()).await;
    assert_eq!(rules(&mut chain, &book, true).await, ["fee-accounting"]);
    patch(&mut chain, &clean.fee_shares, 64, &0u64.to_le_bytes()).await;

    // Back to clean.
    assert!(rules(&mut chain, &book, true).await.is_empty());
}
