// The program's events from a transaction's log messages: every `Program data:` line the aidx
// program itself logged (following the invoke stack, as the Rust client does), decoded by the
// generated codecs after its 8-byte discriminator.
import { getBase64Encoder } from "@solana/kit";
import { AIDX_PROGRAM_ADDRESS } from "./constants";
import { AIDX_EVENTS, type AidxEvent, type AidxEventName } from "./generated/events";

/** A log line that is not what the program logs. */
export class EventDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EventDecodeError";
  }
}

/** The raw payloads (discriminator ++ borsh) the aidx program logged, in order. */
export function programData(logs: readonly string[], programAddress: string = AIDX_PROGRAM_ADDRESS): Uint8Array[] {
  const stack: string[] = [];
  const out: Uint8Array[] = [];
  for (const line of logs) {
    if (!line.startsWith("Program ")) continue;
    const rest = line.slice("Program ".length);
    if (rest.startsWith("data: ")) {
      if (stack[stack.length - 1] === programAddress) {
        const first = rest.slice("data: ".length).split(/\s+/)[0] ?? "";
        try {
          out.push(Uint8Array.from(getBase64Encoder().encode(first)));
        } catch {
          throw new EventDecodeError(`not base64: ${first}`);
        }
      }
      continue;
    }
    const [program, verb] = rest.split(/\s+/);
    if (verb === "invoke" && program) stack.push(program);
    else if ((verb === "success" || verb === "failed:") && stack[stack.length - 1] === program) stack.pop();
  }
  return out;
}

const entries = Object.entries(AIDX_EVENTS) as [AidxEventName, (typeof AIDX_EVENTS)[AidxEventName]][];

/** One logged payload as its event. */
export function decodeEvent(raw: Uint8Array): AidxEvent {
  for (const [name, { discriminator, decoder }] of entries) {
    if (raw.length >= 8 && discriminator.every((b, i) => raw[i] === b)) {
      const body = raw.subarray(8);
      let read: [unknown, number];
      try {
        read = decoder().read(body, 0);
      } catch (e) {
        throw new EventDecodeError(`${name}: ${(e as Error).message}`);
      }
      if (read[1] !== body.length) {
        throw new EventDecodeError(`${name}: ${body.length} bytes, the payload is ${read[1]}`);
      }
      return { name, data: read[0] } as AidxEvent;
    }
  }
  throw new EventDecodeError(`unknown event discriminator ${Array.from(raw.subarray(0, 8)).join(",")}`);
}

/** Every aidx event in a transaction's logs, in emission order. */
export function eventsFromLogs(logs: readonly string[]): AidxEvent[] {
  return programData(logs).map(decodeEvent);
}

/** The payload of the event named `N`. */
export type EventData<N extends AidxEventName> = Extract<AidxEvent, { name: N }>["data"];

/** The payloads of the events named `name`, in order. */
export function eventsNamed<N extends AidxEventName>(events: readonly AidxEvent[], name: N): EventData<N>[] {
  return events.filter((e) => e.name === name).map((e) => e.data as EventData<N>);
}
