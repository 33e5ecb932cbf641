// The aidx program through the clients users use: @solana/web3.js and Anchor with the committed
// IDL, against `aidx localnet` (JSON-RPC and PubSub). scripts/test-app starts the node from the
// demo's final state on a 7-token universe and passes its URLs, index and a wallet here.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import anchor from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, type AccountMeta } from "@solana/web3.js";

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run scripts/test-app)`);
  return v;
};

const idl = JSON.parse(fs.readFileSync(new URL("../../programs/aidx/idl/aidx.json", import.meta.url), "utf8"));
const connection = new Connection(env("AIDX_RPC_URL"), { wsEndpoint: env("AIDX_WS_URL"), commitment: "confirmed" });
const wallet = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(fs.readFileSync(env("AIDX_WALLET"), "utf8"))));
const provider = new anchor.AnchorProvider(connection, new anchor.Wallet(wallet), { commitment: "confirmed" });
const program = new anchor.Program(idl, provider);
const indexKey = new PublicKey(env("AIDX_INDEX"));
const BN = anchor.BN;

const TOKEN = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const TOKEN_2022 = new PublicKey("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
const ASSOCIATED = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const ata = (owner: PublicKey, mint: PublicKey, tokenProgram: PublicKey): PublicKey =>
  PublicKey.findProgramAddressSync([owner.toBuffer(), tokenProgram.toBuffer(), mint.toBuffer()], ASSOCIATED)[0];

/** The index and its rows, decoded by Anchor from the zero-copy account. */
async function loadIndex() {
  const index: any = await (program.account as any).index.fetch(indexKey);
  return { index, rows: index.constituents.slice(0, index.numConstituents) as any[] };
}

/** One leg per row, table order: (vault, holder account), the mint first when the row needs it. */
function legs(rows: any[]): AccountMeta[] {
  const out: AccountMeta[] = [];
  for (const c of rows) {
    if (c.legAccounts === 3) out.push({ pubkey: c.mint, isSigner: false, isWritable: false });
    out.push({ pubkey: c.vault, isSigner: false, isWritable: true });
    out.push({ pubkey: ata(wallet.publicKey, c.mint, c.tokenProgram), isSigner: false, isWritable: true });
  }
  return out;
}

/** The program's events in a confirmed transaction's logs, by Anchor's EventParser. */
async function eventsOf(signature: string) {
  const tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  assert.ok(tx?.meta?.logMessages, "the transaction and its logs");
  assert.equal(tx.meta.err, null);
  const parser = new anchor.EventParser(program.programId, new anchor.BorshCoder(idl));
  return [...parser.parseLogs(tx.meta.logMessages)];
}

const ONE_SHARE = 1_000_000_000;

// web3.js keeps its PubSub socket open: close it so the test process can end.
after(() => (connection as any)._rpcWebSocket?.close());

test("Anchor decodes the index, mints and redeems in kind, and parses the events", async () => {
  const { index, rows } = await loadIndex();
  assert.equal(rows.length, 7);
  const supply0 = BigInt(index.shareSupply.toString());
  assert.ok(supply0 > 0n);
  const accounts = {
    holder: wallet.publicKey,
    index: indexKey,
    shareMint: index.shareMint,
    holderShares: ata(wallet.publicKey, index.shareMint, TOKEN),
    tokenProgram: TOKEN,
    token2022Program: TOKEN_2022,
    feeShares: index.feeShares,
  };

  // Mint one share in kind: sent with .rpc(), confirmed over PubSub.
  const maxIn = rows.map(() => new BN("18446744073709551615"));
  const minted = await program.methods
    .mintInKind({ shares: new BN(ONE_SHARE), maxAmountsIn: maxIn, minSharesOut: new BN(0) })
    .accountsStrict({ ...accounts, deadShares: index.deadShares })
    .remainingAccounts(legs(rows))
    .rpc();
  const [m, ...more] = await eventsOf(minted);
  assert.equal(more.length, 0);
  assert.equal(m.name, "MintedInKind");
  const d: any = m.data;
  assert.equal(BigInt(d.shares.toString()) + BigInt(d.fee_shares.toString()), BigInt(ONE_SHARE));
  assert.equal(d.holder.toBase58(), wallet.publicKey.toBase58());
  const after = await loadIndex();
  assert.equal(after.index.shareSupply.toString(), d.share_supply_after.toString());
  assert.equal(BigInt(d.share_supply_after.toString()), supply0 + BigInt(ONE_SHARE));
  assert.deepEqual(
    after.rows.map((c: any) => c.balance.toString()),
    d.balances_after.map((b: any) => b.toString()),
  );
  for (let i = 0; i < rows.length; i++) {
    assert.equal(
      BigInt(after.rows[i].balance.toString()) - BigInt(rows[i].balance.toString()),
      BigInt(d.amounts_in[i].toString()),
    );
  }

  // Redeem half a share in kind.
  const redeemed = await program.methods
    .redeemInKind({ shares: new BN(ONE_SHARE / 2), minAmountsOut: rows.map(() => new BN(0)), skipMask: 0 })
    .accountsStrict(accounts)
    .remainingAccounts(legs(rows))
    .rpc();
  const [r] = await eventsOf(redeemed);
  assert.equal(r.name, "RedeemedInKind");
  const rd: any = r.data;
  assert.equal(rd.shares.toString(), String(ONE_SHARE / 2));
  const last = await loadIndex();
  assert.equal(last.index.shareSupply.toString(), rd.share_supply_after.toString());
  assert.ok(rd.amounts_out.every((x: any) => BigInt(x.toString()) > 0n));
});
