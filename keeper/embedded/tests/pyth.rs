//! Pyth's pull oracle on the embedded runtime: an accumulator update built and signed as Hermes
//! serves it (pythnet-sdk, its test guardians), posted by the keeper's plan through the emulated
//! Wormhole receiver, Pyth receiver and push oracle, gives fully verified prices the aidx oracle
//! gate accepts; a forged or foreign update is refused by name and writes nothing.

use aidx::oracle::{gate_update, OracleLimits};
use aidx_client::pull::{accumulator, plan, receiver};
use aidx_client::{Chain, DevChain as _};
use aidx_embedded::pyth::{EmuError, PYTHNET_EMITTER};
use aidx_embedded::Embedded;
use anchor_lang::prelude::Rent;
use anchor_lang::AnchorDeserialize;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use pythnet_sdk::messages::{Message, PriceFeedMessage};
use pythnet_sdk::test_utils::{create_accumulator_message, DataSource};
use solana_sdk::{
    instruction::InstructionError, signature::Keypair, signer::Signer,
    transaction::TransactionError,
};

fn message(feed: u8, price: i64, publish_time: i64) -> Message {
    Message::PriceFeedMessage(PriceFeedMessage {
        feed_id: [feed; 32],
        price,
        conf: price as u64 / 1_000,
        exponent: -8,
        publish_time,
        prev_publish_time: publish_time - 1,
        ema_price: price,
        ema_conf: price as u64 / 1_000,
    })
}

fn pythnet() -> Option<DataSource> {
    Some(DataSource {
        address: wormhole_sdk::Address(PYTHNET_EMITTER),
        chain: wormhole_sdk::Chain::Pythnet,
    })
}

/// Sends every transaction of `txs`, the VAA's keypair and `extra` signing where needed; the
/// first failure.
async fn send(
    chain: &mut Embedded,
    txs: &[plan::PlannedTx],
    signers: &[&Keypair],
) -> Result<(), TransactionError> {
    for t in txs {
        let r = chain
            .send_ixs_v0(&t.instructions, signers, &[])
            .await
            .unwrap();
        if let Err(f) = r {
            return Err(f.error);
        }
    }
    Ok(())
}

fn options(destination: plan::Destination) -> plan::Options {
    plan::Options {
        destination,
        treasury_id: 3,
        encoded_vaa_rent: 10_000_000,
        compute_unit_price: 1,
    }
}

async fn price_at(chain: &mut Embedded, key: &solana_sdk::pubkey::Pubkey) -> PriceUpdateV2 {
    let data = chain
        .get_account(key)
        .await
        .unwrap()
        .expect("a price account")
        .data;
    PriceUpdateV2::deserialize(&mut &data[8..]).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn posted_updates_are_fully_verified_and_pass_the_gate() {
    let mut chain = Embedded::start().await.unwrap();
    let now = chain.get_clock().await.unwrap().unix_timestamp;
    let payer = chain.payer_key();
    let (a, b) = (message(1, 500_00000000, now), message(2, 3_25000000, now));
    let bytes = create_accumulator_message(
        &[&a, &b, &message(3, 1, now)],
        &[&a, &b],
        false,
        false,
        pythnet(),
    );
    let acc = accumulator::parse(&bytes).unwrap();
    assert_eq!((acc.guardian_set_index, acc.signatures), (0, 13));

    // Into the push feeds (shard 0): the accounts the index refreshes from.
    let vaa = Keypair::new();
    let p = plan::plan(
        &payer,
        &acc,
        &vaa.pubkey(),
        &[],
        &options(plan::Destination::PushFeed { shard: 0 }),
    )
    .unwrap();
    send(&mut chain, &p.post, &[&vaa]).await.unwrap();
    for ((feed, key), m) in p.price_accounts.iter().zip([&a, &b]) {
        assert_eq!(*key, aidx_client::push_feed_address(0, feed));
        let update = price_at(&mut chain, key).await;
        let Message::PriceFeedMessage(m) = m else {
            unreachable!()
        };
        assert_eq!(update.price_message, *m);
        assert_eq!(update.verification_level, VerificationLevel::Full);
        assert_eq!(
            update.write_authority, *key,
            "a push feed is its own write authority"
        );
        let limits = OracleLimits {
            max_age_secs: 10,
            max_conf_bps: 200,
        };
        gate_update(&update, feed, limits, 0, now).expect("the oracle gate takes it");
    }
    // The treasury was paid a lamport per price; the VAA's account closes, its rent back to
    // the payer (who pays only the fees of the close).
    let treasury = pyth_solana_receiver_sdk::pda::get_treasury_address(3);
    let funded = chain
        .get_account(&treasury)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let rent = Rent::default().minimum_balance(0);
    assert_eq!(funded, rent + 2 * aidx_embedded::pyth::UPDATE_FEE_LAMPORTS);
    let vaa_lamports = chain
        .get_account(&vaa.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let payer_before = chain.get_account(&payer).await.unwrap().unwrap().lamports;
    send(&mut chain, &p.close, &[]).await.unwrap();
    assert!(chain.get_account(&vaa.pubkey()).await.unwrap().is_none());
    let payer_after = chain.get_account(&payer).await.unwrap().unwrap().lamports;
    assert!(payer_after > payer_before && payer_after <= payer_before + vaa_lamports);
    assert!(
        payer_before + vaa_lamports - payer_after < 100_000,
        "only the fee is spent"
    );

    // An older update for the same feed is skipped, not written.
    let old = message(1, 400_00000000, now - 5);
    let bytes = create_accumulator_message(&[&old], &[&old], false, false, pythnet());
    let acc_old = accumulator::parse(&bytes).unwrap();
    let vaa2 = Keypair::new();
    let p2 = plan::plan(
        &payer,
        &acc_old,
        &vaa2.pubkey(),
        &[],
        &options(plan::Destination::PushFeed { shard: 0 }),
    )
    .unwrap();
    send(&mut chain, &p2.post, &[&vaa2]).await.unwrap();
    assert_eq!(
        price_at(&mut chain, &aidx_client::push_feed_address(0, &[1; 32]))
            .await
            .price_message
            .price,
        500_00000000
    );

    // Into the payer's own accounts, then their rent reclaimed.
    let vaa3 = Keypair::new();
    let keys = [Keypair::new(), Keypair::new()];
    let pubkeys: Vec<_> = keys.iter().map(|k| k.pubkey()).collect();
    let p3 = plan::plan(
        &payer,
        &acc,
        &vaa3.pubkey(),
        &pubkeys,
        &options(plan::Destination::Accounts),
    )
    .unwrap();
    send(&mut chain, &p3.post, &[&vaa3, &keys[0], &keys[1]])
        .await
        .unwrap();
    let update = price_at(&mut chain, &pubkeys[1]).await;
    assert_eq!(
        (update.write_authority, update.verification_level),
        (payer, VerificationLevel::Full)
    );
    send(&mut chain, &p3.close, &[]).await.unwrap();
    for k in &pubkeys {
        assert!(chain.get_account(k).await.unwrap().is_none());
    }
}

fn refused(r: Result<(), TransactionError>, e: EmuError) {
    match r {
        Err(TransactionError::InstructionError(_, InstructionError::Custom(c))) => {
            assert_eq!(c, e as u32, "{e:?}")
        }
        other => panic!("expected {e:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn forged_or_foreign_updates_are_refused_by_name() {
    let mut chain = Embedded::start().await.unwrap();
    let now = chain.get_clock().await.unwrap().unix_timestamp;
    let payer = chain.payer_key();
    let a = message(1, 500_00000000, now);
    let push = options(plan::Destination::PushFeed { shard: 0 });

    // From an emitter that is not Pythnet's accumulator: verified by Wormhole, refused by Pyth.
    let bytes = create_accumulator_message(&[&a], &[&a], false, false, None);
    let acc = accumulator::parse(&bytes).unwrap();
    let vaa = Keypair::new();
    let p = plan::plan(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    send(&mut chain, &p.post[..p.post.len() - 1], &[&vaa])
        .await
        .unwrap();
    refused(
        send(&mut chain, &p.post[p.post.len() - 1..], &[&vaa]).await,
        EmuError::InvalidDataSource,
    );

    // A price the Merkle root does not prove (a message altered after signing).
    let bytes = create_accumulator_message(&[&a], &[&a], false, false, pythnet());
    let mut acc = accumulator::parse(&bytes).unwrap();
    let mut altered: Vec<u8> = acc.updates[0].merkle.message.clone().into();
    let at = altered.len() - 40;
    altered[at] ^= 1;
    acc.updates[0].merkle.message = altered.into();
    let vaa = Keypair::new();
    let p = plan::plan(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    refused(
        send(&mut chain, &p.post, &[&vaa]).await,
        EmuError::InvalidPriceUpdate,
    );

    // A VAA whose signature was tampered with: Wormhole refuses to verify it, nothing posts.
    let mut acc = accumulator::parse(&bytes).unwrap();
    acc.vaa[10] ^= 1;
    let vaa = Keypair::new();
    let p = plan::plan(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    refused(
        send(&mut chain, &p.post, &[&vaa]).await,
        EmuError::BadSignature,
    );
    assert!(chain
        .get_account(&aidx_client::push_feed_address(0, &[1; 32]))
        .await
        .unwrap()
        .is_none());

    // A price posted against a VAA written but never verified: refused, nothing written.
    let acc = accumulator::parse(&bytes).unwrap();
    let vaa = Keypair::new();
    let steps = plan::steps(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    let unverified: Vec<_> = steps
        .post
        .iter()
        .filter(|(ix, _, _)| ix.data[..8] != receiver::discriminator("verify_encoded_vaa_v1"))
        .map(|(ix, _, _)| ix.clone())
        .collect();
    let (writes, posts) = unverified.split_at(unverified.len() - acc.updates.len());
    for ix in writes {
        let r = chain
            .send_ixs(std::slice::from_ref(ix), &[&vaa])
            .await
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    let r = chain
        .send_ixs(posts, &[])
        .await
        .unwrap()
        .map(|_| ())
        .map_err(|f| f.error);
    refused(r, EmuError::BadVaaStatus);
    assert!(chain
        .get_account(&aidx_client::push_feed_address(0, &[1; 32]))
        .await
        .unwrap()
        .is_none());
    // Verified against an account that is not the guardian set's: refused.
    let vaa = Keypair::new();
    let steps = plan::steps(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    for (ix, _, _) in steps
        .post
        .iter()
        .take_while(|(ix, _, _)| ix.data[..8] != receiver::discriminator("verify_encoded_vaa_v1"))
    {
        let r = chain
            .send_ixs(std::slice::from_ref(ix), &[&vaa])
            .await
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    let mut verify = receiver::verify_encoded_vaa(&payer, &vaa.pubkey(), 0);
    verify.accounts[2].pubkey = aidx_client::pull::receiver::guardian_set_address(1);
    let r = chain
        .send_ixs(&[verify], &[])
        .await
        .unwrap()
        .map(|_| ())
        .map_err(|f| f.error);
    assert!(r.is_err(), "a guardian set that does not exist");

    // A write past the account, or by someone else, is refused.
    let stranger = Keypair::new();
    chain
        .airdrop(&stranger.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let vaa = Keypair::new();
    let acc = accumulator::parse(&bytes).unwrap();
    let p = plan::plan(&payer, &acc, &vaa.pubkey(), &[], &push).unwrap();
    send(&mut chain, &p.post[..1], &[&vaa]).await.unwrap();
    let ix = receiver::write_encoded_vaa(&stranger.pubkey(), &vaa.pubkey(), 0, &[1, 2, 3]);
    let r = chain
        .send_ixs(&[ix], &[&stranger])
        .await
        .unwrap()
        .map(|_| ())
        .map_err(|f| f.error);
    refused(r, EmuError::WrongAuthority);
    let ix = receiver::write_encoded_vaa(&payer, &vaa.pubkey(), acc.vaa.len() as u32, &[1]);
    let r = chain
        .send_ixs(&[ix], &[])
        .await
        .unwrap()
        .map(|_| ())
        .map_err(|f| f.error);
    refused(r, EmuError::WriteOutOfBounds);
}
