// @aidx/client: the TypeScript client of the aidx index program for @solana/kit.
//
// - generated/ (Codama, from programs/aidx/idl/aidx.json): every account, instruction, type,
//   event payload and error, with codecs and builders; regenerate with `npm run generate`;
// - constants, addresses (index PDA, associated token accounts, Pyth push feeds), accounts
//   (the index and its rows), builders (in-kind legs as remaining accounts in table order),
//   math and quotes (the program's share math, slippage bounds), single (single-asset quotes
//   by simulation), nav (NAV and weights from stored prices), events (from transaction logs),
//   errors (the program's errors by name and message), tx (simulate, send and confirm).
export * from "./generated";
export * from "./constants";
export * from "./addresses";
export * from "./accounts";
export * from "./builders";
export * from "./math";
export * from "./quotes";
export * from "./single";
export * from "./nav";
export * from "./events";
export * from "./errors";
export * from "./tx";
