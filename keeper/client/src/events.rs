//! The program's events: decoding `discriminator ++ borsh` payloads into [`AidxEvent`], and
//! finding them in a transaction's log messages.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::{engine::general_purpose::STANDARD as B64, Engine};

/// Why a logged payload is not an aidx event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Shorter than an event discriminator.
    #[error("event payload of {0} bytes is shorter than a discriminator")]
    TooShort(usize),
    /// No event of the program has this discriminator.
    #[error("no aidx event has the discriminator {0:02x?}")]
    UnknownDiscriminator([u8; 8]),
    /// The discriminator names an event but the body does not decode to it exactly.
    #[error("{name} event payload does not decode: {reason}")]
    Malformed {
        /// The event the discriminator names.
        name: &'static str,
        /// What Borsh said, or the number of trailing bytes.
        reason: String,
    },
    /// A `Program data:` line that is not base64.
    #[error("`Program data:` line is not base64: {0}")]
    NotBase64(String),
}

/// `Some(Ok(event))` when `raw` carries `E`'s discriminator and decodes to it with nothing
/// left over, `Some(Err(..))` when it carries the discriminator but does not decode, `None`
/// when the discriminator is another's.
fn decode_as<E: AnchorDeserialize + Discriminator>(
    raw: &[u8],
    name: &'static str,
) -> Option<Result<E, EventError>> {
    let d = E::DISCRIMINATOR;
    if raw.len() < d.len() || &raw[..d.len()] != d {
        return None;
    }
    let mut body = &raw[d.len()..];
    Some(match E::deserialize(&mut body) {
        Ok(e) if body.is_empty() => Ok(e),
        Ok(_) => Err(EventError::Malformed {
            name,
            reason: format!("{} trailing bytes", body.len()),
        }),
        Err(e) => Err(EventError::Malformed {
            name,
            reason: e.to_string(),
        }),
    })
}

macro_rules! aidx_events {
    ($($name:ident),* $(,)?) => {
        /// Every event the program emits.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AidxEvent {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $name(aidx::events::$name),
            )*
        }

        impl AidxEvent {
            /// Decodes `discriminator ++ borsh` as written by the program's `sol_log_data`.
            pub fn try_decode(raw: &[u8]) -> Result<Self, EventError> {
                $(if let Some(e) = decode_as::<aidx::events::$name>(raw, stringify!($name)) {
                    return e.map(AidxEvent::$name);
                })*
                match raw.get(..8) {
                    Some(d) => Err(EventError::UnknownDiscriminator(d.try_into().unwrap_or_default())),
                    None => Err(EventError::TooShort(raw.len())),
                }
            }

            /// [`AidxEvent::try_decode`], `None` for anything that is not an aidx event.
            pub fn decode(raw: &[u8]) -> Option<Self> {
                Self::try_decode(raw).ok()
            }

            /// The event's name, as in the IDL.
            pub fn name(&self) -> &'static str {
                match self {
                    $(AidxEvent::$name(_) => stringify!($name),)*
                }
            }
        }

        $(impl Event for aidx::events::$name {
            fn of(e: &AidxEvent) -> Option<&Self> {
                match e {
                    AidxEvent::$name(x) => Some(x),
                    _ => None,
                }
            }
        })*
    };
}

/// One event type of the program, as found in an [`AidxEvent`].
pub trait Event: Clone {
    /// The event, when `e` is one of this type.
    fn of(e: &AidxEvent) -> Option<&Self>;
}

/// The events of type `E` among `events`, in order.
pub fn events_of<E: Event>(events: &[AidxEvent]) -> Vec<E> {
    events.iter().filter_map(E::of).cloned().collect()
}

aidx_events!(
    IndexInitialized,
    ConstituentAdded,
    MintedInKind,
    RedeemedInKind,
    PricesRefreshed,
    NavReported,
    MintedSingle,
    RedeemedSingle,
    MethodologyInputsSet,
    IndexOpened,
    ReviewOpened,
    TargetsRecomputed,
    ImbalanceStarted,
    ImbalanceCleared,
    BreachClock,
    RebalanceSwapped,
    FeesAccrued,
    FeesClaimed,
    ParamsUpdated,
    RolesUpdated,
    AdminProposed,
    AdminAccepted,
    PauseSet,
    ConstituentWindingDown,
    ConstituentRemoved,
    ShareSupplySynced,
    ConstituentQuarantined,
    ConstituentReleased,
    ConstituentWrittenOff,
);

/// The payloads of the `Program data:` lines that `program_id` itself logged, in order.
///
/// The logs are followed as a call stack, as anchor-client does: `Program <id> invoke [n]`
/// enters a program, `Program <id> success` or `Program <id> failed: ..` leaves it, and a data
/// line belongs to the program on top of the stack. A line logged by any other program in the
/// same transaction (one the index called, or one that called the index) is not returned.
pub fn program_data(logs: &[String], program_id: &Pubkey) -> Result<Vec<Vec<u8>>, EventError> {
    let id = program_id.to_string();
    let mut stack: Vec<&str> = vec![];
    let mut out = vec![];
    for line in logs {
        let Some(rest) = line.strip_prefix("Program ") else {
            continue;
        };
        if let Some(data) = rest.strip_prefix("data: ") {
            if stack.last() == Some(&id.as_str()) {
                let first = data.split_whitespace().next().unwrap_or_default();
                out.push(
                    B64.decode(first)
                        .map_err(|_| EventError::NotBase64(first.to_string()))?,
                );
            }
            continue;
        }
        let mut words = rest.split_whitespace();
        match (words.next(), words.next()) {
            (Some(program), Some("invoke")) => stack.push(program),
            (Some(program), Some("success")) | (Some(program), Some("failed:"))
                if stack.last() == Some(&program) =>
            {
                stack.pop();
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The aidx events of a transaction's log messages, decoded, each with its payload as logged.
/// A payload the program logged that is not one of its events is an error.
pub fn events_from_logs(logs: &[String]) -> Result<Vec<(AidxEvent, Vec<u8>)>, EventError> {
    program_data(logs, &aidx::ID)?
        .into_iter()
        .map(|raw| Ok((AidxEvent::try_decode(&raw)?, raw)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event as _;

    fn ev() -> aidx::events::ReviewOpened {
        aidx::events::ReviewOpened {
            index: Pubkey::new_from_array([3; 32]),
            at: 42,
        }
    }

    #[test]
    fn only_the_programs_own_data_lines_are_events() {
        let other = Pubkey::new_from_array([9; 32]);
        let spoof = aidx::events::ReviewOpened { at: 7, ..ev() };
        let logs = vec![
            format!("Program {other} invoke [1]"),
            // another program logs a well-formed aidx event before calling the index
            format!("Program data: {}", B64.encode(spoof.data())),
            format!("Program {} invoke [2]", aidx::ID),
            "Program log: Instruction: OpenReview".to_string(),
            format!("Program {other} invoke [3]"),
            format!("Program data: {}", B64.encode(spoof.data())),
            format!("Program {other} success"),
            format!("Program data: {}", B64.encode(ev().data())),
            format!("Program {} consumed 1234 of 200000 compute units", aidx::ID),
            format!("Program {} success", aidx::ID),
            format!("Program data: {}", B64.encode(spoof.data())),
            format!("Program {other} success"),
        ];
        let found = events_from_logs(&logs).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, AidxEvent::ReviewOpened(ev()));
        assert_eq!(found[0].1, ev().data());
    }

    #[test]
    fn payloads_that_are_not_events_are_named() {
        let full = ev().data();
        assert_eq!(
            AidxEvent::try_decode(&full[..full.len() - 1]),
            Err(EventError::Malformed {
                name: "ReviewOpened",
                reason: "Unexpected length of input".into()
            })
        );
        let mut long = full.clone();
        long.push(0);
        assert!(matches!(
            AidxEvent::try_decode(&long),
            Err(EventError::Malformed {
                name: "ReviewOpened",
                ..
            })
        ));
        assert_eq!(
            AidxEvent::try_decode(&[1, 2, 3]),
            Err(EventError::TooShort(3))
        );
        assert_eq!(
            AidxEvent::try_decode(&[0; 12]),
            Err(EventError::UnknownDiscriminator([0; 8]))
        );
        let logs = vec![
            format!("Program {} invoke [1]", aidx::ID),
            "Program data: !!!".to_string(),
        ];
        assert_eq!(
            program_data(&logs, &aidx::ID),
            Err(EventError::NotBase64("!!!".into()))
        );
    }
}
